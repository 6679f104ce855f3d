package recorder

import "sort"

// slot is one call of the session as kept in memory: its summary and where its record is.
type slot struct {
	sum Summary
	off int64  // offset of the record in the log
	n   int    // record length; 0 while pending or when the write failed
	mem *Entry // the whole entry, only when it could not be written, so nothing is dropped
	c   *call  // the call in flight, while pending, so Close can record it
}

// slotChunk is how many slots a full chunk of a slotTable holds.
const slotChunk = 1024

// slotTable holds a session's slots in ascending Seq order, in chunks that never move
// once full: a long session grows without copying the summaries it already has, which
// a single slice would do again and again on the path of every new call.
type slotTable struct {
	chunks [][]slot
	n      int
}

func (t *slotTable) len() int { return t.n }

func (t *slotTable) at(i int) *slot { return &t.chunks[i/slotChunk][i%slotChunk] }

// push appends a slot whose Seq is above every Seq already held. The first chunk starts
// small and grows to slotChunk, so a short session stays small.
func (t *slotTable) push(sl slot) {
	last := len(t.chunks) - 1
	if last < 0 || len(t.chunks[last]) == slotChunk {
		size := slotChunk
		if last < 0 {
			size = 16
		}
		t.chunks = append(t.chunks, make([]slot, 0, size))
		last++
	}
	t.chunks[last] = append(t.chunks[last], sl)
	t.n++
}

// find returns the index of the slot with seq. Calls are numbered consecutively, so the
// guess from the last slot is right unless the log lost records; then it searches.
func (t *slotTable) find(seq int) (int, bool) {
	if t.n == 0 {
		return 0, false
	}
	if guess := t.n - 1 - (t.at(t.n-1).sum.Seq - seq); guess >= 0 && guess < t.n && t.at(guess).sum.Seq == seq {
		return guess, true
	}
	i := sort.Search(t.n, func(i int) bool { return t.at(i).sum.Seq >= seq })
	return i, i < t.n && t.at(i).sum.Seq == seq
}

// insert adds a slot wherever its Seq puts it.
func (t *slotTable) insert(sl slot) {
	t.push(sl)
	for i := t.n - 1; i > 0 && t.at(i-1).sum.Seq > t.at(i).sum.Seq; i-- {
		*t.at(i - 1), *t.at(i) = *t.at(i), *t.at(i - 1)
	}
}
