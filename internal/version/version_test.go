package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}
	tests := []struct {
		name     string
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"work tree, clean", "v0.0.0-20260101000000-0123456789ab", []debug.BuildSetting{rev, {Key: "vcs.modified", Value: "false"}}, "0123456789ab"},
		{"work tree, changes", "v0.0.0-20260101000000-0123456789ab+dirty", []debug.BuildSetting{rev, {Key: "vcs.modified", Value: "true"}}, "0123456789ab-dirty"},
		{"short revision", "(devel)", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}}, "abc123"},
		{"go install of a release", "v1.4.0", nil, "v1.4.0"},
		{"no version control, no release", "(devel)", nil, ""},
		{"nothing recorded", "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/vigil-sec/vigil", Version: tc.main}, Settings: tc.settings}
			if got := fromBuildInfo(bi); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	defer func(v string) { Version = v }(Version)
	for _, stamped := range []string{"v1.2.3", "v1.2.3-4-gabcdef0-dirty"} {
		Version = stamped
		if got := String(); got != stamped {
			t.Errorf("stamped %q: String() = %q", stamped, got)
		}
	}
	// unstamped (or stamped empty: git describe found nothing): what the build recorded, else dev
	want := buildInfo()
	if want == "" {
		want = "dev"
	}
	for _, unstamped := range []string{"dev", ""} {
		Version = unstamped
		if got := String(); got != want {
			t.Errorf("unstamped %q: String() = %q, want %q", unstamped, got, want)
		}
	}
}
