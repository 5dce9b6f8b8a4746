package testenv

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"testing"
)

// LogsRecord builds what a CloudWatch Logs subscription filter puts on a
// Kinesis stream: the gzip-compressed JSON of messages of one log stream of
// group (messageType DATA_MESSAGE, or CONTROL_MESSAGE), with log event ids
// of the service's form.
func LogsRecord(t testing.TB, messageType, group, stream string, messages []string) []byte {
	t.Helper()
	type logEvent struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	les := []logEvent{}
	for i, m := range messages {
		les = append(les, logEvent{ID: fmt.Sprintf("%056d", 3748942042000+i), Timestamp: 1748942042000, Message: m})
	}
	raw, err := json.Marshal(map[string]any{"messageType": messageType, "owner": "123456789012", "logGroup": group,
		"logStream": stream, "subscriptionFilters": []string{"vigil-eks-audit"}, "logEvents": les})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
