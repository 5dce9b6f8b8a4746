package k8saudit

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeFixtures(t *testing.T) {
	evs, err := Decoder{Cluster: "prod", Tags: []string{"env:prod"}}.Decode(readFixture(t, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 8 {
		t.Fatalf("%d events, want 8", len(evs))
	}
	for _, e := range evs {
		if e.Type != event.K8sAudit || e.SensorID != "k8s-prod" || e.Hostname != "prod" || e.TimeNanos == 0 || !reflect.DeepEqual(e.Tags, []string{"env:prod"}) {
			t.Errorf("routing of %s: %+v", e.ID, e)
		}
	}
	tests := []struct {
		i     int
		check func(e event.Event) bool
	}{
		{0, func(e event.Event) bool {
			return e.ID == "3f1c9d2e-8a47-4b1e-9c0d-5e6f7a8b9c01/ResponseComplete" && e.K8sVerb == "create" && e.K8sSubresource == "exec" &&
				e.K8sResource == "pods" && e.K8sNamespace == "payments" && e.K8sName == "api-7d9f8-x2kq" && e.K8sResponseCode == 101 &&
				e.K8sUser == "alice@example.com" && reflect.DeepEqual(e.K8sGroups, []string{"system:masters", "system:authenticated"}) &&
				strings.HasPrefix(e.K8sRequestURI, "/api/v1/namespaces/payments/pods/api-7d9f8-x2kq/exec?command=") &&
				e.K8sDecision == "allow" && strings.HasPrefix(e.K8sUserAgent, "kubectl/") && reflect.DeepEqual(e.K8sSourceIPs, []string{"10.0.12.7"})
		}},
		{1, func(e event.Event) bool {
			return e.K8sResource == "secrets" && e.K8sVerb == "get" && e.K8sUser == "system:serviceaccount:payments:report-runner" &&
				strings.Contains(e.K8sReason, "secret-reader")
		}},
		{2, func(e event.Event) bool {
			return e.K8sPrivileged == 1 && e.K8sHostNetwork == 1 && e.K8sHostPID == 1 && e.K8sHostIPC == 0 &&
				reflect.DeepEqual(e.K8sHostPaths, []string{"/"}) && reflect.DeepEqual(e.K8sCapabilities, []string{"SYS_ADMIN", "NET_ADMIN"}) &&
				reflect.DeepEqual(e.K8sImages, []string{"docker.io/library/alpine:3.20"})
		}},
		{3, func(e event.Event) bool {
			return e.K8sAPIGroup == "apps" && e.K8sPrivileged == 0 && e.K8sHostPID == 1 && reflect.DeepEqual(e.K8sHostPaths, []string{"/proc"}) &&
				len(e.K8sImages) == 2 && e.K8sImages[1] == "quay.io/prometheus/busybox:latest" &&
				reflect.DeepEqual(event.ImageRepositories(e.K8sImages), []string{"quay.io/prometheus/node-exporter", "quay.io/prometheus/busybox"})
		}},
		{4, func(e event.Event) bool {
			return e.K8sRoleRef == "cluster-admin" && reflect.DeepEqual(e.K8sSubjects, []string{"bob@example.com", "default"}) &&
				e.K8sImpersonatedUser == "system:admin" && e.K8sNamespace == ""
		}},
		{5, func(e event.Event) bool {
			return e.K8sUser == "system:anonymous" && e.K8sSourceIPs[0] == "203.0.113.50" && e.K8sResource == "configmaps"
		}},
		{6, func(e event.Event) bool {
			return e.K8sVerb == "delete" && e.K8sResource == "validatingwebhookconfigurations" && e.K8sAPIGroup == "admissionregistration.k8s.io"
		}},
		{7, func(e event.Event) bool { return e.K8sVerb == "list" && e.K8sName == "" && len(e.K8sImages) == 0 }},
	}
	for _, tc := range tests {
		if !tc.check(evs[tc.i]) {
			t.Errorf("event %d: %+v", tc.i, evs[tc.i])
		}
	}
}

// TestDecodeShapes checks an EventList (the webhook's body), one pretty-printed
// Event and JSON lines decode to the same events.
func TestDecodeShapes(t *testing.T) {
	d := Decoder{Cluster: "c"}
	lines, err := d.Decode(readFixture(t, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	list, err := d.Decode(readFixture(t, "eventlist.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(list, lines[:3]) {
		t.Errorf("EventList decodes to\n%+v\nwant\n%+v", list, lines[:3])
	}
	pretty, err := d.Decode(readFixture(t, "pretty.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pretty) != 2 || !reflect.DeepEqual(pretty[0], lines[4]) || pretty[1].K8sVerb != "watch" {
		t.Errorf("pretty-printed events decode to %+v", pretty)
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","stageTimestamp":"2025-06-03T09:00:00Z"}`
	pod := func(obj string) string {
		return `{"kind":"Event","auditID":"a","stage":"ResponseComplete","verb":"create","stageTimestamp":"2025-06-03T09:00:00Z","objectRef":{"resource":"pods"},"requestObject":` + obj + `}`
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "no audit events"},
		{"syntax on line 2", valid + "\n{\"kind\": \"Event\",,}", "line 2: invalid JSON"},
		{"not an object", "[1]", "line 1: want a JSON object"},
		{"groups not a list", valid + "\n" + `{"auditID":"b","stage":"x","verb":"get","stageTimestamp":"2025-06-03T09:00:00Z","user":{"groups":"admins"}}`, "line 2: user.groups: want a list, got a string"},
		{"no audit id", `{"stage":"x","verb":"get","stageTimestamp":"2025-06-03T09:00:00Z"}`, "line 1: auditID is missing"},
		{"no stage", `{"auditID":"a","verb":"get","stageTimestamp":"2025-06-03T09:00:00Z"}`, "stage is missing"},
		{"no verb", `{"auditID":"a","stage":"x","stageTimestamp":"2025-06-03T09:00:00Z"}`, "verb is missing"},
		{"no time", `{"auditID":"a","stage":"x","verb":"get"}`, "stageTimestamp is missing"},
		{"bad time", `{"auditID":"a","stage":"x","verb":"get","stageTimestamp":"yesterday"}`, `stageTimestamp: "yesterday" is not an RFC 3339 time`},
		{"wrong kind", `{"kind":"Pod"}`, `kind is "Pod", want Event or EventList`},
		{"wrong version", `{"kind":"Event","apiVersion":"v1"}`, `apiVersion is "v1", want audit.k8s.io/v1`},
		{"bad item", `{"kind":"EventList","items":[` + valid + `,{"auditID":"b"}]}`, "line 1: items[1]: stage is missing"},
		{"item is a list", `{"kind":"EventList","items":[{"kind":"EventList"}]}`, `items[0]: kind is "EventList", want Event`},
		{"hostNetwork not a boolean", pod(`{"spec":{"hostNetwork":"yes"}}`), "requestObject.spec.hostNetwork: want a boolean, got a string"},
		{"privileged not a boolean", pod(`{"spec":{"containers":[{"securityContext":{"privileged":1}}]}}`), "requestObject.spec.containers.securityContext.privileged: want a boolean, got a number"},
		{"code not a number", `{"auditID":"a","stage":"x","verb":"get","stageTimestamp":"2025-06-03T09:00:00Z","responseStatus":{"code":"200"}}`, "responseStatus.code: want an integer, got a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := Decoder{Cluster: "c"}.Decode([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if evs != nil {
				t.Errorf("events returned with the error: %d", len(evs))
			}
		})
	}
}

// TestDecodeIgnoresOtherObjects checks objects of resources Vigil does not
// read, patches and subresources leave the request fields empty, whatever their
// shape.
func TestDecodeIgnoresOtherObjects(t *testing.T) {
	tests := []struct{ name, ref, verb, obj string }{
		{"custom resource", `{"resource":"widgets","apiGroup":"example.com"}`, "create", `{"spec":{"hostNetwork":"yes","containers":7}}`},
		{"json patch", `{"resource":"pods"}`, "patch", `[{"op":"add","path":"/spec/hostNetwork","value":true}]`},
		{"pod binding", `{"resource":"pods","subresource":"binding"}`, "create", `{"target":{"name":"node-1"}}`},
		{"delete options", `{"resource":"pods"}`, "delete", `{"kind":"DeleteOptions","spec":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := `{"auditID":"a","stage":"ResponseComplete","verb":"` + tc.verb + `","stageTimestamp":"2025-06-03T09:00:00Z","objectRef":` + tc.ref + `,"requestObject":` + tc.obj + `}`
			evs, err := Decoder{}.Decode([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if e := evs[0]; e.K8sHostNetwork != 0 || e.K8sPrivileged != 0 || len(e.K8sImages) != 0 {
				t.Errorf("fields read from an object not read: %+v", e)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"audit.jsonl", "eventlist.json", "pretty.json"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"kind":"EventList","items":[{"auditID":"a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := Decoder{Cluster: "fuzz"}.Decode(data)
		if err != nil {
			if evs != nil {
				t.Fatal("events returned with an error")
			}
			if !strings.HasPrefix(err.Error(), "line ") && err.Error() != "no audit events" {
				t.Fatalf("error names no line: %v", err)
			}
			return
		}
		for _, e := range evs {
			if e.Type != event.K8sAudit || e.ID == "" || e.K8sVerb == "" {
				t.Fatalf("event without its id or verb: %+v", e)
			}
		}
	})
}
