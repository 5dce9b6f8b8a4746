package event

import (
	"fmt"
	"strings"
)

// podLabelPrefix starts the path of one pod label's value:
// event/K8S/POD_LABEL/app.kubernetes.io/name (a key may hold slashes).
const podLabelPrefix = "event/K8S/POD_LABEL/"

// podLabelField is the field of an event/K8S/POD_LABEL/<KEY> path: the value
// of the label KEY of the event's pod, "" when the pod has no such label.
func podLabelField(path string) (*Field, error) {
	key := path[len(podLabelPrefix):]
	if key == "" || strings.Contains(key, "=") {
		return nil, fmt.Errorf("path %q: want %s<KEY>, a label key without =", path, podLabelPrefix)
	}
	return &Field{Path: path, Kind: String, For: processTypes, source: "event/K8S/POD_LABELS",
		Str: func(e *Event) string { return EnvValue(e.PodLabels, key) }}, nil
}

// SplitImage splits a container image reference as Falco does
// (container.image.repository, container.image.tag): a digest (@sha256:…)
// is dropped, and the tag is what follows the last colon after the last
// slash, so a registry's port stays in the repository.
//
//	docker.io/library/nginx:1.25       → docker.io/library/nginx, 1.25
//	registry.local:5000/team/app       → registry.local:5000/team/app, ""
//	nginx@sha256:0123…                 → nginx, ""
func SplitImage(image string) (repository, tag string) {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	slash := strings.LastIndexByte(image, '/')
	if c := strings.LastIndexByte(image, ':'); c > slash {
		return image[:c], image[c+1:]
	}
	return image, ""
}
