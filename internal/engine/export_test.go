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

// Candidates returns the rules the literal index makes candidates for ev (stateless
// rules, stateful roots and children) and the rules of ev's type evaluated on every
// event.
func (e *Engine) Candidates(ev *event.Event) (names, always []string) {
	ix := e.index(ev.Type)
	if ix == nil {
		return nil, nil
	}
	var scratch [maskWords]uint64
	set := ix.rules
	mask := set.candidates(ev, scratch[:])
	for i := nextBit(mask, 0, len(set.rules)); i >= 0; i = nextBit(mask, i+1, len(set.rules)) {
		names = append(names, set.rules[i].Name)
	}
	for i, r := range set.rules {
		if set.always[i>>6]&(1<<(i&63)) != 0 {
			always = append(always, r.Name)
		}
	}
	return names, always
}
