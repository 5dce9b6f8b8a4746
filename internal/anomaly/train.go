package anomaly

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// TrainOptions configure a Trainer.
type TrainOptions struct {
	Params Params
	// GroupBy is the tag key that splits sensors into groups with their own
	// model ("env": env:prod and env:dev each get one); empty for one global model.
	GroupBy string
	// MinGroupRows is the fewest rows a group needs for its own model; smaller
	// groups are scored by the global one. 0 means 1000.
	MinGroupRows int
	// MaxRows bounds the rows kept per model (a uniform reservoir sample of all
	// rows seen); 0 means 100 000.
	MaxRows int
	// MaxGroups bounds the groups with their own model; rows of further groups
	// train only the global model. 0 means 64.
	MaxGroups int
	// Now stamps the models; time.Now when nil.
	Now func() time.Time
}

func (o TrainOptions) withDefaults() TrainOptions {
	o.Params = o.Params.withDefaults()
	if o.MinGroupRows <= 0 {
		o.MinGroupRows = 1000
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 100_000
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = 64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Trainer collects HOST_STATS rows and fits a model set. Memory is bounded by
// MaxRows per model whatever the number of events added. Given the same events
// in the same order and the same options, it builds the same models.
type Trainer struct {
	o       TrainOptions
	rng     *rand.Rand
	global  reservoir
	groups  map[string]*reservoir
	dropped int // rows whose group had no room for its own model
}

type reservoir struct {
	seen int
	x    []float64
}

// NewTrainer returns a Trainer for o.
func NewTrainer(o TrainOptions) (*Trainer, error) {
	o = o.withDefaults()
	if err := o.Params.Validate(); err != nil {
		return nil, err
	}
	return &Trainer{o: o, rng: rand.New(rand.NewPCG(o.Params.Seed, 1)), groups: map[string]*reservoir{}}, nil
}

// Add takes one event; anything but HOST_STATS is ignored. It reports whether
// the event became a row.
func (t *Trainer) Add(ev *event.Event) bool {
	var x [NumHostFeatures]float64
	if !HostStatsFeatures(x[:], ev) {
		return false
	}
	t.add(&t.global, x[:])
	if g := GroupOf(ev.Tags, t.o.GroupBy); g != "" {
		r := t.groups[g]
		if r == nil && len(t.groups) < t.o.MaxGroups {
			r = &reservoir{}
			t.groups[g] = r
		}
		if r != nil {
			t.add(r, x[:])
		} else {
			t.dropped++
		}
	}
	return true
}

// Rows is how many rows have been added.
func (t *Trainer) Rows() int { return t.global.seen }

func (t *Trainer) add(r *reservoir, x []float64) {
	cols := len(x)
	r.seen++
	if len(r.x) < t.o.MaxRows*cols {
		r.x = append(r.x, x...)
		return
	}
	if j := t.rng.IntN(r.seen); j < t.o.MaxRows {
		copy(r.x[j*cols:(j+1)*cols], x)
	}
}

// Fit trains the global model and one per group with at least MinGroupRows rows.
func (t *Trainer) Fit() (*Models, error) {
	if t.global.seen < 2 {
		return nil, fmt.Errorf("train: %w: %d rows, want at least 2", ErrNoRows, t.global.seen)
	}
	m := &Models{Kind: KindHostActivity, TrainedAt: t.o.Now().UTC(), Features: HostFeatures, Params: t.o.Params,
		GroupBy: t.o.GroupBy}
	var err error
	if m.Global, err = fitModel(&t.global, t.o.Params); err != nil {
		return nil, fmt.Errorf("train global model: %w", err)
	}
	for g, r := range t.groups {
		if r.seen < t.o.MinGroupRows {
			continue
		}
		gm, err := fitModel(r, t.o.Params)
		if err != nil {
			return nil, fmt.Errorf("train group %q: %w", g, err)
		}
		if m.Groups == nil {
			m.Groups = map[string]*Model{}
		}
		m.Groups[g] = gm
	}
	return m, nil
}

func fitModel(r *reservoir, p Params) (*Model, error) {
	d := &Dataset{Rows: len(r.x) / NumHostFeatures, Cols: NumHostFeatures, X: r.x}
	return FitModel(d, p, r.seen)
}

// FitModel fits a forest on d and sets its threshold from the training scores.
// rows is recorded as the rows the model saw (≥ d.Rows when d is a sample).
func FitModel(d *Dataset, p Params, rows int) (*Model, error) {
	f, err := Fit(d, p)
	if err != nil {
		return nil, err
	}
	var thr float64
	if p.Contamination == 0 {
		thr = Threshold(nil, 0)
	} else {
		thr = Threshold(f.ScoreAll(d), p.Contamination)
	}
	return &Model{Forest: f, Threshold: thr, Rows: max(rows, d.Rows)}, nil
}

// Train fits a model set on events.
func Train(events []event.Event, o TrainOptions) (*Models, error) {
	t, err := NewTrainer(o)
	if err != nil {
		return nil, err
	}
	for i := range events {
		t.Add(&events[i])
	}
	return t.Fit()
}

// ErrNoRows is returned when training finds nothing to train on.
var ErrNoRows = errors.New("no HOST_STATS rows")
