package version

import (
	"runtime/debug"
	"sync"
)

// Version is stamped at build time with -ldflags "-X
// github.com/vigil-sec/vigil/internal/version.Version=…"; "dev" means unstamped.
var Version = "dev"

var buildInfo = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return fromBuildInfo(bi)
})

// String is the binary's version: Version when stamped, else the one the build
// information gives (see the package documentation), else "dev".
func String() string {
	if Version != "" && Version != "dev" {
		return Version
	}
	if v := buildInfo(); v != "" {
		return v
	}
	return "dev"
}

// fromBuildInfo is the version bi records: the VCS revision of a build in a work
// tree, else the module's version when it is a release one; "" when neither.
func fromBuildInfo(bi *debug.BuildInfo) string {
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		return rev
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return ""
}
