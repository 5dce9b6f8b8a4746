package event

import (
	"strings"
	"testing"
)

func TestSplitImage(t *testing.T) {
	tests := []struct{ image, repo, tag string }{
		{"nginx", "nginx", ""},
		{"nginx:1.25", "nginx", "1.25"},
		{"docker.io/library/nginx:1.25", "docker.io/library/nginx", "1.25"},
		{"registry.local:5000/team/app", "registry.local:5000/team/app", ""},
		{"registry.local:5000/team/app:v2", "registry.local:5000/team/app", "v2"},
		{"nginx@sha256:0123456789abcdef", "nginx", ""},
		{"ghcr.io/org/tool:1.0@sha256:0123456789abcdef", "ghcr.io/org/tool", "1.0"},
		{"", "", ""},
	}
	for _, tt := range tests {
		repo, tag := SplitImage(tt.image)
		if repo != tt.repo || tag != tt.tag {
			t.Errorf("SplitImage(%q) = %q, %q; want %q, %q", tt.image, repo, tag, tt.repo, tt.tag)
		}
	}
}

// TestPodPaths reads every pod and container path, the derived ones and a
// label by key, from an event in a pod, and none from a host event.
func TestPodPaths(t *testing.T) {
	pod := Event{Type: NewProcess, PodUID: "0a1b2c3d-1111-2222-3333-444455556666", PodName: "web-5d8f",
		PodNamespace: "shop", PodLabels: []string{"app.kubernetes.io/name=web", "tier=frontend"},
		PodServiceAccount: "web", NodeName: "node-1", ContainerName: "nginx",
		ContainerImage: "registry.local:5000/shop/nginx:1.25"}
	want := map[string]string{
		"event/K8S/POD_UID":                          "0a1b2c3d-1111-2222-3333-444455556666",
		"event/K8S/POD_NAME":                         "web-5d8f",
		"event/K8S/NAMESPACE":                        "shop",
		"event/K8S/SERVICE_ACCOUNT":                  "web",
		"event/K8S/NODE_NAME":                        "node-1",
		"event/K8S/POD_LABEL/tier":                   "frontend",
		"event/K8S/POD_LABEL/app.kubernetes.io/name": "web",
		"event/K8S/POD_LABEL/missing":                "",
		"event/CONTAINER/NAME":                       "nginx",
		"event/CONTAINER/IMAGE":                      "registry.local:5000/shop/nginx:1.25",
		"event/CONTAINER/IMAGE_REPOSITORY":           "registry.local:5000/shop/nginx",
		"event/CONTAINER/IMAGE_TAG":                  "1.25",
	}
	host := Event{Type: NewProcess}
	for path, v := range want {
		f, err := Lookup(path)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", path, err)
		}
		if got := f.Str(&pod); got != v {
			t.Errorf("%s = %q, want %q", path, got, v)
		}
		if got := f.Str(&host); got != "" {
			t.Errorf("%s of a host event = %q, want empty", path, got)
		}
	}
	f, err := Lookup("event/K8S/POD_LABELS")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.List(&pod), ","); got != "app.kubernetes.io/name=web,tier=frontend" {
		t.Errorf("POD_LABELS = %s", got)
	}
	for _, bad := range []string{"event/K8S/POD_LABEL/", "event/K8S/POD_LABEL/a=b"} {
		if _, err := Lookup(bad); err == nil || !strings.Contains(err.Error(), "label key") {
			t.Errorf("Lookup(%q) = %v, want an error about the label key", bad, err)
		}
	}
	// The tree carries the stored fields, not the derived ones.
	tree := pod.Tree()["event"].(map[string]any)
	ctr := tree["CONTAINER"].(map[string]any)
	if ctr["IMAGE"] != pod.ContainerImage || ctr["IMAGE_REPOSITORY"] != nil {
		t.Errorf("tree CONTAINER = %v", ctr)
	}
	if tree["K8S"].(map[string]any)["NAMESPACE"] != "shop" {
		t.Errorf("tree K8S = %v", tree["K8S"])
	}
}
