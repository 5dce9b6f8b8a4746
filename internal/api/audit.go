package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/k8saudit"
)

// EventStream takes Parquet batches of events, as a sensor puts them: the
// ingest stream (Kinesis in AWS, the in-process stream of vigil local).
type EventStream interface {
	Put(ctx context.Context, partitionKey string, records [][]byte) error
}

// MaxAuditBody bounds the body of an audit webhook request: the API server's
// batches (400 events by default) of Metadata and Request level events fit
// many times over, and it stays under Lambda's 6 MB payload limit.
const MaxAuditBody = 5 << 20

// maxAuditRecord bounds one record put on the stream, as Kinesis does.
const maxAuditRecord = 1 << 20

// postAudit takes the audit events the Kubernetes API server's webhook backend
// POSTs (an EventList; JSON lines and single events too) and puts them on the
// stream as K8S_AUDIT events of the key's cluster. A key of role k8s-audit
// posts for its own cluster (its sensor_id); an admin names one with
// ?cluster=.
func (s *Server) postAudit(w http.ResponseWriter, r *http.Request) {
	id, _ := IdentityFrom(r.Context())
	cluster := id.SensorID
	switch {
	case id.Role == RoleK8sAudit:
	case id.Role.rank() >= RoleAdmin.rank():
		cluster = r.URL.Query().Get("cluster")
		if err := CheckCluster(cluster); err != nil {
			s.fail(w, r, badRequest("?cluster=: %v", err))
			return
		}
	default:
		s.fail(w, r, forbidden("API key %s has role %s: %s needs a k8s-audit or admin key", id.Name, id.Role, r.Pattern))
		return
	}
	if s.Stream == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this API has no event stream to put audit events on"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxAuditBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body larger than %d bytes: lower the webhook's --audit-webhook-batch-max-size", MaxAuditBody)})
		return
	case err != nil:
		s.fail(w, r, badRequest("reading the body: %v", err))
		return
	}
	evs, err := k8saudit.Decoder{Cluster: cluster, Tags: []string{"k8s"}}.Decode(body)
	if err != nil {
		s.fail(w, r, badRequest("audit events: %v", err))
		return
	}
	records, err := encodeRecords(evs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Stream.Put(r.Context(), k8saudit.SensorID(cluster), records); err != nil {
		s.fail(w, r, fmt.Errorf("put audit events: %w", err))
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"events": len(evs), "records": len(records)})
}

// encodeRecords encodes events as Parquet batches of at most maxAuditRecord
// bytes, halving a batch that is larger.
func encodeRecords(evs []event.Event) ([][]byte, error) {
	data, err := event.NewEncoder().Encode(evs)
	if err != nil {
		return nil, fmt.Errorf("encode audit events: %w", err)
	}
	if len(data) <= maxAuditRecord {
		return [][]byte{data}, nil
	}
	if len(evs) == 1 {
		return nil, badRequest("audit event %s is %d bytes as Parquet, more than a record's %d", evs[0].ID, len(data), maxAuditRecord)
	}
	a, err := encodeRecords(evs[:len(evs)/2])
	if err != nil {
		return nil, err
	}
	b, err := encodeRecords(evs[len(evs)/2:])
	return append(a, b...), err
}

// CheckCluster refuses a cluster name that is empty, longer than 100
// characters, or holds other than letters, digits, '-', '_' and '.'.
func CheckCluster(name string) error {
	if name == "" || len(name) > 100 {
		return fmt.Errorf("cluster name %q: want 1 to 100 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("cluster name %q: only letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}
