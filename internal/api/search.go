package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/search"
)

// EventSearch searches the event lake: StartSearch starts a query and returns
// its id, SearchPage reads its state and results a page at a time, and Search
// runs a query to the end (the context of a detection). vigil local's is a
// search.Results over its lake, the cloud's the Athena adapter.
type EventSearch interface {
	StartSearch(ctx context.Context, q search.Query) (string, error)
	SearchPage(ctx context.Context, id, cursor string) (search.Page, error)
	Search(ctx context.Context, q search.Query, fn func(*event.Event) error) (search.Stats, error)
}

type searchRequest struct {
	Where  string `json:"where"`
	Since  string `json:"since"`
	Until  string `json:"until"`
	Sensor string `json:"sensor"`
	Limit  int    `json:"limit"`
}

func (s *Server) searchReady(w http.ResponseWriter) bool {
	if s.Events == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this API has no event lake to search"})
		return false
	}
	return true
}

// searchFailure maps the errors of a search to their statuses.
func searchFailure(err error) error {
	switch {
	case errors.Is(err, search.ErrUnsupported), errors.Is(err, search.ErrBadCursor):
		return badRequest("%v", err)
	case errors.Is(err, search.ErrUnknownSearch):
		return &httpError{http.StatusNotFound, err.Error()}
	}
	return err
}

func (s *Server) startSearch(w http.ResponseWriter, r *http.Request) {
	if !s.searchReady(w) {
		return
	}
	var req searchRequest
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Since == "" {
		req.Since = "1h"
	}
	since, err := parseSince(req.Since, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var until time.Time
	if req.Until != "" {
		if until, err = time.Parse(time.RFC3339Nano, req.Until); err != nil {
			s.fail(w, r, badRequest("until %q: want an RFC 3339 time (2026-11-22T10:00:00Z)", req.Until))
			return
		}
	}
	q, err := search.NewQuery(req.Where, since, until, []string{req.Sensor}, req.Limit)
	if err != nil {
		s.fail(w, r, badRequest("%v", err))
		return
	}
	id, err := s.Events.StartSearch(r.Context(), q)
	if err != nil {
		s.fail(w, r, searchFailure(err))
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	if !s.searchReady(w) {
		return
	}
	p, err := s.Events.SearchPage(r.Context(), r.PathValue("id"), r.URL.Query().Get("cursor"))
	if err != nil {
		s.fail(w, r, searchFailure(err))
		return
	}
	out := map[string]any{"id": r.PathValue("id"), "state": p.State, "events": trees(p.Events), "next_cursor": p.NextCursor}
	if p.Error != "" {
		out["error"] = p.Error
	}
	if p.Stats != nil {
		out["stats"] = p.Stats
	}
	writeJSON(w, http.StatusOK, out)
}

// trees are events in the JSON shape rules see.
func trees(evs []event.Event) []map[string]any {
	out := make([]map[string]any, len(evs))
	for i := range evs {
		out[i] = evs[i].Tree()
	}
	return out
}

// MaxContextMinutes bounds the window of a detection's context.
const MaxContextMinutes = 24 * 60

func (s *Server) detectionContext(w http.ResponseWriter, r *http.Request) {
	if !s.searchReady(w) {
		return
	}
	minutes := 5
	if v := r.URL.Query().Get("minutes"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxContextMinutes {
			s.fail(w, r, badRequest("minutes %q: want an integer from 1 to %d", v, MaxContextMinutes))
			return
		}
		minutes = n
	}
	id := r.PathValue("id")
	doc, _, err := s.Detections.GetDetection(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var d struct {
		Time     time.Time      `json:"time"`
		SensorID string         `json:"sensor_id"`
		Event    map[string]any `json:"event"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		s.fail(w, r, fmt.Errorf("detection %s: stored document: %w", id, err))
		return
	}
	ev, err := event.FromTree(d.Event)
	if err != nil {
		s.fail(w, r, fmt.Errorf("detection %s: its event: %w", id, err))
		return
	}
	sensor := d.SensorID
	if sensor == "" {
		sensor = ev.SensorID
	}
	res, err := search.Context(r.Context(), s.Events, sensor, d.Time, ev, time.Duration(minutes)*time.Minute)
	if err != nil {
		s.fail(w, r, searchFailure(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"detection_id": id,
		"from":         res.From.Format(time.RFC3339Nano),
		"to":           res.To.Format(time.RFC3339Nano),
		"events":       trees(res.Events),
		"tree":         res.Tree,
		"truncated":    res.Truncated,
	})
}
