package siem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/detect"
)

// FromEnv builds the forwarders a forward function is configured for: Splunk when
// SPLUNK_HEC_URL is set, Elasticsearch when ELASTIC_URL is set (see docs/devops.md
// for every variable). Credentials are Secrets Manager secrets read with secret.
func FromEnv(ctx context.Context, getenv func(string) string, secret func(ctx context.Context, id string) (string, error)) ([]detect.Publisher, error) {
	var pubs []detect.Publisher
	retry := Retry{}
	if t := getenv("SIEM_TIMEOUT"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("SIEM_TIMEOUT %q: want a positive duration such as 30s", t)
		}
		retry.Timeout = d
	}
	if url := getenv("SPLUNK_HEC_URL"); url != "" {
		id := getenv("SPLUNK_HEC_TOKEN_SECRET")
		if id == "" {
			return nil, errors.New("SPLUNK_HEC_URL is set but SPLUNK_HEC_TOKEN_SECRET is not")
		}
		token, err := secret(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("splunk token: %w", err)
		}
		pubs = append(pubs, &Splunk{URL: url, Token: token, Index: getenv("SPLUNK_INDEX"), Sourcetype: getenv("SPLUNK_SOURCETYPE"), Retry: retry})
	}
	if url := getenv("ELASTIC_URL"); url != "" {
		es := &Elastic{URL: url, Index: getenv("ELASTIC_INDEX"), Retry: retry}
		if err := CheckIndex(es.Index); es.Index != "" && err != nil {
			return nil, fmt.Errorf("ELASTIC_INDEX: %w", err)
		}
		switch {
		case getenv("ELASTIC_API_KEY_SECRET") != "":
			key, err := secret(ctx, getenv("ELASTIC_API_KEY_SECRET"))
			if err != nil {
				return nil, fmt.Errorf("elasticsearch API key: %w", err)
			}
			es.APIKey = key
		case getenv("ELASTIC_BASIC_AUTH_SECRET") != "":
			up, err := secret(ctx, getenv("ELASTIC_BASIC_AUTH_SECRET"))
			if err != nil {
				return nil, fmt.Errorf("elasticsearch credentials: %w", err)
			}
			var ok bool
			if es.Username, es.Password, ok = cutColon(up); !ok {
				return nil, errors.New("ELASTIC_BASIC_AUTH_SECRET: want user:password")
			}
		default:
			return nil, errors.New("ELASTIC_URL is set but neither ELASTIC_API_KEY_SECRET nor ELASTIC_BASIC_AUTH_SECRET is")
		}
		pubs = append(pubs, es)
	}
	if len(pubs) == 0 {
		return nil, errors.New("no SIEM configured: set SPLUNK_HEC_URL or ELASTIC_URL")
	}
	return pubs, nil
}

func cutColon(s string) (string, string, bool) {
	user, pass, ok := strings.Cut(s, ":")
	return user, pass, ok && user != ""
}

// Handler is the forward function: an EventBridge rule on the detections bus
// delivers each detection (detail type "Detection"), which goes to every forwarder.
// EventBridge invokes the function asynchronously: an error makes Lambda retry the
// event and then send it to the function's failure destination (the forward
// dead-letter queue in the stack).
func Handler(pubs []detect.Publisher) func(context.Context, events.CloudWatchEvent) error {
	return func(ctx context.Context, ev events.CloudWatchEvent) error {
		if ev.DetailType != "Detection" {
			return fmt.Errorf("forward: unexpected detail type %q", ev.DetailType)
		}
		var d detect.Detection
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return fmt.Errorf("forward: %w", err)
		}
		var errs []error
		for _, p := range pubs {
			if err := p.Publish(ctx, []detect.Detection{d}); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}
