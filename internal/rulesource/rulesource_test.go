package rulesource

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testcheck"
	"github.com/vigil-sec/vigil/rules"
)

func names(rs []*engine.Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func lines[T interface{ String() string }](xs []T) string {
	var b strings.Builder
	for _, x := range xs {
		b.WriteString(x.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestLoad loads source lists over testdata and checks the set.
func TestLoad(t *testing.T) {
	mixed := filepath.Join("testdata", "mixed")
	tests := []struct {
		name     string
		opts     Options
		rules    []string // exactly these rules run (nil: not checked)
		has      []string // these run among others
		disabled []string
		summary  []string // substrings of the sources' summaries, in order
		changes  []string // substrings of the changes
		warnings []string // substrings of the warnings
		errs     []string // substrings of the error; none when empty
	}{
		{
			name:     "a tree of Vigil, Falco and Sigma files with lists and tuning",
			opts:     Options{Paths: []string{mixed}},
			rules:    []string{"fetch_to_ip", "interpreter_reads_ssh_keys", "sensitive_file_access", "unexpected_network_connection"},
			disabled: []string{"tool_from_tmp"},
			summary:  []string{"testdata/mixed: 5 rules (2 vigil, 2 falco, 1 sigma), 1 lists file, 1 tuning file"},
			changes: []string{
				`testdata/mixed/tuning.yaml:5: rule sensitive_file_access: exception backup_agent: event/FILE_PATH is "/opt/backup/bin/agent" and event/USER is "backup"`,
				"testdata/mixed/tuning.yaml:9: rule tool_from_tmp: disabled",
				"testdata/mixed/tuning.yaml:12: rule interpreter_reads_ssh_keys: severity high → critical",
			},
			warnings: []string{`proc_creation_lnx_windows_only.yml:6: warning: not converted: rule "A Windows Rule In A Linux Tree": logsource product "windows"`},
		},
		{
			name:    "the pack and the tree are one set; the tree's files may be given one by one",
			opts:    Options{Pack: rules.FS, Paths: []string{filepath.Join(mixed, "falco", "user_rules.yaml"), filepath.Join(mixed, "sigma")}},
			has:     []string{"reverse_shell_netcat", "sensitive_file_access", "interpreter_reads_ssh_keys"},
			summary: []string{"builtin: ", " rules (vigil), 1 lists file", "testdata/mixed/falco/user_rules.yaml: 2 rules (falco)", "testdata/mixed/sigma: 1 rules (sigma)"},
		},
		{
			name:    "a Vigil rule given alone brings its directory's lists",
			opts:    Options{Paths: []string{filepath.Join("..", "..", "rules", "shadow_file_read.yaml")}},
			rules:   []string{"shadow_file_read"},
			summary: []string{"../../rules/shadow_file_read.yaml: 1 rules (vigil), 1 lists file"},
		},
		{
			name:    "a rule and the lists it uses, given as files",
			opts:    Options{Paths: []string{filepath.Join(mixed, "vigil", "fetch_to_ip.yaml"), filepath.Join(mixed, "lists.yaml")}},
			rules:   []string{"fetch_to_ip"},
			summary: []string{"testdata/mixed/vigil/fetch_to_ip.yaml: 1 rules (vigil)", "testdata/mixed/lists.yaml: 1 lists file"},
		},
		{
			name:     "a file given twice is read once",
			opts:     Options{Paths: []string{mixed, filepath.Join(mixed, "vigil", "fetch_to_ip.yaml")}},
			rules:    []string{"fetch_to_ip", "interpreter_reads_ssh_keys", "sensitive_file_access", "unexpected_network_connection"},
			disabled: []string{"tool_from_tmp"},
		},
		{
			name:     "tuning the shipped pack without copying it",
			opts:     Options{Pack: rules.FS, Paths: []string{filepath.Join("testdata", "pack_tuning.yaml")}},
			disabled: []string{"network_scanner_executed"},
			changes: []string{
				"pack_tuning.yaml:3: rule network_scanner_executed: disabled",
				"pack_tuning.yaml:7: rule binary_executed_from_tmp: exception go_builds: event/FILE_PATH starts with \"/tmp/go-build\"",
			},
			warnings: []string{"pack_tuning.yaml:11: warning: tuning entry selects no rule: no rule is named reverse_shel_netcat (did you mean reverse_shell_netcat?)"},
		},
		{
			name: "every error of every broken file, and the good rule still loads",
			opts: Options{Paths: []string{filepath.Join("testdata", "broken")}},
			has:  []string{"ok_rule"},
			errs: []string{
				"testdata/broken/bad_yaml.yaml:4: invalid YAML: yaml: line 4:",
				"testdata/broken/empty.yaml:0: file is empty",
				"testdata/broken/falco_not_items.yaml:6: not a Falco rules file: item 2 has the keys name:, want rule:, list: or macro:",
				"testdata/broken/not_a_rule.yaml:2: not a rule file: a mapping with the keys name:, version:; want a Vigil rule",
				"testdata/broken/sigma_no_detection.yml:1: not a rule file: a Sigma rule needs title:, logsource: and detection:, this mapping lacks detection:",
				"testdata/broken/ok_rule.yaml:3: rule ok_rule is defined twice: here and at testdata/broken/dup/ok_rule.yaml:3",
				`testdata/broken/sub/two_errors.yaml:6: rule two_errors: unknown path "event/PARENT/FILEPATH": did you mean event/PARENT/FILE_PATH?`,
				`testdata/broken/sub/two_errors.yaml:14: rule two_errors: severity "urgent" is not one of`,
				`testdata/broken/typo_rule.yaml:1: rule typo_rule: unknown key "detecton" (allowed: detection, response, edge)`,
				"testdata/broken/falco_append_undefined.yaml:1: list shells: append to a list that is not defined earlier in the set",
				`testdata/broken/tuning_bad.yaml:3: severity: want one of info, low, medium, high, critical, got the value "urgent"`,
			},
			warnings: []string{"testdata/broken/tuning_nomatch.yaml:2: warning: tuning entry selects no rule: no rule is named ok_rul (did you mean ok_rule?)"},
		},
		{
			name:     "a Falco rule that cannot be converted is a warning, and the rest of the set loads",
			opts:     Options{Paths: []string{filepath.Join("testdata", "falco_skip")}},
			has:      []string{"shell_spawned"},
			warnings: []string{`testdata/falco_skip/unsupported.yaml:1: warning: not converted: rule "Process Group Leader": field proc.is_vpgid_leader is not supported`},
		},
		{
			name:     "a path that does not exist",
			opts:     Options{Paths: []string{filepath.Join("testdata", "no_such_dir"), filepath.Join("testdata", "mixed")}},
			has:      []string{"fetch_to_ip"},
			disabled: []string{"tool_from_tmp"},
			errs:     []string{"testdata/no_such_dir: not a directory or file of rules"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Load(tt.opts)
			if len(tt.errs) == 0 && err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(tt.errs) > 0 {
				testcheck.ErrorLines(t, err, tt.errs)
			}
			if tt.rules != nil && !slices.Equal(names(set.Rules), tt.rules) {
				t.Errorf("rules %v, want %v", names(set.Rules), tt.rules)
			}
			for _, n := range tt.has {
				if !slices.Contains(names(set.Rules), n) {
					t.Errorf("rule %s not loaded (%v)", n, names(set.Rules))
				}
			}
			if !slices.Equal(names(set.Disabled), tt.disabled) {
				t.Errorf("disabled %v, want %v", names(set.Disabled), tt.disabled)
			}
			var summaries strings.Builder
			for _, s := range set.Sources {
				summaries.WriteString(s.Summary() + "\n")
			}
			testcheck.InOrder(t, "summaries", summaries.String(), tt.summary)
			for _, want := range tt.changes {
				if !strings.Contains(lines(set.Changes), want) {
					t.Errorf("changes lack %q:\n%s", want, lines(set.Changes))
				}
			}
			for _, want := range tt.warnings {
				if !strings.Contains(lines(set.Warnings), want) {
					t.Errorf("warnings lack %q:\n%s", want, lines(set.Warnings))
				}
			}
		})
	}
}

// TestLoadMissingPathIsErrNoSource: callers tell a mistyped path from broken rules.
func TestLoadMissingPathIsErrNoSource(t *testing.T) {
	_, err := Load(Options{Paths: []string{filepath.Join("testdata", "no_such_dir")}})
	if !errors.Is(err, ErrNoSource) {
		t.Fatalf("err = %v, want ErrNoSource", err)
	}
	if _, err := Load(Options{Paths: []string{filepath.Join("testdata", "broken")}}); errors.Is(err, ErrNoSource) {
		t.Errorf("broken rules reported as a missing source: %v", err)
	}
}

// TestTunedRulesRun: the set's engine evaluates the rules as tuned: the
// exception of testdata/mixed/tuning.yaml holds, the disabled rule never fires.
func TestTunedRulesRun(t *testing.T) {
	set, err := Load(Options{Paths: []string{filepath.Join("testdata", "mixed")}})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := set.Engine()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ev   event.Event
		want []string
	}{
		{"the Falco rule fires", event.Event{Type: event.FileOpen, FilePath: "/usr/bin/python3", User: "www-data", TargetPath: "/etc/shadow", FileFlags: "read"},
			[]string{"sensitive_file_access"}},
		{"its exception holds", event.Event{Type: event.FileOpen, FilePath: "/opt/backup/bin/agent", User: "backup", TargetPath: "/etc/shadow", FileFlags: "read"},
			nil},
		{"the exception needs both fields", event.Event{Type: event.FileOpen, FilePath: "/opt/backup/bin/agent", User: "root", TargetPath: "/etc/shadow", FileFlags: "read"},
			[]string{"sensitive_file_access"}},
		{"the disabled rule does not fire", event.Event{Type: event.NewProcess, FilePath: "/tmp/curl"}, nil},
		{"the Vigil rule with the source's lists", event.Event{Type: event.NewProcess, FilePath: "/usr/bin/curl", CommandLine: "curl http://203.0.113.9/x"},
			[]string{"fetch_to_ip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(eng.Eval(&tt.ev, nil)); !slices.Equal(got, tt.want) {
				t.Errorf("fired %v, want %v", got, tt.want)
			}
		})
	}
	if rep := set.Rules[slices.IndexFunc(set.Rules, func(r *engine.Rule) bool { return r.Name == "interpreter_reads_ssh_keys" })].Report(); rep.Severity() != "critical" {
		t.Errorf("the Sigma rule's severity is %s, want critical (tuned)", rep.Severity())
	}
}

// TestRunFixtures: fixtures next to converted rules and in a directory above a
// rule run; a disabled rule's do not; a fixture an exception breaks fails.
func TestRunFixtures(t *testing.T) {
	set, err := Load(Options{Paths: []string{filepath.Join("testdata", "mixed")}})
	if err != nil {
		t.Fatal(err)
	}
	fx := set.RunFixtures()
	if checks, rules := fx.Failed(); checks != 0 || fx.Tested != 4 || len(fx.Results) != 8 {
		t.Errorf("%d failed checks (%d rules), %d rules tested, %d results; want 0, 4 and 8:\n%s", checks, rules, fx.Tested, len(fx.Results), lines(fx.Results))
	}
	if !slices.Equal(fx.Disabled, []string{"tool_from_tmp"}) || len(fx.Untested) != 0 {
		t.Errorf("disabled %v, untested %v", fx.Disabled, fx.Untested)
	}
	for _, r := range fx.Results {
		if !strings.HasPrefix(r.File, filepath.Join("testdata", "mixed")+string(filepath.Separator)) {
			t.Errorf("fixture %s not named by its source's path", r.File)
		}
	}

	// the same tree with an exception that excludes the match fixture's event
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tuning.yaml"), []byte(`tuning:
  - rules: [sensitive_file_access]
    exceptions:
      - name: python
        fields: [event/FILE_NAME]
        values: [python3]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err = Load(Options{Paths: []string{filepath.Join("testdata", "mixed"), dir}})
	if err != nil {
		t.Fatal(err)
	}
	fx = set.RunFixtures()
	if checks, rules := fx.Failed(); checks != 1 || rules != 1 {
		t.Fatalf("%d failed checks in %d rules, want the one match.yaml:\n%s", checks, rules, lines(fx.Results))
	}
	for _, r := range fx.Results {
		if !r.Pass() && (r.Rule != "sensitive_file_access" || !r.Want) {
			t.Errorf("unexpected failure %s", r)
		}
	}
}

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		pack    bool
		paths   []string
		wantErr string
	}{
		{"unset: the pack alone", nil, true, nil, ""},
		{"sources after the pack", map[string]string{EnvSources: "/opt/vigil-rules/a:/opt/vigil-rules/t.yaml"}, true, []string{"/opt/vigil-rules/a", "/opt/vigil-rules/t.yaml"}, ""},
		{"empty entries are skipped", map[string]string{EnvSources: ":/a::"}, true, []string{"/a"}, ""},
		{"no pack", map[string]string{EnvBuiltin: "false", EnvSources: "/a"}, false, []string{"/a"}, ""},
		{"pack on", map[string]string{EnvBuiltin: "true"}, true, nil, ""},
		{"not a boolean", map[string]string{EnvBuiltin: "nope"}, false, nil, `VIGIL_BUILTIN_RULES="nope": want true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := OptionsFromEnv(func(k string) string { return tt.env[k] }, rules.FS)
			if testcheck.Err(t, err, tt.wantErr) {
				return
			}
			if (o.Pack != nil) != tt.pack || !slices.Equal(o.Paths, tt.paths) {
				t.Errorf("options = pack %v, paths %v; want pack %v, paths %v", o.Pack != nil, o.Paths, tt.pack, tt.paths)
			}
		})
	}
}
