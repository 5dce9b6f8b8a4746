package collector

import (
	"github.com/cilium/ebpf/btf"

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
