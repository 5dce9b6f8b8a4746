package event

import "strings"

// Nearest returns the known rule path closest to path by edit distance (case
// ignored), for "did you mean" hints: event/FILEPATH → event/FILE_PATH. ok is false
// when no known path is close enough to be a plausible misspelling (more than a
// third of the path's characters would have to change).
func Nearest(path string) (nearest string, ok bool) {
	best := -1
	want := strings.ToUpper(path)
	for i := range Fields {
		p := Fields[i].Path
		d := EditDistance(want, strings.ToUpper(p))
		if best < 0 || d < best || (d == best && p < nearest) {
			best, nearest = d, p
		}
	}
	if best < 0 || best > max(len(path)/3, 1) {
		return "", false
	}
	return nearest, true
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
