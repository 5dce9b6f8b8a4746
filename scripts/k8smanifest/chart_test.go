package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/vigil-sec/vigil/sensor/config"
)

// objects is a render decoded strictly into the API types.
type objects struct {
	ds       *appsv1.DaemonSet
	cm       *corev1.ConfigMap
	secret   *corev1.Secret
	sa       *corev1.ServiceAccount
	role     *rbacv1.ClusterRole
	binding  *rbacv1.ClusterRoleBinding
	settings config.Config // the ConfigMap's sensor.yaml, read by the sensor's own parser
}

// decode splits a render into its documents and decodes each strictly (an
// unknown or duplicate field is an error) into its kind's type.
func decode(t *testing.T, manifest string) objects {
	t.Helper()
	var o objects
	for i, doc := range strings.Split(manifest, "\n---\n") {
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		var into any
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 DaemonSet":
			o.ds = &appsv1.DaemonSet{}
			into = o.ds
		case "v1 ConfigMap":
			o.cm = &corev1.ConfigMap{}
			into = o.cm
		case "v1 Secret":
			o.secret = &corev1.Secret{}
			into = o.secret
		case "v1 ServiceAccount":
			o.sa = &corev1.ServiceAccount{}
			into = o.sa
		case "rbac.authorization.k8s.io/v1 ClusterRole":
			o.role = &rbacv1.ClusterRole{}
			into = o.role
		case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
			o.binding = &rbacv1.ClusterRoleBinding{}
			into = o.binding
		default:
			t.Fatalf("document %d: unexpected object %s %s", i, head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatalf("document %d (%s): %v", i, head.Kind, err)
		}
	}
	if o.ds == nil || o.cm == nil {
		t.Fatalf("the render lacks the DaemonSet or the ConfigMap:\n%s", manifest)
	}
	o.settings = config.Default()
	if err := o.settings.Parse("ConfigMap sensor.yaml", []byte(o.cm.Data["sensor.yaml"])); err != nil {
		t.Fatalf("the sensor rejects its ConfigMap: %v\n%s", err, o.cm.Data["sensor.yaml"])
	}
	if err := o.settings.Validate(); err != nil {
		t.Fatalf("the sensor rejects its ConfigMap: %v\n%s", err, o.cm.Data["sensor.yaml"])
	}
	return o
}

func (o objects) container(t *testing.T) corev1.Container {
	t.Helper()
	cs := o.ds.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	return cs[0]
}

// mount finds a container's mount of a volume and the volume.
func (o objects) mount(t *testing.T, name string) (corev1.VolumeMount, corev1.Volume) {
	t.Helper()
	c := o.container(t)
	i := slices.IndexFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == name })
	j := slices.IndexFunc(o.ds.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == name })
	if i < 0 || j < 0 {
		t.Fatalf("no mount or volume %q", name)
	}
	return c.VolumeMounts[i], o.ds.Spec.Template.Spec.Volumes[j]
}

// leastCapabilities is what the sensor is given without privileged (docs/kubernetes.md says why each).
var leastCapabilities = []corev1.Capability{"BPF", "PERFMON", "SYS_RESOURCE", "NET_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH", "KILL"}

