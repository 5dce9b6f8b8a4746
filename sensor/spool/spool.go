package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind says which path an item belongs to.
type Kind uint8

// Kinds of items.
const (
	Record   Kind = 1 // a Parquet batch for the stream
	LakeFile Kind = 2 // a Parquet file for the lake, with its key
)

func (k Kind) String() string {
	switch k {
	case Record:
		return "record"
	case LakeFile:
		return "lake"
	}
	return "kind" + strconv.Itoa(int(k))
}

// Item is one spooled batch.
type Item struct {
	Seq     uint64
	Kind    Kind
	Key     string    // lake key (LakeFile); empty for records
	Created time.Time // when the batch was made (ship latency counts from it)
	Data    []byte
}

// Stats counts what the spool did since Open.
type Stats struct {
	Appended       uint64
	Evicted        [3]uint64 // by Kind: items evicted beyond MaxBytes
	EvictedBytes   uint64
	Corrupt        uint64 // files removed because they could not be read back (at Open, or by Peek)
	Recovered      uint64 // items found on disk at Open
	RecoveredBytes uint64
}

// EvictedItems is the number of items of kind k evicted so far.
func (s Stats) EvictedItems(k Kind) uint64 {
	if int(k) < len(s.Evicted) {
		return s.Evicted[k]
	}
	return 0
}

// DefaultMaxBytes bounds a spool opened with maxBytes ≤ 0.
const DefaultMaxBytes = 1 << 30

type entry struct {
	Seq     uint64
	Kind    Kind
	Key     string
	Created time.Time
	size    int64  // bytes counted against the bound (data size)
	data    []byte // memory mode only
}

// Spool is a bounded, ordered, persistent queue of batches. It is safe for
// concurrent use.
type Spool struct {
	dir string
	max int64

	mu      sync.Mutex
	entries []entry // in sequence order
	bytes   int64
	next    uint64
	stats   Stats
}

const (
	suffix = ".spool"
	magic  = "VSPL1\n"
)

// Open opens (creating it if needed) the spool in dir, bounded by maxBytes. What a
// previous run left there is kept, in order. An empty dir gives an in-memory spool.
func Open(dir string, maxBytes int64) (*Spool, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	s := &Spool{dir: dir, max: maxBytes, next: 1}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, de := range names {
		name := de.Name()
		path := filepath.Join(dir, name)
		if strings.HasPrefix(name, ".tmp-") {
			_ = os.Remove(path) // a write interrupted before its rename
			continue
		}
		if de.IsDir() || !strings.HasSuffix(name, suffix) {
			continue
		}
		e, err := readHeader(path)
		if err != nil {
			s.stats.Corrupt++
			_ = os.Remove(path)
			continue
		}
		s.entries = append(s.entries, e)
		s.bytes += e.size
		s.stats.Recovered++
		s.stats.RecoveredBytes += uint64(e.size)
		if e.Seq >= s.next {
			s.next = e.Seq + 1
		}
	}
	sort.Slice(s.entries, func(i, j int) bool { return s.entries[i].Seq < s.entries[j].Seq })
	s.evictLocked(0)
	return s, nil
}

// Dir is the spool's directory ("" in memory mode).
func (s *Spool) Dir() string { return s.dir }

// Append adds a batch at the end of the spool, evicting the oldest items if the
// spool would exceed its bound. A batch larger than the bound on its own is
// refused (and counted as evicted).
func (s *Spool) Append(kind Kind, key string, created time.Time, data []byte) error {
	size := int64(len(data))
	s.mu.Lock()
	defer s.mu.Unlock()
	if size > s.max {
		s.stats.Evicted[kind%3]++
		s.stats.EvictedBytes += uint64(size)
		return fmt.Errorf("spool: a %d-byte batch exceeds the spool's bound of %d bytes (dropped)", size, s.max)
	}
	s.evictLocked(size)
	e := entry{Seq: s.next, Kind: kind, Key: key, Created: created, size: size}
	if s.dir == "" {
		e.data = append([]byte(nil), data...)
	} else if err := s.write(e, data); err != nil {
		return err
	}
	s.next++
	s.entries = append(s.entries, e)
	s.bytes += size
	s.stats.Appended++
	return nil
}

// evictLocked removes the oldest entries until room more bytes fit.
func (s *Spool) evictLocked(room int64) {
	for len(s.entries) > 0 && s.bytes+room > s.max {
		e := s.entries[0]
		s.entries = s.entries[1:]
		s.bytes -= e.size
		s.stats.Evicted[e.Kind%3]++
		s.stats.EvictedBytes += uint64(e.size)
		s.removeFile(e)
	}
}

// Peek returns up to max of the oldest items of kind (at least one if any, even
// over maxBytes), with their data, without removing them.
func (s *Spool) Peek(kind Kind, max int, maxBytes int64) ([]Item, error) {
	s.mu.Lock()
	var picked []entry
	var total int64
	for _, e := range s.entries {
		if e.Kind != kind {
			continue
		}
		if len(picked) > 0 && (len(picked) >= max || total+e.size > maxBytes) {
			break
		}
		picked = append(picked, e)
		total += e.size
	}
	s.mu.Unlock()
	out := make([]Item, 0, len(picked))
	for _, e := range picked {
		data := e.data
		if s.dir != "" {
			var err error
			if data, err = s.read(e); err != nil {
				// unreadable (disk trouble): drop it rather than block the queue forever
				s.mu.Lock()
				s.stats.Corrupt++
				s.mu.Unlock()
				s.Remove(Item{Seq: e.Seq})
				return out, err
			}
		}
		out = append(out, Item{Seq: e.Seq, Kind: e.Kind, Key: e.Key, Created: e.Created, Data: data})
	}
	return out, nil
}

