package detect

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/k8saudit"
)

// A CloudWatch Logs subscription filter puts records on the ingest stream that
// are no Parquet batch: gzip-compressed JSON, a DATA_MESSAGE whose logEvents
// each hold one line of the log (or a CONTROL_MESSAGE CloudWatch Logs sends to
// check the stream is writable, which holds nothing). The detect function reads
// the EKS control plane's audit log so: the log group /aws/eks/<cluster>/cluster,
// streams kube-apiserver-audit-*, each message one audit event
// (docs/kubernetes.md#kubernetes-audit-log). Messages of the group's other streams (the
// authenticator's, the scheduler's) are skipped.

// ErrBadLogsPayload is returned (wrapped) for a CloudWatch Logs record that
// cannot be read: it never will be.
var ErrBadLogsPayload = errors.New("unreadable CloudWatch Logs record")

// maxLogsPayload bounds a record's decompressed size: CloudWatch Logs sends
// at most 1 MB of log events a record, which compresses well, but not 64-fold.
const maxLogsPayload = 64 << 20

// auditStreamPrefix begins the names of EKS's audit log streams.
const auditStreamPrefix = "kube-apiserver-audit"

// IsLogsRecord reports whether data is a CloudWatch Logs subscription record:
// gzip, where a Parquet batch begins with PAR1 and an edge record with its own
// magic.
func IsLogsRecord(data []byte) bool {
	return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
}

type logsPayload struct {
	MessageType string `json:"messageType"`
	LogGroup    string `json:"logGroup"`
	LogStream   string `json:"logStream"`
	LogEvents   []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	} `json:"logEvents"`
}

// DecodeLogsRecord returns the K8S_AUDIT events of a CloudWatch Logs
// subscription record: none for a control message or a stream other than the
// audit log's.
func DecodeLogsRecord(data []byte) ([]event.Event, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLogsPayload, err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxLogsPayload+1))
	if err != nil {
		return nil, fmt.Errorf("%w: gunzip: %w", ErrBadLogsPayload, err)
	}
	if len(raw) > maxLogsPayload {
		return nil, fmt.Errorf("%w: more than %d bytes decompressed", ErrBadLogsPayload, maxLogsPayload)
	}
	var p logsPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLogsPayload, err)
	}
	switch p.MessageType {
	case "CONTROL_MESSAGE":
		return nil, nil
	case "DATA_MESSAGE":
	default:
		return nil, fmt.Errorf("%w: messageType %q, want DATA_MESSAGE or CONTROL_MESSAGE", ErrBadLogsPayload, p.MessageType)
	}
	if !strings.HasPrefix(p.LogStream, auditStreamPrefix) {
		return nil, nil
	}
	cluster, err := eksCluster(p.LogGroup)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLogsPayload, err)
	}
	dec := k8saudit.Decoder{Cluster: cluster, Tags: []string{"k8s", "eks"}}
	var out []event.Event
	for i, le := range p.LogEvents {
		evs, err := dec.Decode([]byte(le.Message))
		if err != nil {
			return nil, fmt.Errorf("%w: %s %s logEvents[%d] (id %s): %w", ErrBadLogsPayload, p.LogGroup, p.LogStream, i, le.ID, err)
		}
		out = append(out, evs...)
	}
	return out, nil
}

// eksCluster is the cluster of an EKS control plane's log group,
// /aws/eks/<cluster>/cluster.
func eksCluster(group string) (string, error) {
	rest, ok := strings.CutPrefix(group, "/aws/eks/")
	name, ok2 := strings.CutSuffix(rest, "/cluster")
	if !ok || !ok2 || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("log group %q is not an EKS cluster's (/aws/eks/<cluster>/cluster)", group)
	}
	return name, nil
}

// LogsRecord evaluates the events of a CloudWatch Logs subscription record,
// as Batch does a Parquet batch's; Events returns them after.
func (d *Detector) LogsRecord(dst []Detection, data []byte) ([]Detection, int, error) {
	evs, err := DecodeLogsRecord(data)
	d.events = append(d.events[:0], evs...)
	if err != nil || len(evs) == 0 {
		return dst, 0, err
	}
	dst, err = d.EvaluateContext(context.Background(), dst, d.events)
	return dst, len(d.events), err
}