func values(t *testing.T, file string) map[string]any {
	t.Helper()
	if file == "" {
		return nil
	}
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := loader.LoadValues(f)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkDefaults asserts what every value set keeps unless it changes it.
func checkCommon(t *testing.T, o objects) {
	t.Helper()
	spec := o.ds.Spec.Template.Spec
	if !spec.HostPID || !spec.HostNetwork || spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostPID %v hostNetwork %v dnsPolicy %s", spec.HostPID, spec.HostNetwork, spec.DNSPolicy)
	}
	c := o.container(t)
	if !slices.Equal(c.Args, []string{"--config", "/etc/vigil/config/sensor.yaml"}) {
		t.Errorf("args %q", c.Args)
	}
	m, v := o.mount(t, "config")
	if m.MountPath != "/etc/vigil/config" || !m.ReadOnly || v.ConfigMap == nil || v.ConfigMap.Name != o.cm.Name {
		t.Errorf("config mount %+v volume %+v", m, v)
	}
	// the probes ask the port the sensor's configuration listens on, on loopback
	listen := o.settings.HealthListen
	host, port, _ := strings.Cut(listen, ":")
	if host != "127.0.0.1" {
		t.Errorf("health.listen %q is not on loopback", listen)
	}
	for name, p := range map[string]*corev1.Probe{"/livez": c.LivenessProbe, "/livez ": c.StartupProbe, "/healthz": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Fatalf("probe %s missing", name)
		}
		if p.HTTPGet.Path != strings.TrimSpace(name) || p.HTTPGet.Host != host || strconv.Itoa(p.HTTPGet.Port.IntValue()) != port {
			t.Errorf("probe %s: %s:%s%s, want %s%s", name, p.HTTPGet.Host, p.HTTPGet.Port.String(), p.HTTPGet.Path, listen, name)
		}
	}
	if len(c.Ports) != 1 || strconv.Itoa(int(c.Ports[0].ContainerPort)) != port {
		t.Errorf("ports %+v, want %s", c.Ports, port)
	}
	// the host's file systems: read-only but for the spool and bpffs (the isolation's pins)
	for _, w := range []struct {
		name, host, at string
		readOnly       bool
		kind           corev1.HostPathType
	}{
		{"spool", "/var/lib/vigil", "/var/lib/vigil", false, corev1.HostPathDirectoryOrCreate},
		{"btf", "/sys/kernel/btf", "/sys/kernel/btf", true, corev1.HostPathDirectory},
		{"tracefs", "/sys/kernel/tracing", "/sys/kernel/tracing", true, corev1.HostPathDirectory},
		{"bpffs", "/sys/fs/bpf", "/sys/fs/bpf", false, corev1.HostPathDirectory},
		{"cgroup", "/sys/fs/cgroup", "/sys/fs/cgroup", true, corev1.HostPathDirectory},
		{"machine-id", "/etc/machine-id", "/etc/machine-id", true, corev1.HostPathFile},
		{"passwd", "/etc/passwd", "/etc/passwd", true, corev1.HostPathFile},
	} {
		m, v := o.mount(t, w.name)
		if v.HostPath == nil || v.HostPath.Path != w.host || v.HostPath.Type == nil || *v.HostPath.Type != w.kind {
			t.Errorf("volume %s: %+v, want hostPath %s (%s)", w.name, v.VolumeSource, w.host, w.kind)
		}
		if m.MountPath != w.at || m.ReadOnly != w.readOnly {
			t.Errorf("mount %s: at %s read-only %v, want %s %v", w.name, m.MountPath, m.ReadOnly, w.at, w.readOnly)
		}
	}
	if m, _ := o.mount(t, "bpffs"); m.MountPropagation == nil || *m.MountPropagation != corev1.MountPropagationHostToContainer {
		t.Errorf("bpffs propagation %v", m.MountPropagation)
	}
	if !strings.HasPrefix(o.settings.SpoolDir, "/var/lib/vigil/") {
		t.Errorf("spool.dir %q is not on the spool's hostPath", o.settings.SpoolDir)
	}
	if o.ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		t.Errorf("update strategy %+v", o.ds.Spec.UpdateStrategy)
	}
	if sel := o.ds.Spec.Selector.MatchLabels; len(sel) == 0 {
		t.Error("no selector")
	} else {
		for k, v := range sel {
			if o.ds.Spec.Template.Labels[k] != v {
				t.Errorf("the pods lack the selector's label %s=%s", k, v)
			}
		}
	}
	if o.ds.Namespace != Namespace || o.cm.Namespace != Namespace {
		t.Errorf("namespaces %q %q", o.ds.Namespace, o.cm.Namespace)
	}
}

func checkLeast(t *testing.T, o objects, extra ...corev1.Capability) {
	t.Helper()
	sc := o.container(t).SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Fatalf("security context %+v: want unprivileged, no privilege escalation", sc)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		!slices.Equal(sc.Capabilities.Add, append(slices.Clone(leastCapabilities), extra...)) {
		t.Errorf("capabilities %+v, want drop ALL, add %v %v", sc.Capabilities, leastCapabilities, extra)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("the root file system is writable")
	}
}

