package config

import (
	"slices"
	"strings"
	"testing"
)

func TestFileChangePrefixes(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       []string
		wantErr    string
	}{
		{"absent", "stream: s\n", nil, nil, ""},
		{"file", "stream: s\nfile_change_prefixes: [/usr/bin/, /opt/]\n", nil, []string{"/usr/bin/", "/opt/"}, ""},
		{"empty", "stream: s\nfile_change_prefixes: []\n", nil, []string{}, ""},
		{"environment", "stream: s\n", map[string]string{"VIGIL_FILE_CHANGE_PREFIXES": "/bin/,/sbin/"}, []string{"/bin/", "/sbin/"}, ""},
		{"relative", "stream: s\nfile_change_prefixes: [bin/]\n", nil, nil, `sensor.yaml:2: file_change_prefixes: "bin/" is not an absolute path prefix`},
		{"too long", "stream: s\nfile_change_prefixes: [/" + strings.Repeat("x", maxFilePrefix) + "]\n", nil, nil, "the kernel filter takes at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(write(t, tc.yaml), env(tc.env), nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.FileChangePrefixes == nil) != (tc.want == nil) || !slices.Equal(got.FileChangePrefixes, tc.want) {
				t.Errorf("FileChangePrefixes = %#v, want %#v", got.FileChangePrefixes, tc.want)
			}
		})
	}
}
