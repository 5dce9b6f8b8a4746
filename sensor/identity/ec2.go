package identity

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultSysDir is the sysfs root OnEC2 reads by default.
const DefaultSysDir = "/sys"

// OnEC2 tells from the firmware's identification whether this host is an EC2
// instance, as cloud-init's ds-identify does, without a packet on the network.
// sysDir is the sysfs root (DefaultSysDir; tests give a copy): it reads
// class/dmi/id/{sys_vendor,product_uuid,product_version,bios_version,board_asset_tag}
// and hypervisor/uuid. EC2 is:
//   - a Nitro instance (bare metal included): sys_vendor "Amazon EC2", or a
//     board_asset_tag that is an instance id (i-…);
//   - a Xen instance: bios_version or product_version containing "amazon"
//     (4.11.amazon), or a product_uuid or hypervisor uuid starting with ec2 (either
//     case; product_uuid in either byte order) on a Xen or unnamed vendor. A
//     product_uuid that happens to start with ec2 on another vendor (VMware,
//     QEMU, …) is not EC2.
//
// reason says what was read, for the log: `DMI sys_vendor "Amazon EC2",
// board_asset_tag "i-0abc…"` or `DMI sys_vendor "QEMU"`. Absent files are
// skipped; unreadable ones (product_uuid is root's) are skipped and named when
// the answer is no; no DMI at all is not EC2.
func OnEC2(sysDir string) (bool, string) {
	if sysDir == "" {
		sysDir = DefaultSysDir
	}
	dmiDir := filepath.Join(sysDir, "class", "dmi", "id")
	if _, err := os.Stat(dmiDir); err != nil {
		if hv, ok := readSys(filepath.Join(sysDir, "hypervisor", "uuid")); ok && hasEC2Prefix(hv) {
			return true, fmt.Sprintf("no DMI (%s), hypervisor uuid %q", dmiDir, hv)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Sprintf("no DMI at %s", dmiDir)
		}
		return false, fmt.Sprintf("DMI unreadable: %v", err)
	}
	d := dmi{}
	var unreadable []string
	for _, name := range []string{"sys_vendor", "board_asset_tag", "bios_version", "product_version", "product_uuid"} {
		v, err := readSysErr(filepath.Join(dmiDir, name))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				unreadable = append(unreadable, name)
			}
			continue
		}
		d[name] = v
	}
	hv, hvOK := readSys(filepath.Join(sysDir, "hypervisor", "uuid"))
	said := func(names ...string) string {
		var parts []string
		for _, n := range names {
			if v, ok := d[n]; ok {
				parts = append(parts, fmt.Sprintf("%s %q", n, v))
			}
		}
		if len(parts) == 0 {
			parts = append(parts, "sys_vendor unreadable")
		}
		return "DMI " + strings.Join(parts, ", ")
	}

	vendor := d["sys_vendor"]
	switch {
	case strings.EqualFold(vendor, "Amazon EC2"):
		if isInstanceID(d["board_asset_tag"]) {
			return true, said("sys_vendor", "board_asset_tag")
		}
		return true, said("sys_vendor")
	case isInstanceID(d["board_asset_tag"]):
		return true, said("sys_vendor", "board_asset_tag")
	case strings.Contains(strings.ToLower(d["bios_version"]), "amazon"):
		return true, said("sys_vendor", "bios_version")
	case strings.Contains(strings.ToLower(d["product_version"]), "amazon"):
		return true, said("sys_vendor", "product_version")
	}
	xenOrUnnamed := vendor == "" || strings.EqualFold(vendor, "Xen")
	if hvOK && hasEC2Prefix(hv) && xenOrUnnamed {
		return true, said("sys_vendor") + fmt.Sprintf(", hypervisor uuid %q", hv)
	}
	if u, ok := d["product_uuid"]; ok && (hasEC2Prefix(u) || hasEC2Prefix(swapUUID(u))) {
		if xenOrUnnamed {
			return true, said("sys_vendor", "product_uuid")
		}
		return false, said("sys_vendor", "product_uuid") + " (an ec2 uuid, but not a Xen or Amazon EC2 vendor)"
	}
	reason := said("sys_vendor")
	if len(unreadable) > 0 {
		reason += "; unreadable: " + strings.Join(unreadable, ", ")
	}
	return false, reason
}

type dmi map[string]string

// readSys reads a one-line sysfs file; ok is false when it cannot be read.
func readSys(path string) (string, bool) {
	v, err := readSysErr(path)
	return v, err == nil
}

func readSysErr(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if len(b) > 256 {
		b = b[:256]
	}
	return strings.TrimSpace(string(b)), nil
}

func hasEC2Prefix(s string) bool {
	return len(s) >= 3 && strings.EqualFold(s[:3], "ec2")
}

// isInstanceID reports whether s looks like an EC2 instance id: i- and 8 or 17
// hexadecimal digits.
func isInstanceID(s string) bool {
	h, ok := strings.CutPrefix(s, "i-")
	if !ok || (len(h) != 8 && len(h) != 17) {
		return false
	}
	for _, c := range h {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// swapUUID returns the uuid with its first three fields byte-swapped: firmware
// that stores the SMBIOS uuid little-endian shows EC2's ec2… uuid as …2ec.
func swapUUID(u string) string {
	fields := strings.Split(u, "-")
	if len(fields) != 5 {
		return ""
	}
	for i := range 3 {
		b, err := hex.DecodeString(fields[i])
		if err != nil {
			return ""
		}
		for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
			b[l], b[r] = b[r], b[l]
		}
		fields[i] = hex.EncodeToString(b)
	}
	return strings.Join(fields, "-")
}
