package aws

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/testenv"
)

// TestBucket lists, reads and conditionally reads objects in a real S3 API
// (s3rver, or AWS_ENDPOINT_URL): what training and the model cache rely on.
func TestBucket(t *testing.T) {
	ep := testenv.S3(t)
	cfg := testenv.S3Config(t, ep)
	b := NewBucket(cfg, "vigil-models", true)
	testenv.CreateBucket(t, b.Client, "vigil-models")
	ctx := context.Background()

	for _, k := range []string{"events/dt=2026-11-21/hr=00/sensor=a/1.parquet", "events/dt=2026-11-22/hr=01/sensor=a/2.parquet",
		"events/dt=2026-11-22/hr=02/sensor=b/3.parquet"} {
		if err := b.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := b.List(ctx, "events/dt=2026-11-22/")
	if err != nil || !slices.Equal(keys, []string{"events/dt=2026-11-22/hr=01/sensor=a/2.parquet", "events/dt=2026-11-22/hr=02/sensor=b/3.parquet"}) {
		t.Fatalf("list: %v, %v", keys, err)
	}

	const key = "models/host_activity.json"
	if _, _, err := b.GetIfNoneMatch(ctx, key, ""); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing model: %v, want fs.ErrNotExist", err)
	}
	if err := b.Put(ctx, key, []byte(`{"version":1}`)); err != nil {
		t.Fatal(err)
	}
	data, etag, err := b.GetIfNoneMatch(ctx, key, "")
	if err != nil || string(data) != `{"version":1}` || etag == "" {
		t.Fatalf("get: %q, etag %q, %v", data, etag, err)
	}
	data, again, err := b.GetIfNoneMatch(ctx, key, etag)
	if err != nil || data != nil || again != etag {
		t.Fatalf("unchanged: %q, etag %q, %v; want no body", data, again, err)
	}
	if err := b.Put(ctx, key, []byte(`{"version":1,"kind":"host_activity"}`)); err != nil {
		t.Fatal(err)
	}
	data, newTag, err := b.GetIfNoneMatch(ctx, key, etag)
	if err != nil || !strings.Contains(string(data), "host_activity") || newTag == etag {
		t.Fatalf("changed: %q, etag %q, %v", data, newTag, err)
	}

	missing := NewBucket(cfg, "absent-bucket", true)
	if _, err := missing.Get(ctx, key); err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "s3://absent-bucket/") {
		t.Errorf("missing bucket: %v, want an error naming it, not ErrNotExist", err)
	}
}

func TestBucketFromEnv(t *testing.T) {
	tests := []struct {
		value     string
		pathStyle bool
		wantErr   string
	}{
		{value: "", pathStyle: false},
		{value: "true", pathStyle: true},
		{value: "1", pathStyle: true},
		{value: "false", pathStyle: false},
		{value: "ture", wantErr: `VIGIL_S3_PATH_STYLE="ture": want true or false`},
		{value: " true", wantErr: `VIGIL_S3_PATH_STYLE=" true"`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			getenv := func(k string) string { return map[string]string{"VIGIL_S3_PATH_STYLE": tt.value}[k] }
			b, err := BucketFromEnv(aws.Config{Region: "us-east-1"}, "vigil-lake", getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Name != "vigil-lake" || b.Client.Options().UsePathStyle != tt.pathStyle {
				t.Errorf("bucket %s, path style %v; want vigil-lake, %v", b.Name, b.Client.Options().UsePathStyle, tt.pathStyle)
			}
		})
	}
}
