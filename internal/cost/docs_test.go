package cost

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// docsTable reads the first markdown table of path whose header starts with
// header: one map per row, cell by column name.
func docsTable(t *testing.T, path, header string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cells := func(line string) []string {
		parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	var cols []string
	var rows []map[string]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cols == nil && strings.HasPrefix(line, header):
			cols = cells(line)
		case cols != nil && strings.HasPrefix(line, "|--") || cols != nil && strings.HasPrefix(line, "|:-"):
		case cols != nil && strings.HasPrefix(line, "|"):
			c := cells(line)
			if len(c) != len(cols) {
				t.Fatalf("%s:%d: %d cells, the header has %d", path, n, len(c), len(cols))
			}
			row := map[string]string{"line": strconv.Itoa(n)}
			for i, name := range cols {
				row[name] = c[i]
			}
			rows = append(rows, row)
		case cols != nil:
			return rows
		}
	}
	if cols == nil {
		t.Fatalf("%s: no table with the header %q", path, header)
	}
	return rows
}

func number(t *testing.T, path, line, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.NewReplacer("$", "", ",", "").Replace(s), 64)
	if err != nil {
		t.Fatalf("%s:%s: %q is not a number", path, line, s)
	}
	return v
}

// TestDocsTable recomputes every row of docs/cost.md's table from the model
// (defaults, us-east-1, a year of lake) and fails when the page disagrees.
func TestDocsTable(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "cost.md")
	rows := docsTable(t, path, "| hosts |")
	if len(rows) < 3 {
		t.Fatalf("%s: %d rows in the table, want the 10, 1,000 and 10,000 hosts rows", path, len(rows))
	}
	for _, row := range rows {
		at := row["line"]
		p := fleet(int(number(t, path, at, row["hosts"])), number(t, path, at, row["events/s per host"]))
		e, err := Run(p)
		if err != nil {
			t.Fatalf("%s:%s: %v", path, at, err)
		}
		p.NoTaskBell = true
		noBell, err := Run(p)
		if err != nil {
			t.Fatal(err)
		}
		p.NoTaskPolling = true
		off, err := Run(p)
		if err != nil {
			t.Fatal(err)
		}
		kinesis := string(e.Capacity.Mode)
		if e.Capacity.Mode == Provisioned {
			kinesis = fmt.Sprintf("provisioned, %d shard", e.Capacity.Shards)
			if e.Capacity.Shards != 1 {
				kinesis += "s"
			}
		}
		for _, c := range []struct{ col, want string }{
			{"Kinesis", kinesis},
			{"total a month", "$" + thousands(fmt.Sprintf("%.2f", e.Total))},
			{"per host a month", fmt.Sprintf("$%.4f", e.PerHost)},
			{"per host, task polling off", fmt.Sprintf("$%.4f", off.PerHost)},
			{"per host, no task bell", fmt.Sprintf("$%.4f", noBell.PerHost)},
		} {
			if row[c.col] != c.want {
				t.Errorf("%s:%s: %q is %s, the model gives %s", path, at, c.col, row[c.col], c.want)
			}
		}
	}
}

// thousands puts commas in the integer part of a decimal number.
func thousands(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac
}
