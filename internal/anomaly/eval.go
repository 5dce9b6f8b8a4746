package anomaly

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// AUC is the area under the ROC curve of scores against labels (true = outlier):
// the probability that a random outlier scores above a random inlier, ties
// counting half (the Mann–Whitney statistic, as sklearn's roc_auc_score). It is
// NaN unless both classes are present.
func AUC(scores []float64, outlier []bool) float64 {
	n := len(scores)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg int
	rankSum := 0.0
	for i := 0; i < n; {
		j := i
		for j < n && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if outlier[idx[k]] {
				rankSum += avg
			}
		}
		i = j
	}
	for _, o := range outlier {
		if o {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}

// Labeled is a data set with a label per row.
type Labeled struct {
	Features []string
	Data     Dataset
	Outlier  []bool
}

// ReadCSV reads a CSV file with a header row: every column but labelColumn is a
// numeric feature; labelColumn says whether the row is an outlier (1, true, yes,
// outlier, anomaly) or not (0, false, no, inlier, normal).
func ReadCSV(r io.Reader, labelColumn string) (*Labeled, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("csv header: %w", err)
	}
	head = append([]string(nil), head...) // the reader reuses its record
	label := -1
	out := &Labeled{}
	for i, h := range head {
		if h == labelColumn {
			label = i
		} else {
			out.Features = append(out.Features, h)
		}
	}
	if label < 0 {
		return nil, fmt.Errorf("csv: no column %q (columns: %s)", labelColumn, strings.Join(head, ", "))
	}
	if len(out.Features) == 0 || len(out.Features) > MaxFeatures {
		return nil, fmt.Errorf("csv: %d feature columns, want 1..%d", len(out.Features), MaxFeatures)
	}
	out.Data.Cols = len(out.Features)
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("csv: %w", err)
		}
		for i, v := range rec {
			if i == label {
				o, err := parseLabel(v)
				if err != nil {
					return nil, fmt.Errorf("csv line %d, column %q: %w", line, labelColumn, err)
				}
				out.Outlier = append(out.Outlier, o)
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("csv line %d, column %q: %q is not a finite number", line, head[i], v)
			}
			out.Data.X = append(out.Data.X, f)
		}
		out.Data.Rows++
	}
	return out, nil
}

func parseLabel(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "outlier", "anomaly", "o":
		return true, nil
	case "0", "false", "no", "inlier", "normal", "n":
		return false, nil
	}
	return false, fmt.Errorf("label %q is neither outlier (1, true, outlier) nor inlier (0, false, inlier)", v)
}

// Evaluate fits a forest on the rows (labels unused) and returns the AUC of its
// scores on the same rows, as sklearn's fit + score_samples + roc_auc_score.
func Evaluate(l *Labeled, p Params) (float64, error) {
	f, err := Fit(&l.Data, p)
	if err != nil {
		return 0, err
	}
	return AUC(f.ScoreAll(&l.Data), l.Outlier), nil
}
