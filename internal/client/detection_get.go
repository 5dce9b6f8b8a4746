package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-sec/vigil/internal/explain"
)

// GetDetection returns one detection by id (GET /v1/orgs/{org}/detections/{id}),
// its explanation included; an id the API does not know is an error matching
// ErrNotFound.
func (c *Client) GetDetection(ctx context.Context, id string) (Detection, error) {
	var d Detection
	if strings.TrimSpace(id) == "" {
		return d, errors.New("detection id is empty")
	}
	if err := c.do(ctx, http.MethodGet, "/detections/"+url.PathEscape(id), nil, nil, &d); err != nil {
		return d, err
	}
	if d.ID == "" {
		return d, fmt.Errorf("GET /detections/%s: %w: no id in the detection", id, errNotJSON)
	}
	return d, nil
}

// Explained returns the detection as explain.WriteDetection prints it.
func (d *Detection) Explained() *explain.Detection {
	return &explain.Detection{ID: d.ID, Rule: d.Rule, Name: d.Name, Severity: d.Severity, Category: d.Category,
		Time: d.Time, SensorID: d.SensorID, Hostname: d.Hostname, Tags: d.Tags, Actions: d.Actions,
		Output: d.Output, Edge: d.Edge, Event: d.Event, Explanation: d.Explanation}
}