// Remove deletes items (shipped, or taken out) from the spool. Items already
// evicted are ignored.
func (s *Spool) Remove(items ...Item) {
	if len(items) == 0 {
		return
	}
	seqs := make(map[uint64]bool, len(items))
	for _, it := range items {
		seqs[it.Seq] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.entries[:0]
	for _, e := range s.entries {
		if seqs[e.Seq] {
			s.bytes -= e.size
			s.removeFile(e)
			continue
		}
		kept = append(kept, e)
	}
	clear(s.entries[len(kept):])
	s.entries = kept
}

// Len is the number of items of kind waiting.
func (s *Spool) Len(kind Kind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.entries {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// Bytes is the size of everything waiting (the spool's depth).
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// MaxBytes is the spool's bound.
func (s *Spool) MaxBytes() int64 { return s.max }

// Stats returns the counters so far.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Spool) path(e entry) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d-%s%s", e.Seq, e.Kind, suffix))
}

func (s *Spool) removeFile(e entry) {
	if s.dir != "" {
		_ = os.Remove(s.path(e))
	}
}

// File layout: magic, kind (1 byte), created unix nanos (8), key length (uvarint),
// key, data length (8), CRC-32C of the data (4), data. The sequence number is in
// the file's name.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeHeader is everything of e's file before its data.
func encodeHeader(e entry, data []byte) []byte {
	b := make([]byte, 0, len(magic)+1+8+binary.MaxVarintLen64+len(e.Key)+8+4)
	b = append(b, magic...)
	b = append(b, byte(e.Kind))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Created.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(e.Key)))
	b = append(b, e.Key...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(data)))
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(data, castagnoli))
}

func (s *Spool) write(e entry, data []byte) error {
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(encodeHeader(e, data))
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path(e))
	}
	if err != nil {
		return fmt.Errorf("spool write: %w", err)
	}
	return nil
}

// errCorrupt is wrapped by the errors of files that cannot be read back.
var errCorrupt = errors.New("corrupt spool file")

// parse splits the spool file at path, its content b, into its entry and data,
// checking the checksum. Errors wrap errCorrupt and name the file and what is
// wrong with it.
func parse(b []byte, path string) (entry, []byte, error) {
	var e entry
	corrupt := func(format string, args ...any) (entry, []byte, error) {
		return entry{}, nil, fmt.Errorf("%s: %w: %s", path, errCorrupt, fmt.Sprintf(format, args...))
	}
	name := filepath.Base(path)
	seqText, _, _ := strings.Cut(name, "-")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if err != nil {
		return corrupt("name %q does not start with a sequence number", name)
	}
	e.Seq = seq
	if !bytes.HasPrefix(b, []byte(magic)) {
		return corrupt("no %q header", strings.TrimSpace(magic))
	}
	b = b[len(magic):]
	if len(b) < 9 {
		return corrupt("%d bytes after the header, too short for the kind and creation time", len(b))
	}
	e.Kind = Kind(b[0])
	if e.Kind != Record && e.Kind != LakeFile {
		return corrupt("kind %d is neither %d (record) nor %d (lake file)", b[0], Record, LakeFile)
	}
	e.Created = time.Unix(0, int64(binary.BigEndian.Uint64(b[1:9])))
	b = b[9:]
	kl, n := binary.Uvarint(b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, kl)) {
		return corrupt("key length is not a varint")
	}
	if kl > uint64(len(b)-n) {
		return corrupt("key of %d bytes runs past the end of the file", kl)
	}
	e.Key = string(b[n : n+int(kl)])
	b = b[n+int(kl):]
	if len(b) < 12 {
		return corrupt("%d bytes after the key, too short for the data length and checksum", len(b))
	}
	dl := binary.BigEndian.Uint64(b[:8])
	sum := binary.BigEndian.Uint32(b[8:12])
	b = b[12:]
	if uint64(len(b)) != dl {
		return corrupt("%d bytes of data, the header says %d", len(b), dl)
	}
	if got := crc32.Checksum(b, castagnoli); got != sum {
		return corrupt("data checksum %08x, the header says %08x", got, sum)
	}
	e.size = int64(dl)
	return e, b, nil
}

// readHeader reads and checks a whole file at Open (so a torn write is found then,
// not when it is replayed), keeping only its entry.
func readHeader(path string) (entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return entry{}, err
	}
	e, _, err := parse(b, path)
	return e, err
}

func (s *Spool) read(e entry) ([]byte, error) {
	path := s.path(e)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("spool read: %w", err)
	}
	_, data, err := parse(b, path)
	if err != nil {
		return nil, fmt.Errorf("spool read: %w", err)
	}
	return data, nil
}
