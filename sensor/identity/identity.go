package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Options configures Resolve.
type Options struct {
	// SensorID, if set, is used as is (the configuration's sensor_id).
	SensorID string
	// Tags are the configuration's static tags (K:V).
	Tags []string
	// IMDS says when the instance metadata service is asked: IMDSAuto (the
	// zero value) only when OnEC2 says so, IMDSOn always, IMDSOff never.
	// InstanceTags adds the instance's EC2 tags.
	IMDS         IMDSMode
	InstanceTags bool
	// SysDir is the sysfs root OnEC2 reads; default /sys.
	SysDir string
	// Endpoint of the metadata service; default AWS_EC2_METADATA_SERVICE_ENDPOINT,
	// else http://169.254.169.254.
	Endpoint string
	// Timeout bounds all IMDS calls together; default 3s.
	Timeout time.Duration
	// MachineIDPath defaults to /etc/machine-id.
	MachineIDPath string
}

// Identity is who the sensor is.
type Identity struct {
	SensorID string
	Source   string // "config", "imds", "machine-id" or "hostname"
	Hostname string
	Tags     []string

	InstanceID, InstanceType, AvailabilityZone, Region, AccountID string

	// EC2 and Platform are what OnEC2 said; IMDSQueried whether the metadata
	// service was asked.
	EC2         bool
	Platform    string
	IMDSQueried bool
	// Notes say, for the log, why the metadata service was or was not asked
	// and what could not be looked up; none is fatal.
	Notes []string
}

// IMDSMode says when Resolve asks the instance metadata service.
type IMDSMode int

// The IMDS modes.
const (
	IMDSAuto IMDSMode = iota // on EC2 only, as DMI tells (OnEC2)
	IMDSOn                   // always: a container without /sys/class/dmi, …
	IMDSOff                  // never
)

func (m IMDSMode) String() string {
	switch m {
	case IMDSOn:
		return "true"
	case IMDSOff:
		return "false"
	}
	return "auto"
}

// Resolve works out the sensor's identity and tags.
func Resolve(ctx context.Context, o Options) (Identity, error) {
	id := Identity{Tags: append([]string(nil), o.Tags...)}
	id.Hostname, _ = os.Hostname()
	id.EC2, id.Platform = OnEC2(o.SysDir)
	if ask, why := decide(o.IMDS, id.EC2, id.Platform); !ask {
		id.Notes = append(id.Notes, why+": instance metadata not queried")
	} else {
		id.IMDSQueried = true
		id.Notes = append(id.Notes, why+": instance metadata (IMDSv2) queried")
		if err := fromIMDS(ctx, o, &id); err != nil {
			id.Notes = append(id.Notes, fmt.Sprintf("instance metadata (IMDSv2) unavailable: %v", err))
		}
	}
	switch {
	case o.SensorID != "":
		id.SensorID, id.Source = o.SensorID, "config"
	case id.InstanceID != "":
		id.SensorID, id.Source = id.InstanceID, "imds"
	default:
		path := o.MachineIDPath
		if path == "" {
			path = "/etc/machine-id"
		}
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) != "" {
			id.SensorID, id.Source = strings.TrimSpace(string(b)), "machine-id"
		} else if id.Hostname != "" {
			id.SensorID, id.Source = id.Hostname, "hostname"
			id.Notes = append(id.Notes, fmt.Sprintf("no %s: the sensor id is the host name", path))
		} else {
			return id, errors.New("identity: no sensor id: not on EC2, no machine id, no host name; set sensor_id")
		}
	}
	return id, nil
}

// decide says whether the metadata service is asked, and why.
func decide(mode IMDSMode, ec2 bool, platform string) (bool, string) {
	if strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		return false, "AWS_EC2_METADATA_DISABLED=true"
	}
	switch {
	case mode == IMDSOff:
		return false, "imds: false in the configuration"
	case mode == IMDSOn && !ec2:
		return true, fmt.Sprintf("imds: true in the configuration, though not EC2 (%s)", platform)
	case mode == IMDSOn:
		return true, fmt.Sprintf("imds: true in the configuration; EC2 (%s)", platform)
	case ec2:
		return true, fmt.Sprintf("EC2 (%s)", platform)
	}
	return false, fmt.Sprintf("not EC2 (%s)", platform)
}

func fromIMDS(ctx context.Context, o Options, id *Identity) error {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")
	}
	client := imds.New(imds.Options{
		Endpoint:       endpoint,
		EnableFallback: aws.FalseTernary, // IMDSv2 only
		Retryer:        retry.AddWithMaxAttempts(retry.NewStandard(), 2),
	})
	doc, err := client.GetInstanceIdentityDocument(ctx, &imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		return err
	}
	id.InstanceID, id.InstanceType, id.AvailabilityZone = doc.InstanceID, doc.InstanceType, doc.AvailabilityZone
	id.Region, id.AccountID = doc.Region, doc.AccountID
	auto := []string{"instance_id:" + doc.InstanceID, "instance_type:" + doc.InstanceType,
		"az:" + doc.AvailabilityZone, "region:" + doc.Region, "account:" + doc.AccountID}
	if o.InstanceTags {
		tags, err := instanceTags(ctx, client)
		if err != nil {
			id.Notes = append(id.Notes, fmt.Sprintf("instance tags unavailable (enable instance metadata tags on the instance): %v", err))
		}
		auto = append(auto, tags...)
	}
	id.Tags = merge(id.Tags, auto)
	return nil
}

func get(ctx context.Context, c *imds.Client, path string) (string, error) {
	out, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
	if err != nil {
		return "", err
	}
	defer out.Content.Close()
	b, err := io.ReadAll(io.LimitReader(out.Content, 64<<10))
	return string(b), err
}

func instanceTags(ctx context.Context, c *imds.Client) ([]string, error) {
	keys, err := get(ctx, c, "tags/instance")
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range strings.SplitSeq(strings.TrimSpace(keys), "\n") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		v, err := get(ctx, c, "tags/instance/"+k)
		if err != nil {
			return out, err
		}
		// K:V splits at the first colon: keep EC2 keys like aws:autoscaling:groupName whole
		out = append(out, strings.ReplaceAll(k, ":", ".")+":"+strings.TrimSpace(v))
	}
	return out, nil
}

// merge appends the tags of auto whose key static does not already have.
func merge(static, auto []string) []string {
	have := map[string]bool{}
	for _, t := range static {
		k, _, _ := strings.Cut(t, ":")
		have[k] = true
	}
	out := static
	for _, t := range auto {
		k, v, _ := strings.Cut(t, ":")
		if !have[k] && v != "" {
			have[k] = true
			out = append(out, t)
		}
	}
	return out
}
