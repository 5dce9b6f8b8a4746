package aws

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// TestS3Put puts lake files in a real S3 API (s3rver, or AWS_ENDPOINT_URL) with
// path-style addressing, one small and one large enough for a multipart upload,
// and reads them back.
func TestS3Put(t *testing.T) {
	ep := testenv.S3(t)
	cfg := testenv.S3Config(t, ep)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	testenv.CreateBucket(t, client, "vigil-lake")

	lake := NewS3(cfg, S3Options{Bucket: "vigil-lake", Prefix: "vigil", PathStyle: true, PartSize: 5 << 20})
	big := make([]byte, 12<<20+123) // three parts
	for i := range big {
		big[i] = byte(i * 7 / 13)
	}
	files := map[string][]byte{
		"events/dt=2026-11-22/hr=09/sensor=s-1/01A.parquet": []byte("PAR1 small PAR1"),
		"events/dt=2026-11-22/hr=09/sensor=s-1/01B.parquet": big,
	}
	for k, data := range files {
		if err := lake.Put(context.Background(), k, data); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	keys := testenv.ListObjects(t, client, "vigil-lake", "vigil/events/")
	if len(keys) != 2 {
		t.Fatalf("keys = %v", keys)
	}
	for k, want := range files {
		got := testenv.GetObject(t, client, "vigil-lake", "vigil/"+k)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes differing from the %d put", k, len(got), len(want))
		}
	}
}

func TestS3PutMissingBucket(t *testing.T) {
	ep := testenv.S3(t)
	lake := NewS3(testenv.S3Config(t, ep), S3Options{Bucket: "absent-bucket", PathStyle: true})
	err := lake.Put(context.Background(), "events/x.parquet", []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "s3://absent-bucket/events/x.parquet") {
		t.Fatalf("err = %v, want an error naming the object", err)
	}
}

func TestContentType(t *testing.T) {
	for key, want := range map[string]string{
		"events/dt=2026-11-22/hr=10/sensor=s/x.parquet": "application/vnd.apache.parquet",
		"artifacts/s/t/snapshot.tar":                    "application/x-tar",
		"models/host_activity.json":                     "application/json",
		"other":                                         "application/octet-stream",
	} {
		if got := contentType(key); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
}
