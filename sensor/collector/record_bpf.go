package collector

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/vigil-sec/vigil/internal/event"
)

// BPF program load records (sensor/bpf/bpf_load.h).
const (
	kindBPFLoad = 34

	bpfProgTypeOff = hdrSize
	bpfAttachOff   = hdrSize + 4
	bpfProgIDOff   = hdrSize + 8
	bpfNameOff     = hdrSize + 16
	bpfNameMax     = 16
	bpfLoadSize    = bpfNameOff + bpfNameMax
)

// bpfProgTypes names enum bpf_prog_type as bpftool does.
var bpfProgTypes = [...]string{
	"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint", "xdp", "perf_event",
	"cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out", "lwt_xmit", "sock_ops", "sk_skb", "cgroup_device",
	"sk_msg", "raw_tracepoint", "cgroup_sock_addr", "lwt_seg6local", "lirc_mode2", "sk_reuseport",
	"flow_dissector", "cgroup_sysctl", "raw_tracepoint_writable", "cgroup_sockopt", "tracing",
	"struct_ops", "ext", "lsm", "sk_lookup", "syscall", "netfilter",
}

// bpfProgTypeName names a program type; one this table does not know (a
// newer kernel's) is "prog_type_<n>".
func bpfProgTypeName(t uint32) string {
	if int(t) < len(bpfProgTypes) {
		return bpfProgTypes[t]
	}
	return "prog_type_" + strconv.FormatUint(uint64(t), 10)
}

func decodeBPFLoad(raw []byte, r *record) error {
	if len(raw) < bpfLoadSize {
		return fmt.Errorf("%w: BPF load record has %d bytes, needs %d", errShortRecord, len(raw), bpfLoadSize)
	}
	le := binary.LittleEndian
	r.progType = le.Uint32(raw[bpfProgTypeOff:])
	r.progID = le.Uint32(raw[bpfProgIDOff:])
	name := raw[bpfNameOff:bpfLoadSize:bpfLoadSize]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i:i]
	}
	r.fsType = name
	return nil
}

func (r *record) fillBPFLoad(ev *event.Event) {
	ev.Type = event.BPFLoad
	ev.BPFProgType = bpfProgTypeName(r.progType)
	ev.BPFProgName = string(r.fsType)
	ev.BPFProgID = r.progID
}