func TestChart(t *testing.T) {
	for _, tc := range []struct {
		values string
		check  func(t *testing.T, o objects)
	}{
		{"", func(t *testing.T, o objects) {
			checkLeast(t, o)
			spec := o.ds.Spec.Template.Spec
			if !slices.Equal(spec.Tolerations, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}) {
				t.Errorf("tolerations %+v, want every taint", spec.Tolerations)
			}
			res := o.container(t).Resources
			if !res.Requests.Memory().Equal(resource.MustParse("256Mi")) || !res.Limits.Memory().Equal(resource.MustParse("1Gi")) ||
				!res.Requests.Cpu().Equal(resource.MustParse("100m")) || !res.Limits.Cpu().Equal(resource.MustParse("1")) {
				t.Errorf("resources %+v", res)
			}
			if spec.PriorityClassName != "" {
				t.Errorf("priorityClassName %q by default", spec.PriorityClassName)
			}
			if o.settings.HealthListen != "127.0.0.1:9808" || o.settings.Stream != "vigil-events" {
				t.Errorf("config: health.listen %q stream %q", o.settings.HealthListen, o.settings.Stream)
			}
			if o.secret != nil || slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == "api-key" }) {
				t.Error("an API key is mounted with none given")
			}
			if o.sa == nil || spec.ServiceAccountName != o.sa.Name {
				t.Errorf("service account %v, pods use %q", o.sa, spec.ServiceAccountName)
			}
			if o.role == nil || o.binding == nil {
				t.Fatal("no ClusterRole or binding")
			}
			want := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes/proxy"}, Verbs: []string{"get"}},
				{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}}
			if len(o.role.Rules) != len(want) {
				t.Fatalf("rules %+v", o.role.Rules)
			}
			for i := range want {
				r := o.role.Rules[i]
				if !slices.Equal(r.APIGroups, want[i].APIGroups) || !slices.Equal(r.Resources, want[i].Resources) || !slices.Equal(r.Verbs, want[i].Verbs) {
					t.Errorf("rule %d: %+v, want %+v", i, r, want[i])
				}
			}
			if o.binding.RoleRef.Name != o.role.Name || len(o.binding.Subjects) != 1 ||
				o.binding.Subjects[0].Name != o.sa.Name || o.binding.Subjects[0].Namespace != Namespace {
				t.Errorf("binding %+v", o.binding)
			}
		}},
		{"privileged.yaml", func(t *testing.T, o objects) {
			sc := o.container(t).SecurityContext
			if sc == nil || sc.Privileged == nil || !*sc.Privileged || sc.Capabilities != nil {
				t.Errorf("security context %+v, want privileged alone", sc)
			}
		}},
		{"tolerations.yaml", func(t *testing.T, o objects) {
			checkLeast(t, o)
			spec := o.ds.Spec.Template.Spec
			want := []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
			if !slices.Equal(spec.Tolerations, want) {
				t.Errorf("tolerations %+v", spec.Tolerations)
			}
			if spec.NodeSelector["node-role.kubernetes.io/worker"] != "" || len(spec.NodeSelector) != 2 {
				t.Errorf("nodeSelector %v", spec.NodeSelector)
			}
		}},
		{"resources.yaml", func(t *testing.T, o objects) {
			checkLeast(t, o, "SYS_ADMIN")
			res := o.container(t).Resources
			if !res.Requests.Memory().Equal(resource.MustParse("512Mi")) || !res.Limits.Cpu().Equal(resource.MustParse("2")) {
				t.Errorf("resources %+v", res)
			}
			if p := o.ds.Spec.Template.Spec.PriorityClassName; p != "system-node-critical" {
				t.Errorf("priorityClassName %q", p)
			}
			if o.settings.HealthListen != "127.0.0.1:9999" || o.settings.HealthFailureThreshold.String() != "2m0s" {
				t.Errorf("health %q %v", o.settings.HealthListen, o.settings.HealthFailureThreshold)
			}
		}},
		{"apikey.yaml", func(t *testing.T, o objects) {
			checkLeast(t, o)
			if o.secret == nil || string(o.secret.Data["api-key"]) != "vk_test_0123456789" {
				t.Fatalf("secret %+v", o.secret)
			}
			m, v := o.mount(t, "api-key")
			if v.Secret == nil || v.Secret.SecretName != o.secret.Name || !m.ReadOnly || len(v.Secret.Items) != 1 {
				t.Fatalf("api-key mount %+v volume %+v", m, v)
			}
			if file := filepath.Join(m.MountPath, v.Secret.Items[0].Path); o.settings.RespondKeyFile != file {
				t.Errorf("respond.api_key_file %q, the key is mounted at %q", o.settings.RespondKeyFile, file)
			}
			if o.settings.RespondAPIURL != "https://api.vigil.example.com" || o.settings.LakeBucket != "prod-lake" ||
				!strings.HasPrefix(o.settings.RespondStateFile, "/var/lib/vigil/") {
				t.Errorf("config %+v", o.settings)
			}
			if o.sa.Annotations["eks.amazonaws.com/role-arn"] == "" {
				t.Errorf("service account annotations %v", o.sa.Annotations)
			}
		}},
		{"existing-secret.yaml", func(t *testing.T, o objects) {
			if o.secret != nil || o.sa != nil || o.role != nil || o.binding != nil {
				t.Error("objects rendered that the values turned off")
			}
			if sa := o.ds.Spec.Template.Spec.ServiceAccountName; sa != "vigil" {
				t.Errorf("serviceAccountName %q", sa)
			}
			m, v := o.mount(t, "api-key")
			if v.Secret == nil || v.Secret.SecretName != "vigil-api-key" || v.Secret.Items[0].Key != "token" ||
				o.settings.RespondKeyFile != filepath.Join(m.MountPath, v.Secret.Items[0].Path) {
				t.Errorf("api-key volume %+v, key file %q", v, o.settings.RespondKeyFile)
			}
		}},
	} {
		name := tc.values
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			vals := values(t, tc.values)
			if err := Lint(chartDir, vals); err != nil {
				t.Fatal(err)
			}
			m, err := Render(chartDir, vals)
			if err != nil {
				t.Fatal(err)
			}
			o := decode(t, m)
			checkCommon(t, o)
			tc.check(t, o)
		})
	}
}

// TestLintFindsProblems: the lint this test relies on does fail a broken chart.
func TestLintFindsProblems(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	bad := "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {{ .Values.nope.missing }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "broken.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Lint(dir, nil); err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Fatalf("lint of a broken template: %v", err)
	}
	if _, err := Render(dir, nil); err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Fatalf("render of a broken template: %v", err)
	}
}
