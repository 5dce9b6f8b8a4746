package anomaly

import (
	"fmt"
	"slices"
	"sort"

	"github.com/vigil-sec/vigil/internal/event"
)

// RuleName is the rule name of an anomaly detection on HOST_STATS.
const RuleName = "anomaly/host_activity"

// Contribution is one feature's part in a score.
type Contribution struct {
	Feature string `json:"feature"`
	// Value is the feature's raw value: for HOST_STATS, the rate per minute.
	Value float64 `json:"value"`
	// Weight is how much the feature's splits shortened the path, in path-length
	// units averaged over trees (see Forest.Contributions); the weights of all
	// features sum to c(ψ) − E[h(x)].
	Weight float64 `json:"weight"`
}

// Finding is an anomalous HOST_STATS event: what the detect side turns into a
// detection with rule RuleName.
type Finding struct {
	Rule string `json:"rule"`
	// Group is the group whose model scored the event; "" for the global model.
	Group     string         `json:"group"`
	Score     float64        `json:"score"`
	Threshold float64        `json:"threshold"`
	Top       []Contribution `json:"top"`
}

// Scorer scores HOST_STATS events against a model set. It is read-only and safe
// for concurrent use.
type Scorer struct {
	Models *Models
	// Top is how many features Score explains; 0 means 3.
	Top int
}

// NewScorer checks that m scores HOST_STATS rows as this build extracts them.
func NewScorer(m *Models) (*Scorer, error) {
	if m.Kind != KindHostActivity {
		return nil, fmt.Errorf("%w: kind %q, want %q", ErrBadModel, m.Kind, KindHostActivity)
	}
	if !slices.Equal(m.Features, HostFeatures) {
		return nil, fmt.Errorf("%w: features %v, this build extracts %v", ErrBadModel, m.Features, HostFeatures)
	}
	return &Scorer{Models: m}, nil
}

// Score scores a HOST_STATS event with its group's model (by the Models'
// GroupBy tag; the global model otherwise) and explains it with the features
// that shortened its path most (positive weights only, largest first). ok is
// false for other event types.
func (s *Scorer) Score(ev *event.Event) (score float64, top []Contribution, ok bool) {
	score, _, top, ok = s.score(ev)
	return score, top, ok
}

// Check returns a Finding when ev scores above its model's threshold.
func (s *Scorer) Check(ev *event.Event) (Finding, bool) {
	score, m, top, ok := s.score(ev)
	if !ok || score <= m.Threshold {
		return Finding{}, false
	}
	_, group := s.Models.For(GroupOf(ev.Tags, s.Models.GroupBy))
	return Finding{Rule: RuleName, Group: group, Score: score, Threshold: m.Threshold, Top: top}, true
}

func (s *Scorer) score(ev *event.Event) (float64, *Model, []Contribution, bool) {
	var x, w [NumHostFeatures]float64
	if !HostStatsFeatures(x[:], ev) {
		return 0, nil, nil, false
	}
	m, _ := s.Models.For(GroupOf(ev.Tags, s.Models.GroupBy))
	score := m.Score(x[:])
	m.Contributions(w[:], x[:])
	return score, m, topContributions(s.Models.Features, x[:], w[:], s.Top), true
}

func topContributions(names []string, x, w []float64, n int) []Contribution {
	if n <= 0 {
		n = 3
	}
	var all []Contribution
	for i, wi := range w {
		if wi > 0 {
			all = append(all, Contribution{Feature: names[i], Value: PerMinute(x[i]), Weight: wi})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Weight > all[j].Weight })
	if len(all) > n {
		all = all[:n]
	}
	return all
}
