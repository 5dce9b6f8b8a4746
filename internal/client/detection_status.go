package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/vigil-sec/vigil/internal/api"
)

// Triage is what people did with a detection: its status (new, acknowledged,
// resolved, false_positive), assignee, comments and the history of changes.
type Triage struct {
	Status   string        `json:"status,omitempty"`
	Assignee string        `json:"assignee,omitempty"`
	Comments []api.Comment `json:"comments,omitempty"`
	History  []api.Change  `json:"history,omitempty"`
}

// Statuses of a detection.
const (
	StatusNew           = string(api.StatusNew)
	StatusAcknowledged  = string(api.StatusAcknowledged)
	StatusResolved      = string(api.StatusResolved)
	StatusFalsePositive = string(api.StatusFalsePositive)
)

// DetectionChange changes a detection: nil fields stay as they are.
type DetectionChange struct {
	Status   *string `json:"status,omitempty"`
	Assignee *string `json:"assignee,omitempty"`
}

// ChangedDetection is a detection after a change. Tuning is set when the change
// marked it a false positive: a tuning file entry, for review, that would
// suppress its rule for its event's key fields; nothing applies it.
type ChangedDetection struct {
	Detection
	Tuning string `json:"tuning,omitempty"`
}

// ChangeDetection changes a detection's status or assignee (PATCH); the API
// records the change with the key's name.
func (c *Client) ChangeDetection(ctx context.Context, id string, ch DetectionChange) (ChangedDetection, error) {
	var out ChangedDetection
	err := c.do(ctx, http.MethodPatch, "/detections/"+url.PathEscape(id), nil, ch, &out)
	return out, err
}

// CommentDetection adds a comment to a detection. It is not retried after the
// request may have reached the API: the comment would be added twice.
func (c *Client) CommentDetection(ctx context.Context, id, text string) (Detection, error) {
	var out Detection
	cc := *c
	cc.Retries = -1
	err := cc.do(ctx, http.MethodPost, "/detections/"+url.PathEscape(id)+"/comments", nil, map[string]string{"text": text}, &out)
	return out, err
}
