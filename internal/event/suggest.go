package event

import "strings"

// Nearest returns the known rule path closest to path by edit distance (case
// ignored), for "did you mean" hints: event/FILEPATH → event/FILE_PATH. ok is false
// when no known path is close enough to be a plausible misspelling.
func Nearest(path string) (nearest string, ok bool) {
	paths := make([]string, len(Fields))
	for i := range Fields {
		paths[i] = Fields[i].Path
	}
	return Closest(path, paths)
}

// Closest returns the candidate closest to s by edit distance, case ignored (the
// first in lexical order among equals). ok is false when even the closest is not a
// plausible misspelling: more than a third of the characters of s (at least one)
// would have to change.
func Closest(s string, candidates []string) (closest string, ok bool) {
	best := -1
	want := strings.ToUpper(s)
	for _, c := range candidates {
		d := EditDistance(want, strings.ToUpper(c))
		if best < 0 || d < best || (d == best && c < closest) {
			best, closest = d, c
		}
	}
	if best < 0 || best > max(len(s)/3, 1) {
		return "", false
	}
	return closest, true
}

// EditDistance is the Levenshtein distance between a and b in bytes: the fewest
// insertions, deletions and substitutions that turn a into b.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
