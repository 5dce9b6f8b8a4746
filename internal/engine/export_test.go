package engine

import (
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// BenignMix is benignMix for the external tests of the package.
func BenignMix() []event.Event { return benignMix() }

// ThreadCPU is threadCPU for the external benchmarks.
func ThreadCPU() time.Duration { return threadCPU() }

// NewUnindexed is New without the literal index: every rule of an event's type is
// evaluated on it, the reference the index is tested against.
func NewUnindexed(rules []*Rule) (*Engine, error) { return newEngine(rules, true) }

// Candidates returns the rules of each rule set of ev's type the literal
// index makes candidates for ev (stateless, stateful roots, children) and the
// names of the rules evaluated on every event of the type.
func (e *Engine) Candidates(ev *event.Event) (names, always []string) {
	ix := e.index(ev.Type)
	if ix == nil {
		return nil, nil
	}
	var scratch [maskWords]uint64
	for _, set := range []*ruleSet{ix.stateless, ix.roots, ix.children} {
		mask := set.candidates(ev, scratch[:])
		w := 0
		for i := next(mask, &w); i >= 0; i = next(mask, &w) {
			names = append(names, set.rules[i].Name)
		}
		for i, r := range set.rules {
			if set.always[i>>6]&(1<<(i&63)) != 0 {
				always = append(always, r.Name)
			}
		}
	}
	return names, always
}
