package identity

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestOnEC2(t *testing.T) {
	tests := []struct {
		dir    string // under testdata/sys
		ec2    bool
		reason string // in the reason
	}{
		{"nitro", true, `DMI sys_vendor "Amazon EC2", board_asset_tag "i-0abc123def4567890"`},
		{"nitro-no-asset-tag", true, `DMI sys_vendor "Amazon EC2"`},
		{"xen-hvm", true, `DMI sys_vendor "Xen", bios_version "4.11.amazon"`},
		{"xen-lowercase-uuid", true, `product_uuid "ec2e1916-9099-7caf-fd21-012345abcdef"`},
		{"xen-swapped-uuid", true, `product_uuid "45E12AEC-DCD1-B213-94ED-012345ABCDEF"`},
		{"xen-hypervisor-uuid", true, `hypervisor uuid "ec2e1916-9099-7caf-fd21-012345abcdef"`},
		{"container-xen", true, `hypervisor uuid "EC2E1916`},
		{"xen-other", false, `DMI sys_vendor "Xen"; unreadable: product_uuid`},
		{"qemu-kvm", false, `DMI sys_vendor "QEMU"`},
		{"laptop", false, `DMI sys_vendor "LENOVO"`},
		{"vmware-ec2-uuid", false, `not a Xen or Amazon EC2 vendor`},
		{"gce", false, `DMI sys_vendor "Google"`},
		{"azure", false, `DMI sys_vendor "Microsoft Corporation"`},
		{"asset-tag-not-instance", false, `DMI sys_vendor "Dell Inc."`},
		{"absent", false, "no DMI at " + filepath.Join("testdata", "sys", "absent", "class", "dmi", "id")},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			ec2, reason := OnEC2(filepath.Join("testdata", "sys", tc.dir))
			if ec2 != tc.ec2 || !strings.Contains(reason, tc.reason) {
				t.Fatalf("OnEC2 = %v, %q; want %v and a reason with %q", ec2, reason, tc.ec2, tc.reason)
			}
		})
	}
}

func TestIsInstanceID(t *testing.T) {
	for s, want := range map[string]bool{
		"i-0abc123def4567890": true, "i-1234abcd": true, "i-0ABC123DEF4567890": false,
		"i-T-4711": false, "": false, "None": false, "i-": false, "i-0abc123def456789": false,
	} {
		if got := isInstanceID(s); got != want {
			t.Errorf("isInstanceID(%q) = %v", s, got)
		}
	}
}

func TestSwapUUID(t *testing.T) {
	for in, want := range map[string]string{
		"45E12AEC-DCD1-B213-94ED-012345ABCDEF": "ec2ae145-d1dc-13b2-94ED-012345ABCDEF",
		"not-a-uuid":                           "",
		"zz000000-0000-0000-0000-000000000000": "",
	} {
		if got := swapUUID(in); got != want {
			t.Errorf("swapUUID(%q) = %q, want %q", in, got, want)
		}
	}
}
