package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/tuning"
)

// Status is where a detection is in its life.
type Status string

// Statuses. Every detection starts new.
const (
	StatusNew           Status = "new"
	StatusAcknowledged  Status = "acknowledged"
	StatusResolved      Status = "resolved"
	StatusFalsePositive Status = "false_positive"
)

// Statuses lists the statuses a detection may have.
var Statuses = []Status{StatusNew, StatusAcknowledged, StatusResolved, StatusFalsePositive}

func validStatus(s Status) bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

func statusList() string {
	names := make([]string, len(Statuses))
	for i, s := range Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Comment is a note someone left on a detection.
type Comment struct {
	Author string    `json:"author"`
	Time   time.Time `json:"time"`
	Text   string    `json:"text"`
}

// Change is one entry of a detection's history: who changed what, when.
type Change struct {
	Time  time.Time `json:"time"`
	By    string    `json:"by"`
	Field string    `json:"field"` // status, assignee or comment
	From  string    `json:"from,omitempty"`
	To    string    `json:"to,omitempty"`
}

// Triage is what people did with a detection: stored with it, changed only
// through the API. The zero value is a detection nobody has touched (status new).
type Triage struct {
	Status   Status    `json:"status"`
	Assignee string    `json:"assignee,omitempty"`
	Comments []Comment `json:"comments"`
	History  []Change  `json:"history"`
	// Version counts the changes; stores write a change only over the version it
	// was made from, so that no concurrent change is lost.
	Version int64 `json:"version"`
}

// Normalize fills the defaults of a detection nobody has touched.
func (t *Triage) Normalize() {
	if t.Status == "" {
		t.Status = StatusNew
	}
	if t.Comments == nil {
		t.Comments = []Comment{}
	}
	if t.History == nil {
		t.History = []Change{}
	}
}

// Limits of what people write on a detection.
const (
	MaxAssignee = 128
	MaxComment  = 8 << 10
	// MaxComments bounds a detection's comments.
	MaxComments = 200
	// MaxTriage bounds a detection's triage as JSON (its comments and history),
	// so that its stored item, the detection's document with it, stays within
	// DynamoDB's 400 KB: a change that would make it larger is refused (409).
	MaxTriage = 256 << 10
)

// patch is the body of PATCH .../detections/{id}.
type patch struct {
	Status   *Status `json:"status"`
	Assignee *string `json:"assignee"`
}

// apply changes t as p asks, recording each change as by at now.
func (p *patch) apply(t *Triage, by string, now time.Time) {
	t.Normalize()
	if p.Status != nil && *p.Status != t.Status {
		t.History = append(t.History, Change{Time: now, By: by, Field: "status", From: string(t.Status), To: string(*p.Status)})
		t.Status = *p.Status
	}
	if p.Assignee != nil && *p.Assignee != t.Assignee {
		t.History = append(t.History, Change{Time: now, By: by, Field: "assignee", From: t.Assignee, To: *p.Assignee})
		t.Assignee = *p.Assignee
	}
	t.Version++
}

func (p *patch) check() error {
	if p.Status == nil && p.Assignee == nil {
		return badRequest("body: give status (%s) or assignee, or both", statusList())
	}
	if p.Status != nil && !validStatus(*p.Status) {
		return badRequest("status %q: want one of %s", *p.Status, statusList())
	}
	if p.Assignee != nil {
		a := strings.TrimSpace(*p.Assignee)
		if len(a) > MaxAssignee {
			return badRequest("assignee: longer than %d bytes", MaxAssignee)
		}
		if !printable(a) {
			return badRequest("assignee %q: control characters are not allowed", a)
		}
		*p.Assignee = a
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// detectionView is a detection as GET .../detections/{id} shows it: its stored
// document and its triage, in one object.
func detectionView(doc json.RawMessage, t Triage, extra map[string]any) (json.RawMessage, error) {
	t.Normalize()
	fields := map[string]any{"status": t.Status, "assignee": t.Assignee, "comments": t.Comments, "history": t.History}
	for k, v := range extra {
		fields[k] = v
	}
	return MergeObject(doc, fields)
}

// MergeObject returns the JSON object doc with fields added (doc must hold
// none of them).
func MergeObject(doc json.RawMessage, fields map[string]any) (json.RawMessage, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) < 2 || doc[0] != '{' || doc[len(doc)-1] != '}' {
		return nil, fmt.Errorf("stored detection is not a JSON object")
	}
	add, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(doc) + len(add))
	b.Write(doc[:len(doc)-1])
	if len(bytes.TrimSpace(doc[1:len(doc)-1])) > 0 && len(add) > 2 {
		b.WriteByte(',')
	}
	b.Write(add[1:])
	return b.Bytes(), nil
}

func (s *Server) getDetection(w http.ResponseWriter, r *http.Request) {
	doc, t, err := s.Detections.GetDetection(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeDetection(w, r, http.StatusOK, doc, t, nil)
}

func (s *Server) writeDetection(w http.ResponseWriter, r *http.Request, status int, doc json.RawMessage, t Triage, extra map[string]any) {
	out, err := detectionView(doc, t, extra)
	if err != nil {
		s.fail(w, r, fmt.Errorf("detection %s: %w", r.PathValue("id"), err))
		return
	}
	writeJSON(w, status, out)
}

func (s *Server) patchDetection(w http.ResponseWriter, r *http.Request) {
	var p patch
	if err := decodeBody(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := p.check(); err != nil {
		s.fail(w, r, err)
		return
	}
	who, _ := IdentityFrom(r.Context())
	now := s.now().UTC()
	doc, t, err := s.Detections.UpdateTriage(r.Context(), r.PathValue("id"), func(t *Triage) error {
		p.apply(t, who.Name, now)
		return t.fits()
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var extra map[string]any
	if p.Status != nil && *p.Status == StatusFalsePositive {
		// the change is stored: a detection no entry can be made for (an event
		// with none of the key fields) still answers 200, saying why
		if entry, err := suppression(doc); err != nil {
			extra = map[string]any{"tuning_error": err.Error()}
		} else {
			extra = map[string]any{"tuning": entry}
		}
	}
	s.writeDetection(w, r, http.StatusOK, doc, t, extra)
}

func (s *Server) commentDetection(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	text := strings.TrimSpace(req.Text)
	switch {
	case text == "":
		s.fail(w, r, badRequest("text is required: the comment"))
		return
	case len(text) > MaxComment:
		s.fail(w, r, badRequest("text: longer than %d bytes", MaxComment))
		return
	case !utf8.ValidString(text) || strings.ContainsRune(text, 0):
		s.fail(w, r, badRequest("text: not valid UTF-8 text"))
		return
	}
	who, _ := IdentityFrom(r.Context())
	now := s.now().UTC()
	doc, t, err := s.Detections.UpdateTriage(r.Context(), r.PathValue("id"), func(t *Triage) error {
		t.Normalize()
		if len(t.Comments) >= MaxComments {
			return fmt.Errorf("detection has %d comments, the most it keeps: %w", len(t.Comments), ErrConflict)
		}
		t.Comments = append(t.Comments, Comment{Author: who.Name, Time: now, Text: text})
		t.History = append(t.History, Change{Time: now, By: who.Name, Field: "comment", To: text})
		t.Version++
		return t.fits()
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeDetection(w, r, http.StatusCreated, doc, t, nil)
}

// fits refuses a triage larger than MaxTriage as JSON.
func (t *Triage) fits() error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if len(b) > MaxTriage {
		return fmt.Errorf("detection's comments and history would take %d bytes, more than the %d bytes a detection keeps: %w", len(b), MaxTriage, ErrConflict)
	}
	return nil
}

// storedDetection is what the tuning entry needs of a stored document.
type storedDetection struct {
	ID    string         `json:"id"`
	Rule  string         `json:"rule"`
	Event map[string]any `json:"event"`
}

// suppression is the tuning entry for review that would suppress the
// detection's rule for its event's key fields.
func suppression(doc json.RawMessage) (string, error) {
	var d storedDetection
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return "", err
	}
	ev, err := event.FromTree(d.Event)
	if err != nil {
		return "", err
	}
	return tuning.Suppress(d.Rule, d.ID, &ev)
}

// Listed is a stored detection's document as lists show it: with its status
// and assignee.
func Listed(doc json.RawMessage, t *Triage) (json.RawMessage, error) {
	st, assignee := StatusNew, ""
	if t != nil {
		if t.Status != "" {
			st = t.Status
		}
		assignee = t.Assignee
	}
	fields := map[string]any{"status": st}
	if assignee != "" {
		fields["assignee"] = assignee
	}
	return MergeObject(doc, fields)
}

// Clone returns a copy of t that shares no slice with it.
func (t Triage) Clone() Triage {
	t.Comments = append([]Comment(nil), t.Comments...)
	t.History = append([]Change(nil), t.History...)
	return t
}
