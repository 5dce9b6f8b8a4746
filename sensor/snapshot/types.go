package snapshot

import "time"

// DefaultMaxBytes bounds an archive when Options.MaxBytes is zero.
const DefaultMaxBytes = 256 << 20

// Options say what to capture.
type Options struct {
	PID int
	// StartTime, when not zero, must match the process's (field 22 of
	// /proc/PID/stat), else nothing is captured.
	StartTime uint64
	// MaxBytes bounds the archive's size (DefaultMaxBytes when zero).
	MaxBytes int64
	// Now defaults to time.Now.
	Now func() time.Time
}

// Region is a memory mapping as captured.
type Region struct {
	Start  string `json:"start"`
	End    string `json:"end"`
	Perms  string `json:"perms"`
	Path   string `json:"path,omitempty"`
	File   string `json:"file,omitempty"` // in the archive; empty when nothing was read
	Bytes  int64  `json:"bytes"`
	Size   int64  `json:"size"` // of the mapping
	Reason string `json:"reason,omitempty"`
}

// Entry is one file of the archive.
type Entry struct {
	Name      string `json:"name"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	Truncated bool   `json:"truncated,omitempty"`
}

// Manifest describes a snapshot; it is manifest.json in the archive.
type Manifest struct {
	PID       int       `json:"pid"`
	StartTime uint64    `json:"start_time"`
	Comm      string    `json:"comm"`
	Taken     time.Time `json:"taken"`
	MaxBytes  int64     `json:"max_bytes"`
	Truncated bool      `json:"truncated"`
	Files     []Entry   `json:"files"`
	Regions   []Region  `json:"regions"`
	Errors    []string  `json:"errors,omitempty"`
}

// Snapshot is a finished archive.
type Snapshot struct {
	Tar      []byte
	SHA256   string // of Tar, hex
	Manifest Manifest
}
