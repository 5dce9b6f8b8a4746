package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/anomaly"
	"github.com/vigil-sec/vigil/internal/event"
)

func newAnomalyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "anomaly",
		Short: "Train, apply and evaluate the host activity anomaly models (isolation forests)",
	}
	cmd.AddCommand(newAnomalyTrainCmd(), newAnomalyScoreCmd(), newAnomalyEvalCmd())
	return cmd
}

// forestFlags binds the isolation forest's parameters.
func forestFlags(c *cobra.Command, p *anomaly.Params, contamination float64) {
	c.Flags().IntVar(&p.Trees, "trees", 100, "trees per model (n_estimators)")
	c.Flags().IntVar(&p.MaxSamples, "samples", 0, "rows each tree is grown on (max_samples); 0 for min(256, rows)")
	c.Flags().Float64Var(&p.Contamination, "contamination", contamination, "expected share of outliers, (0, 0.5]; 0 for auto (threshold 0.5)")
	c.Flags().Uint64Var(&p.Seed, "seed", 1, "random seed (random_state)")
}

func newAnomalyTrainCmd() *cobra.Command {
	var lake, out string
	var days int
	var o anomaly.TrainOptions
	cmd := &cobra.Command{
		Use:   "train --lake DIR --out MODEL",
		Short: "Train the host activity models on a lake directory's HOST_STATS events",
		Long: `Reads the HOST_STATS events under DIR/events/ (the lake layout vigil local and
vigil-sensor --local write), one row per sensor and minute, and trains an isolation
forest per --group-by tag value with enough rows plus a global one. Writes the model
set (versioned JSON) to MODEL: the file the training function writes to S3.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if lake == "" || out == "" {
				return usageError(errors.New("anomaly train: --lake and --out are required"))
			}
			if st, err := os.Stat(lake); err != nil || !st.IsDir() {
				return usageError(fmt.Errorf("anomaly train: --lake %s is not a directory", lake))
			}
			if err := o.Params.Validate(); err != nil {
				return usageError(fmt.Errorf("anomaly train: %w", err))
			}
			j := &anomaly.Job{Lake: dirLake(lake), Out: fileOut(out), Key: out, Days: days, Options: o}
			s, err := j.Run(c.Context())
			for _, e := range s.Errors {
				fmt.Fprintf(c.ErrOrStderr(), "skipped: %s\n", e)
			}
			if err != nil {
				return fmt.Errorf("anomaly train: %w", err)
			}
			groups := "none"
			if len(s.Groups) > 0 {
				groups = strings.Join(s.Groups, ", ")
			}
			fmt.Fprintf(c.OutOrStdout(), "trained on %d rows from %d files (%d unreadable); group models: %s; wrote %s (%d bytes)\n",
				s.Rows, s.Files, s.BadFiles, groups, out, s.Bytes)
			return nil
		},
	}
	cmd.Flags().StringVar(&lake, "lake", "", "lake directory (holding events/dt=.../...parquet)")
	cmd.Flags().StringVar(&out, "out", "", "model file to write")
	cmd.Flags().IntVar(&days, "days", 0, "train on the last N days only (0: every file)")
	cmd.Flags().StringVar(&o.GroupBy, "group-by", "env", `tag key whose values get their own model ("" for one global model)`)
	cmd.Flags().IntVar(&o.MinGroupRows, "min-group-rows", 1000, "fewest rows for a group model; smaller groups use the global one")
	forestFlags(cmd, &o.Params, 0.001)
	return cmd
}

func newAnomalyScoreCmd() *cobra.Command {
	var model string
	var lake []string
	var all, asJSON bool
	var top int
	cmd := &cobra.Command{
		Use:   "score --model MODEL --lake DIR|FILE...",
		Short: "Score a lake's HOST_STATS events and print those above their model's threshold",
		Long: `Scores every HOST_STATS event in the lake directories or Parquet files with the
model of its group and prints those above the model's threshold (all of them with
--all), highest first, with the features that made each one stand out: the
detections the detect function raises as ` + anomaly.RuleName + `.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if model == "" || len(lake) == 0 {
				return usageError(errors.New("anomaly score: --model and --lake are required"))
			}
			data, err := os.ReadFile(model)
			if err != nil {
				return usageError(fmt.Errorf("anomaly score: %w", err))
			}
			m, err := anomaly.Decode(data)
			if err != nil {
				return fmt.Errorf("anomaly score: %s: %w", model, err)
			}
			sc, err := anomaly.NewScorer(m)
			if err != nil {
				return fmt.Errorf("anomaly score: %s: %w", model, err)
			}
			sc.Top = top
			files, err := lakeFiles(lake)
			if err != nil {
				return err
			}
			return scoreFiles(c.OutOrStdout(), c.ErrOrStderr(), sc, files, all, asJSON)
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model file (from anomaly train or the training function)")
	cmd.Flags().StringSliceVar(&lake, "lake", nil, "lake directory or Parquet file (repeatable)")
	cmd.Flags().BoolVar(&all, "all", false, "print every HOST_STATS event's score, not only those above the threshold")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per line")
	cmd.Flags().IntVar(&top, "top", 3, "features to explain each score with")
	return cmd
}

type scored struct {
	Time     time.Time `json:"time"`
	SensorID string    `json:"sensor_id"`
	Hostname string    `json:"hostname"`
	EventID  string    `json:"event_id"`
	anomaly.Finding
}

