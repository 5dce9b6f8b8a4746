package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/dashboard"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/task"
)

// StoreFile is the name of the store's log in its directory.
const StoreFile = "store.jsonl"

// Store is the embedded store of `vigil local`: detections, sensors, tasks and API
// keys, with the semantics of the DynamoDB tables (internal/aws) they stand in for:
//
//   - detections are idempotent by id: Claim returns only those not yet published,
//     so a replayed batch neither duplicates nor republishes a detection;
//   - List pages detections newest first (by time, then id), filtered by tag or
//     sensor and by time, with opaque cursors;
//   - a heartbeat updates its sensor only when newer than the one stored;
//   - a detection's triage (status, assignee, comments, history) changes under
//     the store's lock, so concurrent changes are all kept, one after the other;
//   - a task's final status is written once;
//   - API keys are kept only as their SHA-256; revoking a key ends the dashboard
//     sessions opened with it;
//   - dashboard sessions are kept by the hash of their id.
//
// Everything lives in memory and in one append-only JSON-lines log, written and
// fsynced before a call returns, so whatever a call accepted survives a crash or
// a restart. A torn last line (a crash mid-write) is dropped when the store opens;
// the log is compacted at open when most of it is superseded. One process at a
// time may open a directory.
type Store struct {
	dir  string
	lock *os.File
	// Now is the clock of keys' last use and of dropping expired sessions;
	// default time.Now.
	Now func() time.Time

	mu      sync.RWMutex
	f       *os.File
	lines   int
	dets    map[string]*detRec
	order   []*detRec // newest first
	sensors map[string]*sensorRec
	tasks   map[string]task.Task
	keys    map[string]api.Key // by hash
	sess    map[string]dashboard.Session
}

type detRec struct {
	ID        string          `json:"id"`
	TimeID    string          `json:"time_id"`
	SensorID  string          `json:"sensor_id"`
	Tags      []string        `json:"tags,omitempty"`
	Doc       json.RawMessage `json:"doc"`
	Published bool            `json:"published,omitempty"`
	// Triage is what people did with the detection; nil until someone did.
	Triage *api.Triage `json:"triage,omitempty"`
}

// triageRec is a detection's triage after a change.
type triageRec struct {
	ID     string     `json:"id"`
	Triage api.Triage `json:"triage"`
}

type sensorRec struct {
	Sensor   api.Sensor `json:"sensor"`
	LastSeen int64      `json:"last_seen_ns"`
}

