package anomaly

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// DefaultModelKey is where training writes the host activity model set and
// where detection reads it, unless VIGIL_MODEL_KEY says otherwise.
const DefaultModelKey = "models/host_activity.json"

// Lake lists and reads lake objects (the S3 bucket, or a directory).
type Lake interface {
	List(ctx context.Context, prefix string) ([]string, error)
	Get(ctx context.Context, key string) ([]byte, error)
}

// Putter stores an object.
type Putter interface {
	Put(ctx context.Context, key string, data []byte) error
}

// MaxFileRows bounds the rows one lake file may declare.
const MaxFileRows = 1 << 22

// Job trains the host activity models on the last Days of the lake and writes
// them to Key: the scheduled training function.
type Job struct {
	Lake Lake
	Out  Putter
	// Prefix is the lake's key prefix ("" or e.g. "vigil/"); events are under
	// Prefix + "events/dt=YYYY-MM-DD/".
	Prefix string
	// Key is the model object's key; DefaultModelKey when empty.
	Key string
	// Days of events to train on, ending now; 0 means every file under events/.
	Days    int
	Options TrainOptions
	// Now is the end of the training window; time.Now when nil.
	Now func() time.Time
}

// Summary says what a Job did.
type Summary struct {
	Key      string    `json:"key"`
	From     time.Time `json:"from,omitzero"`
	To       time.Time `json:"to"`
	Files    int       `json:"files"`
	BadFiles int       `json:"bad_files"`
	// Errors holds the first few unreadable files' errors; they are skipped.
	Errors []string `json:"errors,omitempty"`
	Rows   int      `json:"rows"`
	Groups []string `json:"groups"`
	Bytes  int      `json:"bytes"`
}

const maxReportedErrors = 5

// Run lists the lake's day partitions in the window, reads their HOST_STATS
// events (skipping unreadable files, which it counts and reports), trains and
// writes the model set.
func (j *Job) Run(ctx context.Context) (Summary, error) {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	s := Summary{Key: j.Key, To: now().UTC()}
	if s.Key == "" {
		s.Key = DefaultModelKey
	}
	opts := j.Options
	if opts.Now == nil {
		opts.Now = func() time.Time { return s.To }
	}
	t, err := NewTrainer(opts)
	if err != nil {
		return s, err
	}
	var prefixes []string
	if j.Days > 0 {
		s.From = s.To.Add(-time.Duration(j.Days) * 24 * time.Hour)
		for d := s.From.Truncate(24 * time.Hour); !d.After(s.To); d = d.Add(24 * time.Hour) {
			prefixes = append(prefixes, j.Prefix+"events/dt="+d.Format(time.DateOnly)+"/")
		}
	} else {
		prefixes = []string{j.Prefix + "events/"}
	}
	var evs []event.Event
	for _, p := range prefixes {
		keys, err := j.Lake.List(ctx, p)
		if err != nil {
			return s, fmt.Errorf("list lake %s: %w", p, err)
		}
		for _, k := range keys {
			if !strings.HasSuffix(k, ".parquet") {
				continue
			}
			data, err := j.Lake.Get(ctx, k)
			if err != nil {
				return s, fmt.Errorf("read lake %s: %w", k, err)
			}
			if evs, err = event.Decode(evs[:0], data, MaxFileRows); err != nil {
				s.BadFiles++
				if len(s.Errors) < maxReportedErrors {
					s.Errors = append(s.Errors, fmt.Sprintf("%s: %v", k, err))
				}
				continue
			}
			s.Files++
			for i := range evs {
				ev := &evs[i]
				if !s.From.IsZero() && (ev.TimeNanos < s.From.UnixNano() || ev.TimeNanos > s.To.UnixNano()) {
					continue
				}
				t.Add(ev)
			}
		}
	}
	s.Rows = t.Rows()
	m, err := t.Fit()
	if err != nil {
		return s, fmt.Errorf("%w (%d files read, %d unreadable)", err, s.Files, s.BadFiles)
	}
	s.Groups = m.GroupNames()
	data, err := m.Encode()
	if err != nil {
		return s, err
	}
	s.Bytes = len(data)
	if err := j.Out.Put(ctx, s.Key, data); err != nil {
		return s, fmt.Errorf("write model: %w", err)
	}
	return s, nil
}

// JobFromEnv configures a Job from the training function's environment:
//
//	VIGIL_TRAIN_DAYS             days of events to train on (default 7, 1..90)
//	VIGIL_MODEL_KEY              model object key (default models/host_activity.json)
//	VIGIL_LAKE_PREFIX            lake key prefix (default none)
//	VIGIL_ANOMALY_GROUP_BY       tag key for per-group models (default "env"; "-" for none)
//	VIGIL_ANOMALY_CONTAMINATION  expected outlier share, (0, 0.5] (default 0.001; 0 = auto)
//	VIGIL_ANOMALY_TREES          trees per model, 1..10000 (default 100; 0 = default)
//	VIGIL_ANOMALY_SEED           random seed (default 1)
//
// Lake and Out are left for the caller.
func JobFromEnv(getenv func(string) string) (*Job, error) {
	j := &Job{Days: 7, Key: getenv("VIGIL_MODEL_KEY"), Prefix: getenv("VIGIL_LAKE_PREFIX"),
		Options: TrainOptions{GroupBy: "env", Params: Params{Contamination: 0.001, Seed: 1}}}
	if j.Prefix != "" && !strings.HasSuffix(j.Prefix, "/") {
		j.Prefix += "/"
	}
	if v := getenv("VIGIL_ANOMALY_GROUP_BY"); v == "-" {
		j.Options.GroupBy = ""
	} else if v != "" {
		j.Options.GroupBy = v
	}
	num := func(name string, set func(string) error) error {
		if v := getenv(name); v != "" {
			if err := set(v); err != nil {
				return fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
		return nil
	}
	err := num("VIGIL_TRAIN_DAYS", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 90 {
			return fmt.Errorf("want a whole number of days, 1..90")
		}
		j.Days = n
		return nil
	})
	// Each value is checked as it is read, so an error names its variable.
	if err == nil {
		err = num("VIGIL_ANOMALY_CONTAMINATION", func(v string) error {
			c, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return err
			}
			if err := (Params{Contamination: c}).Validate(); err != nil {
				return err
			}
			j.Options.Params.Contamination = c
			return nil
		})
	}
	if err == nil {
		err = num("VIGIL_ANOMALY_TREES", func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return err
			}
			if err := (Params{Trees: n}).Validate(); err != nil {
				return err
			}
			j.Options.Params.Trees = n
			return nil
		})
	}
	if err == nil {
		err = num("VIGIL_ANOMALY_SEED", func(v string) (err error) {
			j.Options.Params.Seed, err = strconv.ParseUint(v, 10, 64)
			return err
		})
	}
	return j, err
}
