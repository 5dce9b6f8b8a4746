package local

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Lake is a directory holding lake files under the same keys as the S3 lake.
type Lake struct {
	Dir string
}

// Put writes data under key atomically: readers never see a partial file.
func (l *Lake) Put(_ context.Context, key string, data []byte) error {
	if !fs.ValidPath(key) || strings.Contains(key, "\\") {
		return fmt.Errorf("lake put: invalid key %q", key)
	}
	path := filepath.Join(l.Dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("lake put: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("lake put: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("lake put %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("lake put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("lake put %s: %w", key, err)
	}
	return nil
}

// Files lists the lake's Parquet files (keys, slash-separated) in sorted order.
func (l *Lake) Files() ([]string, error) {
	var out []string
	err := filepath.WalkDir(l.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			rel, err := filepath.Rel(l.Dir, path)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list lake %s: %w", l.Dir, err)
	}
	return out, nil
}
