package collector

import (
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

// uringFileOps are the io_uring file operations sensor/bpf/file_ops_uring.h
// reads, by the kernel type of their requests.
var uringFileOps = []struct{ op, kernelType, lost string }{
	{"IORING_OP_MKDIRAT", "io_mkdir", "directories made through io_uring"},
	{"IORING_OP_LINKAT, SYMLINKAT", "io_link", "links made through io_uring"},
	{"IORING_OP_FTRUNCATE", "io_ftrunc", "truncations through io_uring"},
}

// missingUringFileOps lists, as Unavailable does, the io_uring file
// operations whose request type the kernel's BTF lacks (FTRUNCATE before
// 6.9): their events are not reported. loaded says whether the io_uring hooks
// are; if not, they are listed already.
func missingUringFileOps(kernel *btf.Spec, loaded bool) []string {
	if !loaded {
		return nil
	}
	var out []string
	for _, o := range uringFileOps {
		var s *btf.Struct
		if kernel.TypeByName(o.kernelType, &s) != nil {
			out = append(out, bpf.SensorProgIoUringSubmitReq+" "+o.op+": kernel has no struct "+o.kernelType+" ("+o.lost+" are not reported)")
		}
	}
	return out
}

// cleanFileOp is cleanPaths for the file operations: it resolves "." and ".."
// and doubled slashes in the path acted on and in a hard link's target, and
// applies the prefix filter to the result (to a symbolic link's target as
// well when it is absolute, cleaned for the filter's sake only: the event
// keeps it as given). It reports whether the event is wanted.
func (c *Collector) cleanFileOp(ev *event.Event) bool {
	hard := ev.Type == event.FileLink && ev.LinkType == "hard"
	symAbs := ev.Type == event.FileLink && !hard && strings.HasPrefix(ev.LinkTarget, "/")
	if !needsClean(ev.TargetPath) && !((hard || symAbs) && needsClean(ev.LinkTarget)) {
		return true // the kernel judged these paths
	}
	ev.TargetPath = cleanAbs(ev.TargetPath)
	want := c.wantPath(ev.TargetPath)
	switch {
	case hard:
		ev.LinkTarget = cleanAbs(ev.LinkTarget)
		want = want || c.wantPath(ev.LinkTarget)
	case symAbs:
		want = want || c.wantPath(cleanAbs(ev.LinkTarget))
	}
	return want
}
