package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/sensor/config"
)

// TestRuleUpdates: at each SIGHUP the rules are loaded again and handed on; a
// set with an error is not, and the next good one is.
func TestRuleUpdates(t *testing.T) {
	dir := t.TempDir()
	// write leaves the file of one rule, name.yaml, in dir
	write := func(name, body string) {
		t.Helper()
		old, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, f := range old {
			os.Remove(f)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rule := func(name string) (string, string) {
		return name, "detection:\n  event: NEW_PROCESS\n  op: is\n  path: event/FILE_NAME\n  value: " + name +
			"\nresponse:\n  - action: report\n    name: " + name + "\n    metadata: {severity: low}\n"
	}
	write(rule("first_probe"))
	cfg := config.Default()
	cfg.EdgeRules, cfg.BuiltinRules, cfg.RuleSources = true, false, []string{dir}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	loaded := make(chan error, 1) // each load's outcome, so that a signal is taken before the next file is written
	updates := ruleUpdates(ctx, sig, func() (*rulesource.Set, error) {
		set, err := loadRules(cfg, log)
		loaded <- err
		return set, err
	}, log)
	load := func() error {
		t.Helper()
		select {
		case err := <-loaded:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("no load")
			return nil
		}
	}
	next := func() []*engine.Rule {
		t.Helper()
		select {
		case rs := <-updates:
			return rs
		case <-time.After(10 * time.Second):
			t.Fatal("no update")
			return nil
		}
	}
	names := func(rs []*engine.Rule) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}

	write(rule("second_probe"))
	sig <- os.Interrupt
	if err := load(); err != nil {
		t.Fatal(err)
	}
	if got := names(next()); !slices.Equal(got, []string{"second_probe"}) {
		t.Fatalf("after the first reload: %v", got)
	}
	write("broken", "detection: [\n") // not handed on
	sig <- os.Interrupt
	if err := load(); err == nil {
		t.Fatal("a broken rule file loaded")
	}
	write(rule("third_probe"))
	sig <- os.Interrupt
	if err := load(); err != nil {
		t.Fatal(err)
	}
	if got := names(next()); !slices.Equal(got, []string{"third_probe"}) {
		t.Fatalf("after a broken and a good reload: %v", got)
	}
	cancel()
	if _, open := <-updates; open {
		t.Fatal("updates not closed when the context ended")
	}
}
