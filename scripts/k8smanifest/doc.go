// Command k8smanifest writes deploy/kubernetes/vigil-sensor.yaml, the plain
// Kubernetes manifests of the sensor: the Helm chart deploy/helm/vigil-sensor
// rendered with its default values, as `helm template vigil-sensor
// deploy/helm/vigil-sensor --namespace vigil` renders it (with Helm's Go
// library, no helm binary). Regenerate the file after changing the chart,
//
//	go run ./scripts/k8smanifest -o deploy/kubernetes/vigil-sensor.yaml   (make generate runs it)
//	go run ./scripts/k8smanifest -f my-values.yaml                       (other values, to stdout)
//
// and TestCommittedManifest fails when the committed file is out of date. The
// tests also lint the chart (Helm's lint, warnings count as errors) and decode
// every object it renders, with the default values and the value sets of
// testdata/, strictly into the Kubernetes API types.
package main
