package k8saudit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vigil-sec/vigil/internal/event"
)

// podSpec is the part of a PodSpec that bears on security.
type podSpec struct {
	Containers          []container `json:"containers"`
	InitContainers      []container `json:"initContainers"`
	EphemeralContainers []container `json:"ephemeralContainers"`
	Volumes             []volume    `json:"volumes"`
	HostNetwork         bool        `json:"hostNetwork"`
	HostPID             bool        `json:"hostPID"`
	HostIPC             bool        `json:"hostIPC"`
}

type container struct {
	Image           string `json:"image"`
	SecurityContext *struct {
		Privileged   *bool `json:"privileged"`
		Capabilities *struct {
			Add []string `json:"add"`
		} `json:"capabilities"`
	} `json:"securityContext"`
}

type volume struct {
	HostPath *struct {
		Path string `json:"path"`
	} `json:"hostPath"`
}

// pod is a Pod, or (Template) a workload with a pod template, or (JobTemplate)
// a CronJob.
type pod struct {
	Spec *struct {
		podSpec
		Template *struct {
			Spec *podSpec `json:"spec"`
		} `json:"template"`
		JobTemplate *struct {
			Spec *struct {
				Template *struct {
					Spec *podSpec `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

type service struct {
	Spec *struct {
		Type string `json:"type"`
	} `json:"spec"`
}

type role struct {
	Rules []struct {
		Verbs     []string `json:"verbs"`
		Resources []string `json:"resources"`
	} `json:"rules"`
}

type binding struct {
	RoleRef *struct {
		Name string `json:"name"`
	} `json:"roleRef"`
	Subjects []struct {
		Name string `json:"name"`
	} `json:"subjects"`
}

// workloads are the resources whose objects hold a pod spec or template.
var workloads = map[string]bool{
	"pods": true, "deployments": true, "daemonsets": true, "statefulsets": true, "replicasets": true,
	"replicationcontrollers": true, "jobs": true, "cronjobs": true, "podtemplates": true,
}

// readRequestObject fills e's fields read from the request object. An error
// names the field below requestObject (".spec.hostNetwork: ...").
func readRequestObject(e *event.Event, a *auditEvent) error {
	obj := bytes.TrimSpace(a.RequestObject)
	if len(obj) == 0 || obj[0] != '{' || a.ObjectRef == nil {
		return nil // none, null, or a JSON patch (a list)
	}
	switch a.Verb {
	case "create", "update", "patch":
	default:
		return nil
	}
	r := a.ObjectRef
	if r.Subresource != "" && !(r.Resource == "pods" && r.Subresource == "ephemeralcontainers") {
		return nil
	}
	switch {
	case workloads[r.Resource] && (r.APIGroup == "" || r.APIGroup == "apps" || r.APIGroup == "batch"):
		var p pod
		if err := unmarshal(obj, &p); err != nil {
			return err
		}
		if p.Spec == nil {
			return nil
		}
		specs := []*podSpec{&p.Spec.podSpec}
		if t := p.Spec.Template; t != nil && t.Spec != nil {
			specs = append(specs, t.Spec)
		}
		if j := p.Spec.JobTemplate; j != nil && j.Spec != nil && j.Spec.Template != nil && j.Spec.Template.Spec != nil {
			specs = append(specs, j.Spec.Template.Spec)
		}
		for _, s := range specs {
			addPodSpec(e, s)
		}
	case r.Resource == "services" && r.APIGroup == "":
		var s service
		if err := unmarshal(obj, &s); err != nil {
			return err
		}
		if s.Spec != nil {
			e.K8sServiceType = s.Spec.Type
		}
	case (r.Resource == "roles" || r.Resource == "clusterroles") && r.APIGroup == "rbac.authorization.k8s.io":
		var ro role
		if err := unmarshal(obj, &ro); err != nil {
			return err
		}
		for _, rule := range ro.Rules {
			e.K8sRuleVerbs = appendNew(e.K8sRuleVerbs, rule.Verbs...)
			e.K8sRuleResources = appendNew(e.K8sRuleResources, rule.Resources...)
		}
	case (r.Resource == "rolebindings" || r.Resource == "clusterrolebindings") && r.APIGroup == "rbac.authorization.k8s.io":
		var b binding
		if err := unmarshal(obj, &b); err != nil {
			return err
		}
		if b.RoleRef != nil {
			e.K8sRoleRef = b.RoleRef.Name
		}
		for _, s := range b.Subjects {
			e.K8sSubjects = appendNew(e.K8sSubjects, s.Name)
		}
	}
	return nil
}

func unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		err = jsonErr(err)
		return fmt.Errorf(".%w", err)
	}
	return nil
}

func addPodSpec(e *event.Event, s *podSpec) {
	e.K8sHostNetwork |= b2u(s.HostNetwork)
	e.K8sHostPID |= b2u(s.HostPID)
	e.K8sHostIPC |= b2u(s.HostIPC)
	for _, v := range s.Volumes {
		if v.HostPath != nil {
			e.K8sHostPaths = appendNew(e.K8sHostPaths, v.HostPath.Path)
		}
	}
	for _, list := range [][]container{s.Containers, s.InitContainers, s.EphemeralContainers} {
		for _, c := range list {
			if c.Image != "" {
				e.K8sImages = appendNew(e.K8sImages, c.Image)
			}
			sc := c.SecurityContext
			if sc == nil {
				continue
			}
			if sc.Privileged != nil && *sc.Privileged {
				e.K8sPrivileged = 1
			}
			if sc.Capabilities != nil {
				e.K8sCapabilities = appendNew(e.K8sCapabilities, sc.Capabilities.Add...)
			}
		}
	}
}

// appendNew appends the values not already in list.
func appendNew(list []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
