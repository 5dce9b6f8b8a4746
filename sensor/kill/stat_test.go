package kill

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		file    string
		want    Stat
		wantErr string // part of the error; "" for none
	}{
		{"stat-cat", Stat{PID: 31659, Comm: "cat", State: 'R', PPID: 31657, StartTime: 4207277, ExitCode: 0}, ""},
		{"stat-comm-parens", Stat{PID: 4242, Comm: "x) S 1 2 (y)", State: 'Z', PPID: 777, StartTime: 98765, ExitCode: 9}, ""},
		// a kernel without field 52: no exit code
		{"stat-comm-newline", Stat{PID: 4243, Comm: "a\nb ) c", State: 'S', PPID: 1, StartTime: 5, ExitCode: -1}, ""},
		{"stat-short", Stat{}, "fields"},
		{"stat-no-comm", Stat{}, "comm (field 2)"},
		{"stat-bad-start", Stat{}, "start time (field 22)"},
		{"stat-empty", Stat{}, "comm (field 2)"},
	}
	for _, tc := range tests {
		raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseStat(raw)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.file, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one about %s", tc.file, err, tc.wantErr)
		case got != tc.want:
			t.Errorf("%s: %+v, want %+v", tc.file, got, tc.want)
		}
	}
}

// statLine is a /proc/PID/stat line with the fields Stat keeps set, as the
// kernel writes it: the comm as it is, between parentheses.
func statLine(st Stat, withExit bool) string {
	f := make([]string, 0, 52)
	f = append(f, fmt.Sprint(st.PID), "("+st.Comm+")", string(st.State), fmt.Sprint(st.PPID))
	for i := 5; i <= 52; i++ {
		switch {
		case i == 22:
			f = append(f, fmt.Sprint(st.StartTime))
		case i == 52 && withExit:
			f = append(f, fmt.Sprint(st.ExitCode))
		case i == 52:
		case i == 8: // tty_pgrp
			f = append(f, "-1")
		default:
			f = append(f, fmt.Sprint(i*1000))
		}
	}
	return strings.Join(f, " ") + "\n"
}

// FuzzParseStat: whatever the comm (chosen by the process: spaces, parentheses,
// newlines, anything), the fields are read back as they were written; and no
// input makes ParseStat panic or return a comm the input does not hold.
func FuzzParseStat(f *testing.F) {
	f.Add("bash", 4242, byte('S'), 1, uint64(4207277), 0, true, []byte("12 (bash) S 1"))
	f.Add("x) S 1 2 (y)", 7, byte('Z'), 0, uint64(0), 9, true, []byte("1 ((((( ) ) )"))
	f.Add("a\nb ) c", 1<<22, byte('R'), 1<<22, uint64(1)<<63, 0x7f00, false, []byte(""))
	f.Add("", 2, byte('D'), 2, uint64(18446744073709551615), -1, true, []byte(")("))
	f.Add(") 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21", 3, byte('T'), 2, uint64(5), 0, true, []byte("0 () S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"))
	for _, name := range []string{"stat-cat", "stat-comm-parens", "stat-comm-newline"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add("cat", 1, byte('S'), 0, uint64(1), 0, false, raw)
	}
	f.Fuzz(func(t *testing.T, comm string, pid int, state byte, ppid int, start uint64, exit int, withExit bool, raw []byte) {
		// arbitrary input
		if got, err := ParseStat(raw); err == nil {
			if !strings.Contains(string(raw), "("+got.Comm+")") || got.PID < 0 || got.PPID < 0 {
				t.Errorf("ParseStat(%q) = %+v: not what the input holds", raw, got)
			}
		}
		// a line as the kernel writes it
		if pid < 0 || ppid < 0 || state <= ' ' || state == '(' || state == ')' || state >= 0x7f {
			return
		}
		want := Stat{PID: pid, Comm: comm, State: state, PPID: ppid, StartTime: start, ExitCode: exit}
		if !withExit {
			want.ExitCode = -1
		}
		line := statLine(want, withExit)
		got, err := ParseStat([]byte(line))
		if err != nil || got != want {
			t.Errorf("ParseStat(%q) = %+v, %v; want %+v", line, got, err, want)
		}
	})
}
