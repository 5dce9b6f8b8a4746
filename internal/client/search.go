package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// SearchRequest starts a search of the event lake (POST /v1/orgs/{org}/events/search).
type SearchRequest struct {
	Where  string `json:"where,omitempty"`
	Since  string `json:"since,omitempty"`
	Until  string `json:"until,omitempty"`
	Sensor string `json:"sensor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// SearchPage is a search's state and one page of its events, each in the
// JSON shape rules see.
type SearchPage struct {
	ID         string            `json:"id"`
	State      string            `json:"state"`
	Error      string            `json:"error,omitempty"`
	Events     []json.RawMessage `json:"events"`
	NextCursor string            `json:"next_cursor"`
	Stats      json.RawMessage   `json:"stats,omitempty"`
}

// StartSearch starts a search and returns its id.
func (c *Client) StartSearch(ctx context.Context, r SearchRequest) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/events/search", nil, r, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("POST /events/search: %w: no search id", errNotJSON)
	}
	return out.ID, nil
}

// SearchPage reads search id's state and, once it succeeded, the page at
// cursor ("" for the first).
func (c *Client) SearchPage(ctx context.Context, id, cursor string) (SearchPage, error) {
	var p SearchPage
	var q url.Values
	if cursor != "" {
		q = url.Values{"cursor": {cursor}}
	}
	err := c.do(ctx, http.MethodGet, "/events/search/"+url.PathEscape(id), q, nil, &p)
	return p, err
}

// ProcessNode is one process of a detection's context tree.
type ProcessNode struct {
	PID         uint32         `json:"pid"`
	PPID        uint32         `json:"ppid"`
	Path        string         `json:"path"`
	CommandLine string         `json:"command_line"`
	User        string         `json:"user"`
	StartTime   string         `json:"start_time,omitempty"`
	Events      int            `json:"events"`
	Detection   bool           `json:"detection"`
	Children    []*ProcessNode `json:"children"`
}

// DetectionContext is what happened around a detection
// (GET /v1/orgs/{org}/detections/{id}/context).
type DetectionContext struct {
	DetectionID string            `json:"detection_id"`
	From        string            `json:"from"`
	To          string            `json:"to"`
	Events      []json.RawMessage `json:"events"`
	Tree        *ProcessNode      `json:"tree"`
	Truncated   bool              `json:"truncated"`
}

// DetectionContext returns the events and process tree around detection id,
// minutes before and after it (0: the API's default, 5).
func (c *Client) DetectionContext(ctx context.Context, id string, minutes int) (DetectionContext, error) {
	var d DetectionContext
	if strings.TrimSpace(id) == "" {
		return d, errors.New("detection id is empty")
	}
	var q url.Values
	if minutes > 0 {
		q = url.Values{"minutes": {strconv.Itoa(minutes)}}
	}
	err := c.do(ctx, http.MethodGet, "/detections/"+url.PathEscape(id)+"/context", q, nil, &d)
	return d, err
}
