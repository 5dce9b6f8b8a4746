package collector

import (
	"errors"
	"io/fs"

	"github.com/cilium/ebpf/btf"
)

// exeUpperLayer is the capability the heartbeat lists as missing when the
// kernel cannot tell whether an executable is on an overlayfs upper layer
// (event/EXE_UPPER_LAYER is then always 0).
const exeUpperLayer = "exe_upper_layer"

// missingExeLayer says, as Unavailable does ("exe_upper_layer: <reason>"), why
// the exec hook cannot read an executable's overlayfs layer, or "" when it
// can: the hook reads struct ovl_inode through CO-RE, from the kernel's BTF or
// from the overlay module's when the module is loaded (the loader relocates
// against the BTF of the modules loaded when it runs).
func missingExeLayer(kernel *btf.Spec) string {
	var s *btf.Struct
	err := kernel.TypeByName("ovl_inode", &s)
	if errors.Is(err, btf.ErrNotFound) {
		mod, merr := btf.LoadKernelModuleSpec("overlay")
		switch {
		case errors.Is(merr, fs.ErrNotExist):
			return exeUpperLayer + ": kernel has no struct ovl_inode (overlayfs neither built in nor loaded)"
		case merr != nil:
			return exeUpperLayer + ": read the overlay module's BTF: " + merr.Error()
		}
		err = mod.TypeByName("ovl_inode", &s)
	}
	if err != nil {
		return exeUpperLayer + ": kernel has no struct ovl_inode: " + err.Error()
	}
	if !ovlInodeReadable(s) {
		return exeUpperLayer + ": the kernel's struct ovl_inode has no vfs_inode or __upperdentry"
	}
	return ""
}

// ovlInodeReadable reports whether s, the kernel's struct ovl_inode, has the
// members the exec hook reads: the VFS inode it embeds and the pointer to its
// upper dentry.
func ovlInodeReadable(s *btf.Struct) bool {
	var inode, upper bool
	for _, m := range s.Members {
		switch m.Name {
		case "vfs_inode":
			st, ok := btf.UnderlyingType(m.Type).(*btf.Struct)
			inode = ok && st.Name == "inode"
		case "__upperdentry":
			_, upper = btf.UnderlyingType(m.Type).(*btf.Pointer)
		}
	}
	return inode && upper
}