type keyRec struct {
	Hash     string    `json:"hash"`
	Org      string    `json:"org"`
	Name     string    `json:"name"`
	Prefix   string    `json:"prefix,omitempty"`
	Created  time.Time `json:"created,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Revoked  bool      `json:"revoked,omitempty"`
	Role     api.Role  `json:"role,omitempty"`
	SensorID string    `json:"sensor_id,omitempty"`
}

func newKeyRec(hash string, k api.Key) *keyRec {
	return &keyRec{Hash: hash, Org: k.Org, Name: k.Name, Prefix: k.Prefix, Created: k.Created, LastUsed: k.LastUsed, Revoked: k.Revoked,
		Role: k.Role, SensorID: k.SensorID}
}

func (r *keyRec) key() api.Key {
	return api.Key{ID: api.KeyID(r.Hash), Prefix: r.Prefix, Org: r.Org, Name: r.Name, Created: r.Created, LastUsed: r.LastUsed, Revoked: r.Revoked,
		Role: r.Role, SensorID: r.SensorID}
}

// sessionRec is a dashboard session, or its end (Ended, with only Hash set).
type sessionRec struct {
	Hash string `json:"hash"`
	dashboard.Session
	Ended bool `json:"ended,omitempty"`
}

// logRec is one line of the log; exactly one field is set.
type logRec struct {
	Detection *detRec     `json:"detection,omitempty"`
	Triage    *triageRec  `json:"triage,omitempty"`
	Published []string    `json:"published,omitempty"`
	Sensor    *sensorRec  `json:"sensor,omitempty"`
	Task      *task.Task  `json:"task,omitempty"`
	Key       *keyRec     `json:"key,omitempty"`
	Session   *sessionRec `json:"session,omitempty"`
}

// Errors of the store, wrapping the API's so it answers 404 and 409.
var (
	ErrTaskNotFound = fmt.Errorf("task %w", api.ErrNotFound)
	ErrTaskFinal    = fmt.Errorf("task already ended: %w", api.ErrConflict)
	ErrLocked       = errors.New("store is in use by another process")
)

// maxLine bounds one line of the log (one detection document).
const maxLine = 64 << 20

// OpenStore opens (creating it if needed) the store in dir.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{dir: dir, lock: lock, dets: map[string]*detRec{}, sensors: map[string]*sensorRec{},
		tasks: map[string]task.Task{}, keys: map[string]api.Key{}, sess: map[string]dashboard.Session{}}
	if err := s.load(); err != nil {
		unlockDir(lock)
		return nil, err
	}
	return s, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Close closes the log and releases the directory.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if s.lock != nil {
		unlockDir(s.lock)
		s.lock = nil
	}
	return err
}

func (s *Store) path() string { return filepath.Join(s.dir, StoreFile) }

// load replays the log, drops a torn last line and compacts when worthwhile.
func (s *Store) load() error {
	f, err := os.OpenFile(s.path(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	line := 0
	for {
		b, rerr := r.ReadBytes('\n')
		if len(b) > 0 {
			line++
			complete := b[len(b)-1] == '\n'
			var rec logRec
			perr := json.Unmarshal(b, &rec)
			if perr == nil {
				perr = s.apply(&rec)
			}
			if perr != nil || !complete {
				if rerr == io.EOF || !complete {
					// a torn last line: the write it belonged to never returned
					if err := f.Truncate(off); err != nil {
						f.Close()
						return fmt.Errorf("store %s: drop torn line %d: %w", s.path(), line, err)
					}
					break
				}
				f.Close()
				return fmt.Errorf("store %s:%d: %w", s.path(), line, perr)
			}
			s.lines++
			off += int64(len(b))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			f.Close()
			return fmt.Errorf("read store %s: %w", s.path(), rerr)
		}
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("store %s: %w", s.path(), err)
	}
	s.f = f
	sort.Slice(s.order, func(i, j int) bool { return s.order[i].TimeID > s.order[j].TimeID })
	if live := len(s.dets) + len(s.sensors) + len(s.tasks) + len(s.keys) + len(s.sess); s.lines > 2*live+1024 {
		return s.compact()
	}
	return nil
}

// apply folds one log record into memory (no sorting: load sorts once).
func (s *Store) apply(rec *logRec) error {
	switch {
	case rec.Detection != nil:
		d := rec.Detection
		if d.ID == "" {
			return errors.New("detection without id")
		}
		if old, ok := s.dets[d.ID]; ok {
			old.Published = old.Published || d.Published
			return nil
		}
		s.dets[d.ID] = d
		s.order = append(s.order, d)
	case rec.Triage != nil:
		d, ok := s.dets[rec.Triage.ID]
		if !ok {
			return fmt.Errorf("triage of detection %q, which is not stored before it", rec.Triage.ID)
		}
		t := rec.Triage.Triage
		d.Triage = &t
	case rec.Published != nil:
		for _, id := range rec.Published {
			if d, ok := s.dets[id]; ok {
				d.Published = true
			}
		}
	case rec.Sensor != nil:
		sn := rec.Sensor
		if old, ok := s.sensors[sn.Sensor.SensorID]; !ok || old.LastSeen < sn.LastSeen {
			s.sensors[sn.Sensor.SensorID] = sn
		}
	case rec.Task != nil:
		s.tasks[rec.Task.ID] = *rec.Task
	case rec.Key != nil:
		s.keys[rec.Key.Hash] = rec.Key.key()
	case rec.Session != nil:
		if rec.Session.Ended {
			delete(s.sess, rec.Session.Hash)
		} else {
			s.sess[rec.Session.Hash] = rec.Session.Session
		}
	default:
		return errors.New("empty record")
	}
	return nil
}

// write appends records to the log and syncs it. The caller holds s.mu and
// changes memory only after write succeeds.
func (s *Store) write(recs ...logRec) error {
	if s.f == nil {
		return errors.New("store is closed")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return err
		}
	}
	if buf.Len() > maxLine*max(1, len(recs)) {
		return fmt.Errorf("record of %d bytes is too large", buf.Len())
	}
	if _, err := s.f.Write(buf.Bytes()); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.lines += len(recs)
	return nil
}

// compact rewrites the log with one record per live item, atomically.
func (s *Store) compact() error {
	var recs []logRec
	for i := len(s.order) - 1; i >= 0; i-- { // oldest first, like the original log
		recs = append(recs, logRec{Detection: s.order[i]})
	}
	for _, id := range sortedKeys(s.sensors) {
		recs = append(recs, logRec{Sensor: s.sensors[id]})
	}
	for _, id := range sortedKeys(s.tasks) {
		t := s.tasks[id]
		recs = append(recs, logRec{Task: &t})
	}
	for _, h := range sortedKeys(s.keys) {
		recs = append(recs, logRec{Key: newKeyRec(h, s.keys[h])})
	}
	now := s.now()
	for _, h := range sortedKeys(s.sess) {
		if se := s.sess[h]; now.Before(se.Expires) { // expired sessions go
			recs = append(recs, logRec{Session: &sessionRec{Hash: h, Session: se}})
		}
	}
	tmp, err := os.CreateTemp(s.dir, ".store-*")
	if err != nil {
		return fmt.Errorf("compact store: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			tmp.Close()
			return fmt.Errorf("compact store: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("compact store: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("compact store: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path()); err != nil {
		tmp.Close()
		return fmt.Errorf("compact store: %w", err)
	}
	syncDir(s.dir)
	if s.f != nil {
		s.f.Close()
	}
	s.f = tmp
	if _, err := tmp.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("compact store: %w", err)
	}
	s.lines = len(recs)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// timeID sorts by time, then id: fixed-width UTC so strings compare like times
// (the same key as the DynamoDB tables').
func timeID(t time.Time, id string) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + id
}

// insert puts d into order, newest first.
func (s *Store) insert(d *detRec) {
	i := sort.Search(len(s.order), func(i int) bool { return s.order[i].TimeID <= d.TimeID })
	s.order = slices.Insert(s.order, i, d)
}

// Claim stores ds and returns those that still need publishing: new ones and ones
// stored before but never marked published. It implements detect.DetectionStore.
func (s *Store) Claim(_ context.Context, ds []detect.Detection) ([]detect.Detection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []detect.Detection
	var recs []logRec
	seen := map[string]bool{}
	for i := range ds {
		det := &ds[i]
		if old, ok := s.dets[det.ID]; ok {
			if !old.Published && !seen[det.ID] {
				out = append(out, *det)
				seen[det.ID] = true
			}
			continue
		}
		if seen[det.ID] {
			continue
		}
		doc, err := json.Marshal(det)
		if err != nil {
			return nil, fmt.Errorf("store detection %s: %w", det.ID, err)
		}
		seen[det.ID] = true
		recs = append(recs, logRec{Detection: &detRec{ID: det.ID, TimeID: timeID(det.Time, det.ID),
			SensorID: det.Event.SensorID, Tags: det.Event.Tags, Doc: doc}})
		out = append(out, *det)
	}
	if len(recs) > 0 {
		if err := s.write(recs...); err != nil {
			return nil, fmt.Errorf("store %d detections: %w", len(recs), err)
		}
		for _, r := range recs {
			s.dets[r.Detection.ID] = r.Detection
			s.insert(r.Detection)
		}
	}
	return out, nil
}

// MarkPublished records that the detections were published.
func (s *Store) MarkPublished(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var todo []string
	for _, id := range ids {
		if d, ok := s.dets[id]; ok && !d.Published {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if err := s.write(logRec{Published: todo}); err != nil {
		return fmt.Errorf("mark %d detections published: %w", len(todo), err)
	}
	for _, id := range todo {
		s.dets[id].Published = true
	}
	return nil
}

type cursor struct {
	After string `json:"after"`
}

func encodeCursor(timeID string) string {
	b, _ := json.Marshal(cursor{After: timeID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", fmt.Errorf("%w: %w", api.ErrBadCursor, err)
	}
	var cur cursor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cur); err != nil || !strings.Contains(cur.After, "#") {
		return "", fmt.Errorf("%w: not a cursor", api.ErrBadCursor)
	}
	return cur.After, nil
}

// List returns one page of detections, newest first, and the cursor of the next
// page ("" at the end). It implements api.DetectionStore.
func (s *Store) List(_ context.Context, q api.DetectionQuery) ([]json.RawMessage, string, error) {
	after := ""
	if q.Cursor != "" {
		var err error
		if after, err = decodeCursor(q.Cursor); err != nil {
			return nil, "", err
		}
	}
	limit := int(q.Limit)
	if limit <= 0 {
		limit = api.MaxLimit
	}
	since := ""
	if !q.Since.IsZero() {
		since = timeID(q.Since, "")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	start := 0
	if after != "" {
		start = sort.Search(len(s.order), func(i int) bool { return s.order[i].TimeID < after })
	}
	var docs []json.RawMessage
	last := ""
	for i := start; i < len(s.order); i++ {
		d := s.order[i]
		if since != "" && d.TimeID < since {
			break
		}
		if q.SensorID != "" && d.SensorID != q.SensorID || q.Tag != "" && !slices.Contains(d.Tags, q.Tag) {
			continue
		}
		if q.Status != "" && d.status() != q.Status {
			continue
		}
		if len(docs) == limit {
			return docs, encodeCursor(last), nil
		}
		doc, err := api.Listed(d.Doc, d.Triage)
		if err != nil {
			return nil, "", fmt.Errorf("detection %s: %w", d.ID, err)
		}
		docs = append(docs, doc)
		last = d.TimeID
	}
	return docs, "", nil
}

func (d *detRec) status() api.Status {
	if d.Triage == nil || d.Triage.Status == "" {
		return api.StatusNew
	}
	return d.Triage.Status
}

// GetDetection returns the stored document of the detection with id and its
// triage. It implements api.DetectionStore.
func (s *Store) GetDetection(_ context.Context, id string) (json.RawMessage, api.Triage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.dets[id]
	if !ok {
		return nil, api.Triage{}, fmt.Errorf("detection %s: %w", id, api.ErrNotFound)
	}
	var t api.Triage
	if d.Triage != nil {
		t = d.Triage.Clone()
	}
	t.Normalize()
	return d.Doc, t, nil
}

// UpdateTriage changes the triage of the detection with id with change and
// stores it. Updates are serialised by the store's lock, so none is lost. It
// implements api.DetectionStore.
func (s *Store) UpdateTriage(_ context.Context, id string, change func(*api.Triage) error) (json.RawMessage, api.Triage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dets[id]
	if !ok {
		return nil, api.Triage{}, fmt.Errorf("detection %s: %w", id, api.ErrNotFound)
	}
	var t api.Triage
	if d.Triage != nil {
		t = d.Triage.Clone()
	}
	t.Normalize()
	if err := change(&t); err != nil {
		return nil, api.Triage{}, err
	}
	if err := s.write(logRec{Triage: &triageRec{ID: id, Triage: t}}); err != nil {
		return nil, api.Triage{}, fmt.Errorf("update detection %s: %w", id, err)
	}
	stored := t.Clone()
	d.Triage = &stored
	return d.Doc, t, nil
}

// Detection returns the stored document of the detection with id.
func (s *Store) Detection(id string) (json.RawMessage, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.dets[id]
	if !ok {
		return nil, false
	}
	return d.Doc, true
}

// DetectionTimes returns the time of every stored detection, newest first.
func (s *Store) DetectionTimes() []time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]time.Time, 0, len(s.order))
	for _, d := range s.order {
		ts, _, _ := strings.Cut(d.TimeID, "#")
		if t, err := time.Parse("2006-01-02T15:04:05.000000000Z", ts); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// Heartbeat upserts the sensor of a SENSOR_HEARTBEAT event unless the stored one
// is as new or newer. It implements detect.SensorRegistry.
func (s *Store) Heartbeat(_ context.Context, ev *event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.sensors[ev.SensorID]; ok && old.LastSeen >= ev.TimeNanos {
		return nil
	}
	rec := &sensorRec{LastSeen: ev.TimeNanos, Sensor: api.Sensor{
		SensorID: ev.SensorID, Hostname: ev.Hostname, Version: ev.SensorVersion, Tags: slices.Clone(ev.Tags),
		LastSeen: time.Unix(0, ev.TimeNanos).UTC(), Uptime: ev.UptimeSeconds, Drops: ev.Drops,
	}}
	if rec.Sensor.Tags == nil {
		rec.Sensor.Tags = []string{}
	}
	if err := s.write(logRec{Sensor: rec}); err != nil {
		return fmt.Errorf("heartbeat %s: %w", ev.SensorID, err)
	}
	s.sensors[ev.SensorID] = rec
	return nil
}

// Sensors lists every sensor carrying all of tags, by id. It implements
// api.SensorStore (as List; see SensorStore).
func (s *Store) Sensors(_ context.Context, tags []string) ([]api.Sensor, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []api.Sensor
	for _, id := range sortedKeys(s.sensors) {
		sn := s.sensors[id].Sensor
		ok := true
		for _, t := range tags {
			if !slices.Contains(sn.Tags, t) {
				ok = false
				break
			}
		}
		if ok {
			sn.Tags = slices.Clone(sn.Tags)
			out = append(out, sn)
		}
	}
	return out, nil
}

// SensorStore is the store as an api.SensorStore (List is taken by detections).
func (s *Store) SensorStore() api.SensorStore { return sensorStore{s} }

type sensorStore struct{ s *Store }

func (v sensorStore) List(ctx context.Context, tags []string) ([]api.Sensor, error) {
	return v.s.Sensors(ctx, tags)
}

// Get returns the sensor with id; an error wrapping api.ErrNotFound when it
// never sent a heartbeat.
func (v sensorStore) Get(_ context.Context, id string) (api.Sensor, error) {
	v.s.mu.RLock()
	defer v.s.mu.RUnlock()
	rec, ok := v.s.sensors[id]
	if !ok {
		return api.Sensor{}, fmt.Errorf("sensor %s: %w", id, api.ErrNotFound)
	}
	sn := rec.Sensor
	sn.Tags = slices.Clone(sn.Tags)
	return sn, nil
}

// TaskStore is the store as an api.TaskStore (and respond.TaskStore).
func (s *Store) TaskStore() *Tasks { return &Tasks{s} }

// Tasks is the store's sensor tasks.
type Tasks struct{ s *Store }

// Create stores t unless a task with its id exists; either way it returns the
// stored task, so creating the same task twice is safe.
func (v *Tasks) Create(_ context.Context, t task.Task) (task.Task, error) {
	if err := t.Validate(); err != nil {
		return t, err
	}
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.tasks[t.ID]; ok {
		return old, nil
	}
	if err := s.write(logRec{Task: &t}); err != nil {
		return t, fmt.Errorf("create task %s: %w", t.ID, err)
	}
	s.tasks[t.ID] = t
	return t, nil
}

// Get returns the task with id.
func (v *Tasks) Get(_ context.Context, id string) (task.Task, error) {
	v.s.mu.RLock()
	defer v.s.mu.RUnlock()
	t, ok := v.s.tasks[id]
	if !ok {
		return task.Task{}, fmt.Errorf("%w: %s", ErrTaskNotFound, id)
	}
	return t, nil
}

// Update moves a task to status with result unless it already ended: a task's
// final status is written once.
func (v *Tasks) Update(_ context.Context, id string, status task.Status, result string, now time.Time) (task.Task, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return task.Task{}, fmt.Errorf("%w: %s", ErrTaskNotFound, id)
	}
	if t.Status.Final() {
		return t, fmt.Errorf("%w: %s is %s", ErrTaskFinal, id, t.Status)
	}
	t.Status, t.Result, t.Updated = status, result, now.UTC()
	if err := s.write(logRec{Task: &t}); err != nil {
		return t, fmt.Errorf("update task %s: %w", id, err)
	}
	s.tasks[id] = t
	return t, nil
}

// ForSensor returns a sensor's tasks created since the given time, oldest first.
func (v *Tasks) ForSensor(_ context.Context, sensorID string, since time.Time) ([]task.Task, error) {
	v.s.mu.RLock()
	defer v.s.mu.RUnlock()
	var out []task.Task
	for _, t := range v.s.tasks {
		if t.SensorID == sensorID && !t.Created.Before(since) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// HashKey is the stored form of an API key (its SHA-256, as in the api_keys table).
func HashKey(key string) string { return api.HashKey(key) }

// Lookup returns the key's record; ok is false for an unknown key. It notes the
// key's use to the hour (one log line per key and hour of use at most; a failure
// to write it fails no request). It implements api.KeyStore.
func (s *Store) Lookup(_ context.Context, key string) (api.Key, bool, error) {
	h := HashKey(key)
	hour := s.now().UTC().Truncate(time.Hour)
	s.mu.RLock()
	k, ok := s.keys[h]
	s.mu.RUnlock()
	if !ok || k.Revoked || !k.LastUsed.Before(hour) {
		return k, ok, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok = s.keys[h]; ok && k.LastUsed.Before(hour) {
		k.LastUsed = hour
		if s.write(logRec{Key: newKeyRec(h, k)}) == nil {
			s.keys[h] = k
		}
	}
	return k, ok, nil
}

// PutKey stores key (as its hash) with its record; a zero Created is now. It
// implements api.KeyManager.
func (s *Store) PutKey(_ context.Context, key string, rec api.Key) error {
	h := HashKey(key)
	rec.ID, rec.Prefix = api.KeyID(h), api.KeyPrefix(key)
	if rec.Created.IsZero() {
		rec.Created = s.now().UTC()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(logRec{Key: newKeyRec(h, rec)}); err != nil {
		return fmt.Errorf("store API key %s: %w", rec.Name, err)
	}
	s.keys[h] = rec
	return nil
}

// ListKeys returns org's keys, oldest first. It implements api.KeyManager.
func (s *Store) ListKeys(_ context.Context, org string) ([]api.Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []api.Key{}
	for _, k := range s.keys {
		if k.Org == org {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// HasKey reports whether a key named name exists for org (revoked or not).
func (s *Store) HasKey(org, name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.keys {
		if k.Org == org && k.Name == name {
			return true
		}
	}
	return false
}

// revoke revokes the keys of hashes and ends the sessions opened with them, in
// one write. The caller holds s.mu.
func (s *Store) revoke(hashes []string) error {
	var recs []logRec
	ids := map[string]bool{}
	for _, h := range hashes {
		k := s.keys[h]
		k.Revoked = true
		recs = append(recs, logRec{Key: newKeyRec(h, k)})
		ids[k.ID] = true
	}
	var ended []string
	for h, se := range s.sess {
		if se.KeyID != "" && ids[se.KeyID] {
			recs = append(recs, logRec{Session: &sessionRec{Hash: h, Ended: true}})
			ended = append(ended, h)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := s.write(recs...); err != nil {
		return err
	}
	for _, h := range hashes {
		k := s.keys[h]
		k.Revoked = true
		s.keys[h] = k
	}
	for _, h := range ended {
		delete(s.sess, h)
	}
	return nil
}

// RevokeKey revokes org's key with id (api.KeyID) and ends the dashboard
// sessions opened with it. It implements api.KeyManager.
func (s *Store) RevokeKey(_ context.Context, org, id string) (api.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hashes []string
	for h, k := range s.keys {
		if k.Org == org && k.ID == id {
			hashes = append(hashes, h)
		}
	}
	switch len(hashes) {
	case 0:
		return api.Key{}, fmt.Errorf("API key %s of org %s: %w", id, org, api.ErrNotFound)
	case 1:
	default:
		return api.Key{}, fmt.Errorf("API key id %s names %d keys: %w", id, len(hashes), api.ErrConflict)
	}
	if err := s.revoke(hashes); err != nil {
		return api.Key{}, fmt.Errorf("revoke API key %s: %w", id, err)
	}
	return s.keys[hashes[0]], nil
}

// RevokeKeys revokes every key named name in org, ending the dashboard sessions
// opened with them, and returns how many keys it revoked.
func (s *Store) RevokeKeys(org, name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hashes []string
	for h, k := range s.keys {
		if k.Org == org && k.Name == name && !k.Revoked {
			hashes = append(hashes, h)
		}
	}
	if err := s.revoke(hashes); err != nil {
		return 0, fmt.Errorf("revoke API key %s: %w", name, err)
	}
	return len(hashes), nil
}

// PutSession stores a dashboard session by the hash of its id. It implements
// dashboard.SessionStore.
func (s *Store) PutSession(_ context.Context, hash string, se dashboard.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(logRec{Session: &sessionRec{Hash: hash, Session: se}}); err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	s.sess[hash] = se
	return nil
}

// Session returns the session stored by hash; ok is false for an unknown or
// ended one.
func (s *Store) Session(_ context.Context, hash string) (dashboard.Session, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	se, ok := s.sess[hash]
	return se, ok, nil
}

// TouchSession records the session's last use.
func (s *Store) TouchSession(_ context.Context, hash string, seen time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sess[hash]
	if !ok {
		return nil
	}
	se.Seen = seen
	if err := s.write(logRec{Session: &sessionRec{Hash: hash, Session: se}}); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	s.sess[hash] = se
	return nil
}

// EndSession ends the session stored by hash (signing out).
func (s *Store) EndSession(_ context.Context, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sess[hash]; !ok {
		return nil
	}
	if err := s.write(logRec{Session: &sessionRec{Hash: hash, Ended: true}}); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	delete(s.sess, hash)
	return nil
}

// EndSessions ends every dashboard session of org and returns how many it ended.
func (s *Store) EndSessions(org string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []logRec
	for h, se := range s.sess {
		if se.Org == org {
			recs = append(recs, logRec{Session: &sessionRec{Hash: h, Ended: true}})
		}
	}
	if len(recs) == 0 {
		return 0, nil
	}
	if err := s.write(recs...); err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	for _, r := range recs {
		delete(s.sess, r.Session.Hash)
	}
	return len(recs), nil
}
