package event

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a ULID: 26 Crockford base32 characters, 48 bits of milliseconds
// since the Unix epoch followed by 80 bits that start random in each process and
// then count up by one per ID (the ULID spec's monotonic mode, kept across
// milliseconds). IDs sort by time and, within a process, by creation; consecutive IDs
// share most of their characters, which keeps them cheap in compressed Parquet.
func NewID(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	idMu.Lock()
	if !idSeeded {
		if _, err := rand.Read(idNext[:]); err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on Linux
		}
		idSeeded = true
	}
	copy(b[6:], idNext[:])
	for i := len(idNext) - 1; i >= 0; i-- { // 80-bit increment
		idNext[i]++
		if idNext[i] != 0 {
			break
		}
	}
	idMu.Unlock()
	var out [26]byte
	// 128 bits as 26 base32 digits: the first digit holds the top 3 bits.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

var (
	idMu     sync.Mutex
	idSeeded bool
	idNext   [10]byte
)

// LakeKey is the object key of a lake file in the Hive layout shared by the S3 lake
// and the local one: events/dt=YYYY-MM-DD/hr=HH/sensor=<id>/<id>.parquet, with the
// partition taken from t in UTC. Characters other than letters, digits, '-', '_' and
// '.' in the sensor id are replaced with '_' so a sensor cannot escape its prefix.
func LakeKey(sensorID string, t time.Time, fileID string) string {
	t = t.UTC()
	return fmt.Sprintf("events/dt=%s/hr=%02d/sensor=%s/%s.parquet", t.Format("2006-01-02"), t.Hour(), safeSegment(sensorID), safeSegment(fileID))
}

func safeSegment(s string) string {
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
