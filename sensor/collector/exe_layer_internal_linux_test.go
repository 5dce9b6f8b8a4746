package collector

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestOvlInodeReadable(t *testing.T) {
	inode := &btf.Struct{Name: "inode", Size: 8}
	dentry := &btf.Struct{Name: "dentry", Size: 8}
	member := func(name string, typ btf.Type) btf.Member { return btf.Member{Name: name, Type: typ} }
	for _, tt := range []struct {
		name    string
		members []btf.Member
		want    bool
	}{
		{"both", []btf.Member{member("flags", &btf.Int{Size: 8}), member("vfs_inode", inode),
			member("__upperdentry", &btf.Pointer{Target: dentry})}, true},
		{"through a typedef", []btf.Member{member("vfs_inode", &btf.Typedef{Name: "i", Type: inode}),
			member("__upperdentry", &btf.Pointer{Target: dentry})}, true},
		{"no upper dentry", []btf.Member{member("vfs_inode", inode)}, false},
		{"upper dentry not a pointer", []btf.Member{member("vfs_inode", inode), member("__upperdentry", dentry)}, false},
		{"inode by pointer", []btf.Member{member("vfs_inode", &btf.Pointer{Target: inode}),
			member("__upperdentry", &btf.Pointer{Target: dentry})}, false},
		{"none", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ovlInodeReadable(&btf.Struct{Name: "ovl_inode", Members: tt.members}); got != tt.want {
				t.Errorf("ovlInodeReadable = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMissingExeLayer checks the reason given for a kernel whose BTF has no
// overlayfs inode, and that this kernel's has one where it has overlayfs.
func TestMissingExeLayer(t *testing.T) {
	b, err := btf.NewBuilder([]btf.Type{&btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	noOverlay, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	// The overlay module's BTF is the fallback: a host with it loaded finds
	// the type there.
	_, modErr := os.Stat("/sys/kernel/btf/overlay")
	got := missingExeLayer(noOverlay)
	if modErr != nil && !strings.HasPrefix(got, exeUpperLayer+": kernel has no struct ovl_inode") {
		t.Errorf("missingExeLayer(no overlay) = %q, want %q and a reason", got, exeUpperLayer+": kernel has no struct ovl_inode")
	}

	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		t.Skipf("skipping: no kernel BTF: %v", err)
	}
	fss, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(strings.Fields(string(fss)), "overlay") {
		if got := missingExeLayer(kernel); got != "" {
			t.Errorf("missingExeLayer(this kernel, which has overlayfs) = %q, want none", got)
		}
	}
}
