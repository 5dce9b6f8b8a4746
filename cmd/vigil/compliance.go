package main

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/cadence"
	"github.com/vigil-sec/vigil/internal/client"
)

type complianceOptions struct {
	tags      []string
	rulesFile string
	version   string
	output    string
	maxAge    time.Duration
}

// complianceReport is the report of `vigil compliance`.
type complianceReport struct {
	Time    time.Time     `json:"time"`
	Tags    []string      `json:"tags"`
	Sensors int           `json:"sensors"`
	Passed  bool          `json:"passed"`
	Failed  int           `json:"failed"`
	Checks  []checkResult `json:"checks"`
}

func newComplianceCmd() *cobra.Command {
	var api apiFlags
	var o complianceOptions
	cmd := &cobra.Command{
		Use:   "compliance [--tag env:production]... [--require-rules FILE] [--output table|json|junit]",
		Short: "Check every matching sensor has the required rules and logging (a recent heartbeat); report for CI",
		Long: `For every sensor carrying all --tag values, checks:
  logging   the sensor sent a heartbeat within --max-heartbeat-age (it is shipping)
  rules     every rule named in --require-rules is in force for it
  version   it runs --version (only when given)
The report is a table, JSON, or JUnit XML (--output junit: one test case per sensor
and check, for the test report view of GitHub Actions, GitLab or Jenkins).

Detections play no part in these checks, whatever their status: a compliant
fleet is one that is watched with the required rules. To fail a pipeline on
detections use vigil gate, which counts new and acknowledged detections and
leaves out those resolved or marked false positive.

Exit codes: 0 compliant, 1 a check failed (or no sensor matched), 2 usage or
configuration error, 3 the API could not be reached.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkTags(o.tags); err != nil {
				return err
			}
			if err := checkOutput(o.output, "table", "json", "junit"); err != nil {
				return err
			}
			if o.maxAge <= 0 {
				return usageError(errors.New("compliance: --max-heartbeat-age must be positive"))
			}
			var required []string
			if o.rulesFile != "" {
				var err error
				if required, err = readRuleNames(o.rulesFile); err != nil {
					return err
				}
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			rep, err := runCompliance(c.Context(), cl, o, required)
			if err != nil {
				return apiFailure(err)
			}
			if err := printCompliance(c.OutOrStdout(), rep, o.output); err != nil {
				return err
			}
			switch {
			case rep.Sensors == 0:
				return fmt.Errorf("compliance: no sensor carries %s", strings.Join(o.tags, " and "))
			case !rep.Passed:
				return fmt.Errorf("compliance: %d of %d checks failed", rep.Failed, len(rep.Checks))
			}
			return nil
		},
	}
	api.register(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&o.tags, "tag", nil, "only sensors with this tag K:V (repeatable: all must match; default every sensor)")
	f.StringVar(&o.rulesFile, "require-rules", "", "file of rule names that must be in force, one per line")
	f.StringVar(&o.version, "version", "", "sensor version every sensor must run")
	f.DurationVar(&o.maxAge, "max-heartbeat-age", cadence.Stale, "a sensor is logging when its last heartbeat is at most this old")
	f.StringVarP(&o.output, "output", "o", "table", "table, json or junit")
	return cmd
}

func runCompliance(ctx context.Context, cl *client.Client, o complianceOptions, required []string) (*complianceReport, error) {
	ss, err := cl.Sensors(ctx, o.tags...)
	if err != nil {
		return nil, err
	}
	rules, err := rulesCheck(ctx, cl, required)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rep := &complianceReport{Time: now.UTC(), Tags: o.tags, Sensors: len(ss), Checks: []checkResult{}}
	if rep.Tags == nil {
		rep.Tags = []string{}
	}
	for _, s := range ss {
		for _, c := range sensorChecks(s, now, o.maxAge, o.version) {
			if c.Check == "heartbeat" {
				c.Check = "logging"
			}
			rep.Checks = append(rep.Checks, c)
		}
		if len(required) > 0 {
			r := rules
			r.SensorID, r.Hostname = s.SensorID, s.Hostname
			rep.Checks = append(rep.Checks, r)
		}
	}
	rep.Failed = len(failures(rep.Checks))
	rep.Passed = rep.Failed == 0 && len(ss) > 0
	return rep, nil
}

// JUnit XML as CI systems read it (the Ant/Surefire schema).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func printCompliance(w io.Writer, rep *complianceReport, output string) error {
	switch output {
	case "json":
		return writeJSONOut(w, rep)
	case "junit":
		suite := junitSuite{Name: "vigil compliance", Timestamp: rep.Time.Format("2006-01-02T15:04:05"), Cases: []junitCase{}}
		if len(rep.Tags) > 0 {
			suite.Name += " " + strings.Join(rep.Tags, " ")
		}
		if rep.Sensors == 0 {
			rep.Checks = append(rep.Checks, checkResult{Check: "sensors", Detail: "no sensor matched " + strings.Join(rep.Tags, " ")})
		}
		for _, c := range rep.Checks {
			class := "vigil.compliance"
			if c.SensorID != "" {
				class += "." + c.SensorID
			}
			jc := junitCase{Name: c.Check, Classname: class}
			if c.Hostname != "" {
				jc.Name = c.Check + " (" + c.Hostname + ")"
			}
			if c.Passed {
				jc.SystemOut = c.Detail
			} else {
				jc.Failure = &junitFailure{Message: c.Detail, Type: c.Check, Text: c.Detail}
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, jc)
		}
		suite.Tests = len(suite.Cases)
		doc := junitSuites{Name: "vigil", Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
		if _, err := io.WriteString(w, xml.Header); err != nil {
			return err
		}
		enc := xml.NewEncoder(w)
		enc.Indent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	}
	fmt.Fprintf(w, "compliance %s: %d sensors, %d checks, %d failed\n", map[bool]string{true: "PASSED", false: "FAILED"}[rep.Passed], rep.Sensors, len(rep.Checks), rep.Failed)
	printChecks(w, rep.Checks)
	return nil
}
