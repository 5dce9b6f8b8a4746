package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultPagerDutyURL is PagerDuty's Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty triggers a PagerDuty incident per detection with the Events API v2,
// deduplicated by detection id.
type PagerDuty struct {
	URL        string // default DefaultPagerDutyURL
	RoutingKey func(ctx context.Context) (string, error)
	Client     *http.Client
}

// pdSeverity maps Vigil severities onto PagerDuty's four.
var pdSeverity = map[string]string{"critical": "critical", "high": "error", "medium": "warning", "low": "info", "info": "info"}

// Notify sends the detection.
func (p *PagerDuty) Notify(ctx context.Context, detection json.RawMessage) error {
	var d struct {
		ID       string    `json:"id"`
		Name     string    `json:"name"`
		Rule     string    `json:"rule"`
		Severity string    `json:"severity"`
		Hostname string    `json:"hostname"`
		SensorID string    `json:"sensor_id"`
		Time     time.Time `json:"time"`
	}
	if err := json.Unmarshal(detection, &d); err != nil {
		return fmt.Errorf("pagerduty: not a detection: %w", err)
	}
	if d.ID == "" {
		return errors.New(`pagerduty: not a detection: no "id"`)
	}
	key, err := p.RoutingKey(ctx)
	if err != nil {
		return fmt.Errorf("pagerduty: routing key: %w", err)
	}
	sev := pdSeverity[d.Severity]
	if sev == "" {
		sev = "warning"
	}
	source := d.Hostname
	if source == "" {
		source = d.SensorID
	}
	body, err := json.Marshal(map[string]any{
		"routing_key": key, "event_action": "trigger", "dedup_key": d.ID,
		"payload": map[string]any{
			"summary": fmt.Sprintf("%s on %s", d.Name, source), "severity": sev, "source": source,
			"timestamp": d.Time.UTC().Format(time.RFC3339), "component": d.Rule, "custom_details": detection,
		},
	})
	if err != nil {
		return fmt.Errorf("pagerduty: %w", err)
	}
	url := p.URL
	if url == "" {
		url = DefaultPagerDutyURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("pagerduty: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("pagerduty: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pagerduty: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
