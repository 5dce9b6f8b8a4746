package collector

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/vigil-sec/vigil/sensor/bpf"
)

// dirMovers are the syscalls after whose exit the kernel makes the cached
// directory verdicts stale (dir_paths_moved in sensor/bpf/sensor.bpf.c): the
// cache is used only when all of them that the kernel has are hooked.
var dirMovers = []string{"rename", "renameat", "renameat2", "mount", "umount", "move_mount", "pivot_root"}

// trampolineProbes are the hooks that would hand the collector each opened
// file directly, run for opens only: an fentry program on the function every
// open passes, and a BPF LSM program.
var trampolineProbes = []struct {
	name       string
	typ        ebpf.ProgramType
	attachType ebpf.AttachType
	attachTo   string
}{
	{"fentry/security_file_open", ebpf.Tracing, ebpf.AttachTraceFEntry, "security_file_open"},
	{"lsm/file_open", ebpf.LSM, ebpf.AttachLSMMac, "file_open"},
}

// probeTrampolines loads, without attaching, a program that returns at once
// for each of trampolineProbes, and returns one line per probe: whether the
// kernel accepts it, and why not. On a kernel that refuses both, file opens
// can only be seen at the syscalls' exits.
func probeTrampolines() (notes []string, anyLoads bool) {
	insns := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	for _, p := range trampolineProbes {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "vigil_probe", Type: p.typ, AttachType: p.attachType,
			AttachTo: p.attachTo, Instructions: insns, License: "GPL"})
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s refused: %s", p.name, probeReason(err)))
			continue
		}
		prog.Close()
		anyLoads = true
		notes = append(notes, p.name+" loads")
	}
	return notes, anyLoads
}

// probeReason is the first line of a load error, without the loader's
// advice about RLIMIT_MEMLOCK (lifted already: see Supported).
func probeReason(err error) string {
	msg := err.Error()
	var verr *ebpf.VerifierError
	if errors.As(err, &verr) {
		msg = verr.Cause.Error()
	}
	msg, _, _ = strings.Cut(msg, "\n")
	msg, _, _ = strings.Cut(msg, " (MEMLOCK")
	return msg
}

// openHookNote describes how file opens are hooked, for OpenHook: where, what
// the trampoline probes found, and whether directory verdicts are cached
// (and if not, why).
func (c *Collector) openHookNote(hooked []string) string {
	notes, _ := probeTrampolines()
	var b strings.Builder
	b.WriteString("syscall exits; ")
	b.WriteString(strings.Join(notes, ", "))
	if why := c.dirCacheOff(hooked); why != "" {
		b.WriteString("; directory verdicts not cached: " + why)
	} else {
		b.WriteString("; directory verdicts cached")
	}
	return b.String()
}

// dirCacheOff says why the kernel may not cache directory verdicts, or ""
// when it may: file opens are hooked, and so is every syscall that can move
// a directory (hooked: the syscalls the collector hooks).
func (c *Collector) dirCacheOff(hooked []string) string {
	if !slices.Contains(hooked, "openat") {
		return "file opens not captured"
	}
	var off []string
	for _, name := range dirMovers {
		if !slices.Contains(hooked, name) {
			off = append(off, name)
		}
	}
	if len(off) > 0 {
		return "not hooked: " + strings.Join(off, ", ")
	}
	return ""
}

// enableDirCache sets the program's dir_cache switch unless dirCacheOff
// says why not.
func (c *Collector) enableDirCache(spec *ebpf.CollectionSpec, hooked []string) error {
	if c.dirCacheOff(hooked) != "" {
		return nil
	}
	if err := spec.Variables[bpf.SensorVarDirCache].Set(uint32(1)); err != nil {
		return fmt.Errorf("collector: enable the directory verdict cache: %w", err)
	}
	return nil
}

// OpenHook says where file opens are hooked (at the syscalls' exits, see
// SyscallHook), whether the kernel accepts the trampoline and LSM programs
// that would see them directly, and whether the kernel decides opens by
// their directory's cached verdict, before it builds their paths.
func (c *Collector) OpenHook() string { return c.openHook }
