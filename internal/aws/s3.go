package aws

import (
	"bytes"
	"context"
	"fmt"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Options configures NewS3.
type S3Options struct {
	Bucket string
	// Prefix is put in front of every key (e.g. "vigil/"); empty for none.
	Prefix string
	// PathStyle addresses the bucket in the path (http://host/bucket/key) rather
	// than in the host name: needed by emulators and S3-compatible stores.
	PathStyle bool
	// PartSize is the multipart part size; files larger than it are uploaded in
	// parts, several at a time. Default 16 MiB, minimum 5 MiB.
	PartSize int64
	// Concurrency is the number of parts uploaded at once; default 4.
	Concurrency int
}

// S3 puts lake files in an S3 bucket: a single PutObject for small files, a
// multipart upload (aborted on failure, so no part is left behind) for large ones.
type S3 struct {
	Uploader *manager.Uploader
	Bucket   string
	Prefix   string
}

// NewS3 returns the lake adapter for cfg. Checksums are sent only where the
// service requires them, in plain (not aws-chunked) bodies, so that S3-compatible
// stores accept the requests too.
func NewS3(cfg aws.Config, o S3Options) *S3 {
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.UsePathStyle = o.PathStyle
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	part := o.PartSize
	if part <= 0 {
		part = 16 << 20
	}
	part = max(part, manager.MinUploadPartSize)
	up := manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = part
		if o.Concurrency > 0 {
			u.Concurrency = o.Concurrency
		}
		u.LeavePartsOnError = false
	})
	return &S3{Uploader: up, Bucket: o.Bucket, Prefix: o.Prefix}
}

// Put uploads data under the prefixed key.
func (l *S3) Put(ctx context.Context, key string, data []byte) error {
	full := key
	if l.Prefix != "" {
		full = path.Join(l.Prefix, key)
	}
	_, err := l.Uploader.Upload(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(l.Bucket),
		Key:         aws.String(full),
		Body:        bytes.NewReader(data),
		ContentType: aws.String(contentType(key)),
	})
	if err != nil {
		return fmt.Errorf("s3 put s3://%s/%s: %w", l.Bucket, full, err)
	}
	return nil
}

// contentType names what a lake object holds: Parquet event files, snapshot
// archives (artifacts/…/snapshot.tar), models (JSON).
func contentType(key string) string {
	switch path.Ext(key) {
	case ".parquet":
		return "application/vnd.apache.parquet"
	case ".tar":
		return "application/x-tar"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}
