package isolate

import "net/netip"

// Defaults.
const (
	// DefaultPinDir is where the programs' links and maps are pinned.
	DefaultPinDir = "/sys/fs/bpf/vigil/isolate"
	// BPFFSRoot is where bpffs is mounted by convention.
	BPFFSRoot = "/sys/fs/bpf"
	// MaxEntries is the capacity of each allow list (IPv4, IPv6).
	MaxEntries = 4096
)

// Options say where isolation is enforced and kept.
type Options struct {
	// Cgroup is the cgroup v2 directory the programs attach to: every process in
	// it and below is isolated. Empty means the root of the cgroup v2 hierarchy
	// (CgroupRoot). Tests use a cgroup of their own.
	Cgroup string
	// PinDir is the bpffs directory holding the pinned links and maps; empty
	// means DefaultPinDir. It is the isolation's state: while its links are
	// pinned the cgroup stays isolated, whatever happens to the sensor process.
	PinDir string
}

// Stats count what the programs refused since isolation began.
type Stats struct {
	ConnectRefused uint64 `json:"connect_refused"`
	SendRefused    uint64 `json:"send_refused"`
	EgressDropped  uint64 `json:"egress_dropped"`
	IngressDropped uint64 `json:"ingress_dropped"`
}

// State is the isolation as the pins show it.
type State struct {
	Isolated bool           `json:"isolated"`
	Cgroup   string         `json:"cgroup,omitempty"`
	PinDir   string         `json:"pin_dir"`
	Allow    []netip.Prefix `json:"allow,omitempty"`
	Stats    Stats          `json:"stats"`
}
