package k8saudit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// Decoder turns audit events of one cluster into K8S_AUDIT events.
type Decoder struct {
	// Cluster names the cluster the audit log comes from: events carry it as
	// their hostname and "k8s-<cluster>" as their sensor id.
	Cluster string
	// Tags are given to every event (routing/tags).
	Tags []string
}

// SensorID is the sensor id of a cluster's events.
func SensorID(cluster string) string { return "k8s-" + cluster }

// auditEvent is an audit.k8s.io/v1 Event, or an EventList (Items).
type auditEvent struct {
	Kind                     string            `json:"kind"`
	APIVersion               string            `json:"apiVersion"`
	AuditID                  string            `json:"auditID"`
	Stage                    string            `json:"stage"`
	RequestURI               string            `json:"requestURI"`
	Verb                     string            `json:"verb"`
	User                     userInfo          `json:"user"`
	ImpersonatedUser         *userInfo         `json:"impersonatedUser"`
	SourceIPs                []string          `json:"sourceIPs"`
	UserAgent                string            `json:"userAgent"`
	ObjectRef                *objectRef        `json:"objectRef"`
	ResponseStatus           *status           `json:"responseStatus"`
	RequestObject            json.RawMessage   `json:"requestObject"`
	RequestReceivedTimestamp string            `json:"requestReceivedTimestamp"`
	StageTimestamp           string            `json:"stageTimestamp"`
	Annotations              map[string]string `json:"annotations"`
	Items                    []json.RawMessage `json:"items"`
}

type userInfo struct {
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

type objectRef struct {
	Resource    string `json:"resource"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	APIGroup    string `json:"apiGroup"`
	Subresource string `json:"subresource"`
}

type status struct {
	Code int32 `json:"code"`
}

// Decode returns the events in data: an Event, an EventList, or JSON lines of
// them. Nothing is returned with an error: a batch is taken whole or not at all.
func (d Decoder) Decode(data []byte) ([]event.Event, error) {
	var out []event.Event
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := valueStart(data, dec.InputOffset())
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		line := lineOf(data, start)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineAt(data, start, err), jsonErr(err))
		}
		evs, err := d.decodeValue(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, evs...)
	}
	if len(out) == 0 {
		return nil, errors.New("no audit events")
	}
	return out, nil
}

// decodeValue decodes one JSON value: an Event or an EventList.
func (d Decoder) decodeValue(raw json.RawMessage) ([]event.Event, error) {
	var a auditEvent
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, jsonErr(err)
	}
	if err := checkVersion(a.APIVersion); err != nil {
		return nil, err
	}
	switch a.Kind {
	case "EventList":
		out := make([]event.Event, 0, len(a.Items))
		for i, it := range a.Items {
			var item auditEvent
			if err := json.Unmarshal(it, &item); err != nil {
				return nil, fmt.Errorf("items[%d]: %w", i, jsonErr(err))
			}
			if item.Kind != "" && item.Kind != "Event" {
				return nil, fmt.Errorf("items[%d]: kind is %q, want Event", i, item.Kind)
			}
			e, err := d.event(&item)
			if err != nil {
				return nil, fmt.Errorf("items[%d]: %w", i, err)
			}
			out = append(out, e)
		}
		return out, nil
	case "Event", "":
		e, err := d.event(&a)
		if err != nil {
			return nil, err
		}
		return []event.Event{e}, nil
	}
	return nil, fmt.Errorf("kind is %q, want Event or EventList", a.Kind)
}

func checkVersion(v string) error {
	switch v {
	case "", "audit.k8s.io/v1", "audit.k8s.io/v1beta1":
		return nil
	}
	return fmt.Errorf("apiVersion is %q, want audit.k8s.io/v1", v)
}

// event builds the K8S_AUDIT event of one audit event.
func (d Decoder) event(a *auditEvent) (event.Event, error) {
	if err := checkVersion(a.APIVersion); err != nil {
		return event.Event{}, err
	}
	if a.AuditID == "" {
		return event.Event{}, errors.New("auditID is missing")
	}
	if a.Stage == "" {
		return event.Event{}, errors.New("stage is missing")
	}
	if a.Verb == "" {
		return event.Event{}, errors.New("verb is missing")
	}
	ts, field := a.StageTimestamp, "stageTimestamp"
	if ts == "" {
		ts, field = a.RequestReceivedTimestamp, "requestReceivedTimestamp"
	}
	if ts == "" {
		return event.Event{}, errors.New("stageTimestamp is missing")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return event.Event{}, fmt.Errorf("%s: %q is not an RFC 3339 time", field, ts)
	}
	e := event.Event{
		SensorID:  SensorID(d.Cluster),
		Hostname:  d.Cluster,
		Tags:      d.Tags,
		Type:      event.K8sAudit,
		TimeNanos: t.UnixNano(),
		ID:        a.AuditID + "/" + a.Stage,

		K8sVerb:       a.Verb,
		K8sUser:       a.User.Username,
		K8sGroups:     a.User.Groups,
		K8sStage:      a.Stage,
		K8sRequestURI: a.RequestURI,
		K8sSourceIPs:  a.SourceIPs,
		K8sUserAgent:  a.UserAgent,
		K8sDecision:   a.Annotations["authorization.k8s.io/decision"],
		K8sReason:     a.Annotations["authorization.k8s.io/reason"],
	}
	if a.ImpersonatedUser != nil {
		e.K8sImpersonatedUser = a.ImpersonatedUser.Username
	}
	if a.ResponseStatus != nil {
		e.K8sResponseCode = a.ResponseStatus.Code
	}
	if r := a.ObjectRef; r != nil {
		e.K8sAPIGroup, e.K8sResource, e.K8sSubresource = r.APIGroup, r.Resource, r.Subresource
		e.K8sNamespace, e.K8sName = r.Namespace, r.Name
	}
	if err := readRequestObject(&e, a); err != nil {
		return event.Event{}, fmt.Errorf("requestObject%w", err)
	}
	return e, nil
}

// jsonErr says what is wrong with a value, naming the field.
func jsonErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("want a JSON object, got a %s", te.Value)
		}
		// A pod's spec embeds podSpec: its fields are the spec's in JSON.
		field := strings.ReplaceAll(te.Field, "podSpec.", "")
		return fmt.Errorf("%s: want %s, got a %s", field, kindName(te.Type.String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return err
}

func kindName(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "an object"
}

// valueStart is the offset of the next value after off: past white space.
func valueStart(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n':
			off++
			continue
		}
		break
	}
	return off
}

// lineOf is the 1-based line of offset off.
func lineOf(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

// lineAt is the line of a syntax error (its offset), else of the value.
func lineAt(data []byte, start int64, err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return lineOf(data, max(se.Offset-1, start)) // the decoder's offsets count from the start of data
	}
	return lineOf(data, start)
}
