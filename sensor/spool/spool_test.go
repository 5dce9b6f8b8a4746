package spool

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func modes(t *testing.T) map[string]func() string {
	return map[string]func() string{
		"disk":   func() string { return t.TempDir() },
		"memory": func() string { return "" },
	}
}

func TestOrderAndRemove(t *testing.T) {
	for name, dir := range modes(t) {
		t.Run(name, func(t *testing.T) {
			s, err := Open(dir(), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			for i := range 5 {
				if err := s.Append(Record, "", now, []byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Append(LakeFile, "events/x.parquet", now, []byte("lake")); err != nil {
				t.Fatal(err)
			}
			got, err := s.Peek(Record, 3, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[0].Data[0] != 0 || got[2].Data[0] != 2 {
				t.Fatalf("peek = %+v", got)
			}
			s.Remove(got...)
			if s.Len(Record) != 2 || s.Len(LakeFile) != 1 || s.Bytes() != 2+4 {
				t.Fatalf("len %d/%d bytes %d", s.Len(Record), s.Len(LakeFile), s.Bytes())
			}
			lf, _ := s.Peek(LakeFile, 10, 1<<20)
			if len(lf) != 1 || lf[0].Key != "events/x.parquet" || string(lf[0].Data) != "lake" {
				t.Fatalf("lake peek = %+v", lf)
			}
		})
	}
}

func TestEvictsOldestCounted(t *testing.T) {
	for name, dir := range modes(t) {
		t.Run(name, func(t *testing.T) {
			s, err := Open(dir(), 10)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				if err := s.Append(Record, "", time.Now(), bytes.Repeat([]byte{byte(i)}, 4)); err != nil {
					t.Fatal(err)
				}
			}
			// 4 × 4 bytes into 10: the two oldest go
			st := s.Stats()
			if st.EvictedItems(Record) != 2 || st.EvictedBytes != 8 || s.Bytes() != 8 {
				t.Fatalf("stats %+v bytes %d", st, s.Bytes())
			}
			got, _ := s.Peek(Record, 10, 100)
			if len(got) != 2 || got[0].Data[0] != 2 || got[1].Data[0] != 3 {
				t.Fatalf("kept %+v, want the two newest", got)
			}
			if err := s.Append(LakeFile, "k", time.Now(), make([]byte, 11)); err == nil {
				t.Fatal("a batch over the bound was accepted")
			}
			if s.Stats().EvictedItems(LakeFile) != 1 {
				t.Fatalf("the refused batch was not counted: %+v", s.Stats())
			}
		})
	}
}

func TestSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Unix(1700000000, 42)
	for i := range 3 {
		if err := s.Append(Record, "", created, []byte(fmt.Sprint("r", i))); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Append(LakeFile, "events/dt=2026-01-01/hr=00/sensor=a/b.parquet", created, []byte("file"))
	first, _ := s.Peek(Record, 1, 100)
	s.Remove(first...)

	// a torn write and a leftover temp file from a crash
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000099-record.spool"), []byte("VSPL1\n\x01"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("x"), 0o600)

	s2, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	st := s2.Stats()
	if st.Recovered != 3 || st.Corrupt != 1 {
		t.Fatalf("stats after reopen %+v", st)
	}
	got, _ := s2.Peek(Record, 10, 100)
	if len(got) != 2 || string(got[0].Data) != "r1" || string(got[1].Data) != "r2" || !got[0].Created.Equal(created) {
		t.Fatalf("recovered %+v", got)
	}
	// new items go after the recovered ones
	_ = s2.Append(Record, "", time.Now(), []byte("r3"))
	got, _ = s2.Peek(Record, 10, 100)
	if len(got) != 3 || string(got[2].Data) != "r3" {
		t.Fatalf("after append %+v", got)
	}
	lf, _ := s2.Peek(LakeFile, 1, 100)
	if len(lf) != 1 || lf[0].Key != "events/dt=2026-01-01/hr=00/sensor=a/b.parquet" {
		t.Fatalf("lake %+v", lf)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123")); !os.IsNotExist(err) {
		t.Fatal("temp file left behind")
	}
}

func TestCorruptDataDetected(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 1<<20)
	_ = s.Append(Record, "", time.Now(), []byte("hello world"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.spool"))
	b, _ := os.ReadFile(files[0])
	b[len(b)-1] ^= 0xff
	_ = os.WriteFile(files[0], b, 0o600)
	s2, _ := Open(dir, 1<<20)
	if s2.Stats().Corrupt != 1 || s2.Len(Record) != 0 {
		t.Fatalf("flipped byte not detected: %+v", s2.Stats())
	}
}

func TestPeekBytesBound(t *testing.T) {
	s, _ := Open("", 1<<20)
	for range 4 {
		_ = s.Append(Record, "", time.Now(), make([]byte, 100))
	}
	got, _ := s.Peek(Record, 10, 250)
	if len(got) != 2 {
		t.Fatalf("peek within 250 bytes gave %d items", len(got))
	}
	got, _ = s.Peek(Record, 10, 1)
	if len(got) != 1 {
		t.Fatalf("peek gives at least one item, got %d", len(got))
	}
}
