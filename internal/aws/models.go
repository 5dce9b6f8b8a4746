package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Bucket reads and writes whole objects of one bucket: the lake files training
// reads, and the anomaly models training writes and detection loads.
type Bucket struct {
	Client *s3.Client
	Name   string
	// MaxBytes bounds an object Get reads; 0 means 1 GiB.
	MaxBytes int64
}

// NewBucket returns a Bucket for name. pathStyle addresses the bucket in the
// path, as emulators and S3-compatible stores need.
func NewBucket(cfg aws.Config, name string, pathStyle bool) *Bucket {
	return &Bucket{Name: name, Client: s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})}
}

// List returns the keys under prefix, in S3's (lexical) order.
func (b *Bucket) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return keys, fmt.Errorf("s3 list s3://%s/%s: %w", b.Name, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// Get reads an object. A missing object is an error wrapping fs.ErrNotExist.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	data, _, err := b.GetIfNoneMatch(ctx, key, "")
	return data, err
}

// GetIfNoneMatch reads an object unless its ETag is still etag, in which case it
// returns nil data and etag (S3 answers 304 Not Modified without the body). A
// missing object is an error wrapping fs.ErrNotExist.
func (b *Bucket) GetIfNoneMatch(ctx context.Context, key, etag string) ([]byte, string, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)}
	if etag != "" {
		in.IfNoneMatch = aws.String(etag)
	}
	out, err := b.Client.GetObject(ctx, in)
	if err != nil {
		var re *awshttp.ResponseError
		var nsk *types.NoSuchKey
		switch {
		case etag != "" && errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotModified:
			return nil, etag, nil
		case errors.As(err, &nsk) || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound &&
			!strings.Contains(err.Error(), "NoSuchBucket")):
			return nil, "", fmt.Errorf("s3 get s3://%s/%s: %w", b.Name, key, fs.ErrNotExist)
		}
		return nil, "", fmt.Errorf("s3 get s3://%s/%s: %w", b.Name, key, err)
	}
	defer out.Body.Close()
	limit := b.MaxBytes
	if limit <= 0 {
		limit = 1 << 30
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("s3 get s3://%s/%s: %w", b.Name, key, err)
	}
	if int64(len(data)) > limit {
		return nil, "", fmt.Errorf("s3 get s3://%s/%s: larger than %d bytes", b.Name, key, limit)
	}
	return data, aws.ToString(out.ETag), nil
}

// Put writes an object in one request, typed as JSON for .json keys.
func (b *Bucket) Put(ctx context.Context, key string, data []byte) error {
	ct := "application/octet-stream"
	if strings.HasSuffix(key, ".json") {
		ct = "application/json"
	}
	_, err := b.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String(key), Body: bytes.NewReader(data),
		ContentType: aws.String(ct), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return fmt.Errorf("s3 put s3://%s/%s: %w", b.Name, key, err)
	}
	return nil
}

// EnvPathStyle is the variable that makes functions address the lake bucket in
// the path (S3-compatible stores, emulators): "true" or "false"
// (strconv.ParseBool); unset means virtual-hosted.
const EnvPathStyle = "VIGIL_S3_PATH_STYLE"

// BucketFromEnv returns a Bucket for name, addressed as EnvPathStyle (read with
// getenv) says.
func BucketFromEnv(cfg aws.Config, name string, getenv func(string) string) (*Bucket, error) {
	pathStyle := false
	if v := getenv(EnvPathStyle); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: want true or false: %w", EnvPathStyle, v, err)
		}
		pathStyle = b
	}
	return NewBucket(cfg, name, pathStyle), nil
}
