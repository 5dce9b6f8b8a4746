package identity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeIMDS speaks the IMDSv2 protocol on loopback: a PUT /latest/api/token with a
// TTL header returns a session token; every GET needs it (401 otherwise).
type fakeIMDS struct {
	tags     map[string]string // nil: instance tags not enabled (404)
	mu       sync.Mutex
	requests int // every request, whatever it asks
	tokens   int
	denied   int
}

// sys is a machine's sysfs copy under testdata/sys.
func sys(name string) string { return filepath.Join("testdata", "sys", name) }

const token = "AQAEAL-session-token"

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if r.URL.Path == "/latest/api/token" {
		if r.Method != http.MethodPut || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "bad token request", http.StatusBadRequest)
			return
		}
		f.tokens++
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		_, _ = w.Write([]byte(token))
		return
	}
	if r.Method != http.MethodGet || r.Header.Get("X-aws-ec2-metadata-token") != token {
		f.denied++
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	switch p := r.URL.Path; {
	case p == "/latest/dynamic/instance-identity/document":
		_, _ = w.Write([]byte(`{"accountId":"123456789012","availabilityZone":"us-east-1a","instanceId":"i-0abc123def4567890",
			"instanceType":"m6i.large","region":"us-east-1","privateIp":"10.0.1.17","version":"2017-09-30"}`))
	case f.tags != nil && p == "/latest/meta-data/tags/instance":
		var keys []string
		for k := range f.tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		_, _ = w.Write([]byte(strings.Join(keys, "\n")))
	case f.tags != nil && strings.HasPrefix(p, "/latest/meta-data/tags/instance/"):
		v, ok := f.tags[strings.TrimPrefix(p, "/latest/meta-data/tags/instance/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(v))
	default:
		http.NotFound(w, r)
	}
}

func TestFromIMDSv2(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	f := &fakeIMDS{tags: map[string]string{"Name": "web-1", "env": "staging", "aws:autoscaling:groupName": "web-asg"}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	id, err := Resolve(context.Background(), Options{SysDir: sys("nitro"), InstanceTags: true, Endpoint: srv.URL,
		Tags: []string{"env:prod", "deployment:d-42"}})
	if err != nil {
		t.Fatal(err)
	}
	if id.SensorID != "i-0abc123def4567890" || id.Source != "imds" || id.Region != "us-east-1" {
		t.Fatalf("identity %+v", id)
	}
	want := []string{"env:prod", "deployment:d-42", "instance_id:i-0abc123def4567890", "instance_type:m6i.large",
		"az:us-east-1a", "region:us-east-1", "account:123456789012", "Name:web-1", "aws.autoscaling.groupName:web-asg"}
	if !slices.Equal(id.Tags, want) {
		t.Fatalf("tags\n got %v\nwant %v (static env wins over the instance's env tag)", id.Tags, want)
	}
	if f.tokens == 0 || !id.EC2 || !id.IMDSQueried ||
		!slices.Equal(id.Notes, []string{`EC2 (DMI sys_vendor "Amazon EC2", board_asset_tag "i-0abc123def4567890"): instance metadata (IMDSv2) queried`}) {
		t.Fatalf("tokens %d identity %+v", f.tokens, id)
	}
}

func TestRefusedWithoutToken(t *testing.T) {
	f := &fakeIMDS{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/latest/dynamic/instance-identity/document")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a GET without a token got %d", resp.StatusCode)
	}
}

func TestInstanceTagsDisabledOnInstance(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	srv := httptest.NewServer(&fakeIMDS{})
	defer srv.Close()
	id, err := Resolve(context.Background(), Options{SysDir: sys("xen-hvm"), InstanceTags: true, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if id.SensorID != "i-0abc123def4567890" || len(id.Notes) != 2 || !strings.Contains(id.Notes[1], "instance tags unavailable") {
		t.Fatalf("identity %+v", id)
	}
}

func TestFallbacks(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	dir := t.TempDir()
	mid := filepath.Join(dir, "machine-id")
	_ = os.WriteFile(mid, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	// no metadata service: a closed port
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()

	id, err := Resolve(context.Background(), Options{IMDS: IMDSOn, SysDir: sys("nitro"), Endpoint: srv.URL, MachineIDPath: mid,
		Timeout: 2 * time.Second, Tags: []string{"env:dev"}})
	if err != nil {
		t.Fatal(err)
	}
	if id.SensorID != "0123456789abcdef0123456789abcdef" || id.Source != "machine-id" || !slices.Equal(id.Tags, []string{"env:dev"}) {
		t.Fatalf("identity %+v", id)
	}
	if len(id.Notes) != 2 || !strings.Contains(id.Notes[1], "IMDSv2) unavailable") {
		t.Fatalf("notes %v", id.Notes)
	}

	id, _ = Resolve(context.Background(), Options{SysDir: sys("laptop"), MachineIDPath: filepath.Join(dir, "absent")})
	host, _ := os.Hostname()
	if id.SensorID != host || id.Source != "hostname" {
		t.Fatalf("identity %+v", id)
	}
	id, _ = Resolve(context.Background(), Options{SensorID: "web-1", IMDS: IMDSOff})
	if id.SensorID != "web-1" || id.Source != "config" {
		t.Fatalf("identity %+v", id)
	}
}

// TestWhenIMDSIsAsked: the metadata service (a loopback IMDSv2 server) is asked on
// EC2 or when the configuration forces it, and otherwise receives no request at
// all; the notes say why.
func TestWhenIMDSIsAsked(t *testing.T) {
	tests := []struct {
		name    string
		sys     string
		mode    IMDSMode
		env     string // AWS_EC2_METADATA_DISABLED
		queried bool
		note    string
	}{
		{"auto on Nitro", "nitro", IMDSAuto, "", true, `EC2 (DMI sys_vendor "Amazon EC2", board_asset_tag "i-0abc123def4567890"): instance metadata (IMDSv2) queried`},
		{"auto on Xen", "xen-lowercase-uuid", IMDSAuto, "", true, `EC2 (DMI sys_vendor "Xen", product_uuid "ec2e1916-9099-7caf-fd21-012345abcdef"): instance metadata (IMDSv2) queried`},
		{"auto on QEMU", "qemu-kvm", IMDSAuto, "", false, `not EC2 (DMI sys_vendor "QEMU"): instance metadata not queried`},
		{"auto on GCE", "gce", IMDSAuto, "", false, `not EC2 (DMI sys_vendor "Google"): instance metadata not queried`},
		{"auto without DMI", "absent", IMDSAuto, "", false, `not EC2 (no DMI at testdata/sys/absent/class/dmi/id): instance metadata not queried`},
		{"forced without DMI", "absent", IMDSOn, "", true, `imds: true in the configuration, though not EC2 (no DMI at testdata/sys/absent/class/dmi/id): instance metadata (IMDSv2) queried`},
		{"forced on EC2", "nitro", IMDSOn, "", true, `imds: true in the configuration; EC2 (DMI sys_vendor "Amazon EC2", board_asset_tag "i-0abc123def4567890"): instance metadata (IMDSv2) queried`},
		{"off on EC2", "nitro", IMDSOff, "", false, `imds: false in the configuration: instance metadata not queried`},
		{"disabled by the SDK's variable", "nitro", IMDSOn, "true", false, `AWS_EC2_METADATA_DISABLED=true: instance metadata not queried`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_EC2_METADATA_DISABLED", tc.env)
			f := &fakeIMDS{}
			srv := httptest.NewServer(f)
			defer srv.Close()
			id, err := Resolve(context.Background(), Options{IMDS: tc.mode, SysDir: sys(tc.sys), Endpoint: srv.URL,
				MachineIDPath: filepath.Join("testdata", "machine-id")})
			if err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			requests := f.requests
			f.mu.Unlock()
			if id.IMDSQueried != tc.queried || (requests > 0) != tc.queried || len(id.Notes) == 0 || id.Notes[0] != tc.note {
				t.Fatalf("queried %v after %d requests, notes %q\nwant queried %v, note %q", id.IMDSQueried, requests, id.Notes, tc.queried, tc.note)
			}
			wantID, wantSource := "i-0abc123def4567890", "imds"
			if !tc.queried {
				wantID, wantSource = "0123456789abcdef0123456789abcdef", "machine-id"
			}
			if id.SensorID != wantID || id.Source != wantSource {
				t.Fatalf("sensor id %q from %s, want %q from %s", id.SensorID, id.Source, wantID, wantSource)
			}
		})
	}
}
