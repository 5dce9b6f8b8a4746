package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The kubelet's /pods answer: a v1 PodList, of which the sensor reads only
// these fields (k8s.io/api is not linked into the sensor for them).
type podList struct {
	Kind  string    `json:"kind"`
	Items []podJSON `json:"items"`
}

type podJSON struct {
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		UID       string            `json:"uid"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		ServiceAccountName string          `json:"serviceAccountName"`
		NodeName           string          `json:"nodeName"`
		Containers         []containerJSON `json:"containers"`
		InitContainers     []containerJSON `json:"initContainers"`
	} `json:"spec"`
	Status struct {
		ContainerStatuses     []statusJSON `json:"containerStatuses"`
		InitContainerStatuses []statusJSON `json:"initContainerStatuses"`
	} `json:"status"`
}

type containerJSON struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type statusJSON struct {
	Name        string `json:"name"`
	ContainerID string `json:"containerID"`
	Image       string `json:"image"`
	ImageID     string `json:"imageID"`
}

// Pod is what the sensor keeps of one pod.
type Pod struct {
	UID            string
	Name           string
	Namespace      string
	Labels         []string // "key=value", sorted; shared by the pod's events, never modified
	ServiceAccount string
	Node           string
	// Containers maps the runtime's container id (without its
	// "containerd://" scheme) to the container.
	Containers map[string]Container
}

// Container is one container of a pod.
type Container struct {
	Name string
	// Image is the image as the pod spec names it (the status's, resolved by
	// the runtime, when the spec has none); ImageID the runtime's digest.
	Image   string
	ImageID string
}

// ParsePodList reads the kubelet's /pods JSON. An item without a UID, a
// status without a container id scheme or an answer that is not a PodList is
// an error naming the item (its index and name) and the field.
func ParsePodList(data []byte) ([]Pod, error) {
	var l podList
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("pod list: %w", err)
	}
	if l.Kind != "PodList" {
		return nil, fmt.Errorf("pod list: kind %q, want PodList", l.Kind)
	}
	pods := make([]Pod, 0, len(l.Items))
	for i := range l.Items {
		p, err := l.Items[i].pod()
		if err != nil {
			return nil, fmt.Errorf("pod list: items[%d] (%s/%s): %w", i,
				l.Items[i].Metadata.Namespace, l.Items[i].Metadata.Name, err)
		}
		pods = append(pods, p)
	}
	return pods, nil
}

func (j *podJSON) pod() (Pod, error) {
	if j.Metadata.UID == "" {
		return Pod{}, fmt.Errorf("metadata.uid is empty")
	}
	p := Pod{UID: j.Metadata.UID, Name: j.Metadata.Name, Namespace: j.Metadata.Namespace,
		ServiceAccount: j.Spec.ServiceAccountName, Node: j.Spec.NodeName,
		Containers: map[string]Container{}}
	for k, v := range j.Metadata.Labels {
		p.Labels = append(p.Labels, k+"="+v)
	}
	sort.Strings(p.Labels)
	images := map[string]string{}
	for _, c := range append(j.Spec.Containers, j.Spec.InitContainers...) {
		images[c.Name] = c.Image
	}
	for _, list := range []struct {
		field    string
		statuses []statusJSON
	}{{"containerStatuses", j.Status.ContainerStatuses}, {"initContainerStatuses", j.Status.InitContainerStatuses}} {
		field := list.field
		for i, s := range list.statuses {
			if s.ContainerID == "" {
				continue // not started yet
			}
			_, id, ok := strings.Cut(s.ContainerID, "://")
			if !ok || id == "" {
				return Pod{}, fmt.Errorf("status.%s[%d].containerID %q is not <runtime>://<id>", field, i, s.ContainerID)
			}
			img := images[s.Name]
			if img == "" {
				img = s.Image
			}
			p.Containers[id] = Container{Name: s.Name, Image: img, ImageID: s.ImageID}
		}
	}
	return p, nil
}
