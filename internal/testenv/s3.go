package testenv

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 returns the endpoint of an S3 API: AWS_ENDPOINT_URL when set, else an s3rver
// started for this test with its data in a temporary directory. Use S3Config for
// the matching credentials and path-style addressing.
func S3(t testing.TB) string {
	t.Helper()
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		return ep
	}
	e := NewS3rver(t, t.TempDir())
	e.Start(t)
	return e.Endpoint
}

// s3rverCmd builds the command running s3rver on port with its data in dir.
func s3rverCmd(t testing.TB, dir string, port int) *exec.Cmd {
	t.Helper()
	return nodeCommand(t, "s3rver", filepath.Join("node_modules", "s3rver", "bin", "s3rver.js"),
		"-d", dir, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "--silent")
}

// S3Config returns an SDK configuration for an s3rver endpoint: its fixed
// S3RVER/S3RVER credentials and us-east-1; the standard chain when
// AWS_ENDPOINT_URL is set. Clients must use path-style addressing.
func S3Config(t testing.TB, endpoint string) aws.Config {
	t.Helper()
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		return AWSConfig(t, endpoint)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("S3RVER", "S3RVER", "")),
		config.WithBaseEndpoint(endpoint),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// CreateBucket creates bucket and removes it (with its objects) when the test ends.
func CreateBucket(t testing.TB, c *s3.Client, bucket string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		for _, k := range ListObjects(t, c, bucket, "") {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		}
		_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})
}

// ListObjects lists the keys under prefix, in order.
func ListObjects(t testing.TB, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// GetObject returns an object's bytes.
func GetObject(t testing.TB, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read s3://%s/%s: %v", bucket, key, err)
	}
	return b
}
