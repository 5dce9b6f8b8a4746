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
	tags   map[string]string // nil: instance tags not enabled (404)
	mu     sync.Mutex
	tokens int
	denied int
}

const token = "AQAEAL-session-token"

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
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
	f := &fakeIMDS{tags: map[string]string{"Name": "web-1", "env": "staging", "aws:autoscaling:groupName": "web-asg"}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	id, err := Resolve(context.Background(), Options{IMDS: true, InstanceTags: true, Endpoint: srv.URL,
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
	if f.tokens == 0 || len(id.Notes) != 0 {
		t.Fatalf("tokens %d notes %v", f.tokens, id.Notes)
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
	srv := httptest.NewServer(&fakeIMDS{})
	defer srv.Close()
	id, err := Resolve(context.Background(), Options{IMDS: true, InstanceTags: true, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if id.SensorID != "i-0abc123def4567890" || len(id.Notes) != 1 || !strings.Contains(id.Notes[0], "instance tags unavailable") {
		t.Fatalf("identity %+v", id)
	}
}

func TestFallbacks(t *testing.T) {
	dir := t.TempDir()
	mid := filepath.Join(dir, "machine-id")
	_ = os.WriteFile(mid, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	// no metadata service: a closed port
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()

	id, err := Resolve(context.Background(), Options{IMDS: true, Endpoint: srv.URL, MachineIDPath: mid,
		Timeout: 2 * time.Second, Tags: []string{"env:dev"}})
	if err != nil {
		t.Fatal(err)
	}
	if id.SensorID != "0123456789abcdef0123456789abcdef" || id.Source != "machine-id" || !slices.Equal(id.Tags, []string{"env:dev"}) {
		t.Fatalf("identity %+v", id)
	}
	if len(id.Notes) != 1 || !strings.Contains(id.Notes[0], "IMDSv2") {
		t.Fatalf("notes %v", id.Notes)
	}

	id, _ = Resolve(context.Background(), Options{MachineIDPath: filepath.Join(dir, "absent")})
	host, _ := os.Hostname()
	if id.SensorID != host || id.Source != "hostname" {
		t.Fatalf("identity %+v", id)
	}
	id, _ = Resolve(context.Background(), Options{SensorID: "web-1", IMDS: false})
	if id.SensorID != "web-1" || id.Source != "config" {
		t.Fatalf("identity %+v", id)
	}
}