func scoreFiles(stdout, stderr io.Writer, sc *anomaly.Scorer, files []string, all, asJSON bool) error {
	var rows []scored
	var evs []event.Event
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("anomaly score: %w", err)
		}
		if evs, err = event.DecodeRecord(evs[:0], data, 0); err != nil {
			return fmt.Errorf("anomaly score: %s: %w", f, err)
		}
		for i := range evs {
			ev := &evs[i]
			score, top, ok := sc.Score(ev)
			if !ok {
				continue
			}
			n++
			fd, above := sc.Check(ev)
			if !above {
				if !all {
					continue
				}
				md, group := sc.Models.For(anomaly.GroupOf(ev.Tags, sc.Models.GroupBy))
				fd = anomaly.Finding{Rule: anomaly.RuleName, Group: group, Score: score, Threshold: md.Threshold, Top: top}
			}
			rows = append(rows, scored{Time: time.Unix(0, ev.TimeNanos).UTC(), SensorID: ev.SensorID, Hostname: ev.Hostname,
				EventID: ev.ID, Finding: fd})
		}
	}
	sortScored(rows)
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	if asJSON {
		enc := json.NewEncoder(w)
		for i := range rows {
			if err := enc.Encode(&rows[i]); err != nil {
				return err
			}
		}
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tSENSOR\tHOST\tGROUP\tSCORE\tTHRESHOLD\tTOP FEATURES (per minute, weight)")
		for _, r := range rows {
			group := r.Group
			if group == "" {
				group = "(global)"
			}
			var top []string
			for _, c := range r.Top {
				top = append(top, fmt.Sprintf("%s=%.4g (%.2f)", c.Feature, c.Value, c.Weight))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.3f\t%.3f\t%s\n", r.Time.Format("2006-01-02T15:04:05Z"), r.SensorID, r.Hostname,
				group, r.Score, r.Threshold, strings.Join(top, ", "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	above := 0
	for _, r := range rows {
		if r.Score > r.Threshold {
			above++
		}
	}
	fmt.Fprintf(stderr, "%d HOST_STATS events scored, %d above threshold\n", n, above)
	return nil
}

func sortScored(rows []scored) {
	// Highest score first; ties by time then sensor, so output is stable.
	slices.SortFunc(rows, func(a, b scored) int {
		switch {
		case a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		case !a.Time.Equal(b.Time):
			return a.Time.Compare(b.Time)
		}
		return strings.Compare(a.SensorID, b.SensorID)
	})
}

func newAnomalyEvalCmd() *cobra.Command {
	var path, label string
	var runs int
	var p anomaly.Params
	cmd := &cobra.Command{
		Use:   "eval --csv FILE --label-column NAME",
		Short: "Train on a labelled CSV's features and print the ROC AUC of the scores",
		Long: `Reads a CSV with a header row: every column but --label-column is a numeric
feature, and the label column says which rows are outliers (1/0, true/false,
outlier/inlier). Fits an isolation forest on all rows (labels unused), scores the
same rows and prints the ROC AUC — what scikit-learn's IsolationForest fit +
score_samples + roc_auc_score gives with the same parameters. With --runs N, the
mean over seeds seed..seed+N-1.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if path == "" || label == "" {
				return usageError(errors.New("anomaly eval: --csv and --label-column are required"))
			}
			if runs < 1 {
				return usageError(fmt.Errorf("anomaly eval: --runs %d, want ≥ 1", runs))
			}
			if err := p.Validate(); err != nil {
				return usageError(fmt.Errorf("anomaly eval: %w", err))
			}
			f, err := os.Open(path)
			if err != nil {
				return usageError(fmt.Errorf("anomaly eval: %w", err))
			}
			defer f.Close()
			l, err := anomaly.ReadCSV(f, label)
			if err != nil {
				return fmt.Errorf("anomaly eval: %s: %w", path, err)
			}
			outliers := 0
			for _, o := range l.Outlier {
				if o {
					outliers++
				}
			}
			if outliers == 0 || outliers == len(l.Outlier) {
				return fmt.Errorf("anomaly eval: %s: %d of %d rows are outliers; AUC needs both classes", path, outliers, len(l.Outlier))
			}
			sum := 0.0
			for i := range runs {
				q := p
				q.Seed = p.Seed + uint64(i)
				auc, err := anomaly.Evaluate(l, q)
				if err != nil {
					return fmt.Errorf("anomaly eval: %w", err)
				}
				sum += auc
			}
			samples := p.MaxSamples
			if samples == 0 {
				samples = min(256, l.Data.Rows)
			}
			fmt.Fprintf(c.OutOrStdout(), "AUC %.4f  (%d rows, %d outliers, %d features; trees %d, samples %d, seed %d, runs %d)\n",
				sum/float64(runs), l.Data.Rows, outliers, l.Data.Cols, p.Trees, samples, p.Seed, runs)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "csv", "", "CSV file with a header row")
	cmd.Flags().StringVar(&label, "label-column", "", "column holding the outlier labels")
	cmd.Flags().IntVar(&runs, "runs", 1, "average the AUC over this many seeds")
	forestFlags(cmd, &p, 0)
	return cmd
}

// dirLake is a lake directory seen through anomaly.Lake.
type dirLake string

func (d dirLake) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	root := string(d)
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	return keys, err
}

func (d dirLake) Get(_ context.Context, key string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(d), filepath.FromSlash(key)))
}

// fileOut writes the model to one file, whatever the key.
type fileOut string

func (f fileOut) Put(_ context.Context, _ string, data []byte) error {
	tmp := string(f) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, string(f))
}
