package recorder

import (
	"sort"
	"time"
)

// slot is one call of the session as kept in memory: its summary and where its record
// is. It holds no pointers (strings are references into the session's string table), so
// the garbage collector never scans a long session's slots: scanning them on every
// cycle made each recorded call pay for all the calls before it.
type slot struct {
	seq      int
	recSeq   int   // the number in the record, when loading renumbered a clash; else 0
	off      int64 // offset of the record in the log
	n        int   // record length; 0 while pending or when the write failed
	started  int64 // Unix nanoseconds
	duration time.Duration
	status   int32
	attempt  int32
	// A call's id is callID(seq): the recorder names every call so.
	step, kind, leg, method, url, err, errKind, replayOf strRef
	failed, pending                                      bool
}

// strRef is a string of a strTable; 0 is "".
type strRef uint32

// strTable keeps each distinct string once. Calls repeat their steps, methods, URLs and
// errors, so a session holds few of them however many calls it has.
type strTable struct {
	strs []string
	refs map[string]strRef
	// last holds the previous string of each field pack stores: consecutive calls mostly
	// repeat them, and comparing is cheaper than hashing.
	last [packedFields]struct {
		s string
		r strRef
	}
}

// The string fields of a slot, as indices of strTable.last.
const (
	fieldStep = iota
	fieldKind
	fieldLeg
	fieldMethod
	fieldURL
	fieldErr
	fieldErrKind
	fieldReplayOf
	packedFields
)

// refAs is ref for the string of a field.
func (t *strTable) refAs(field int, s string) strRef {
	if l := &t.last[field]; s == l.s {
		return l.r
	}
	r := t.ref(s)
	t.last[field].s, t.last[field].r = s, r
	return r
}

func (t *strTable) ref(s string) strRef {
	if s == "" {
		return 0
	}
	if r, ok := t.refs[s]; ok {
		return r
	}
	if t.refs == nil {
		t.refs = map[string]strRef{}
		t.strs = []string{""}
	}
	r := strRef(len(t.strs))
	t.strs = append(t.strs, s)
	t.refs[s] = r
	return r
}

func (t *strTable) str(r strRef) string {
	if r == 0 {
		return ""
	}
	return t.strs[r]
}

// pack turns a summary into a slot, adding its strings to t.
func (t *strTable) pack(sum *Summary, off int64, n int) slot {
	sl := slot{
		seq: sum.Seq, off: off, n: n, duration: sum.Duration,
		status: int32(sum.Status), attempt: int32(sum.Attempt),
		step: t.refAs(fieldStep, sum.Step), kind: t.refAs(fieldKind, string(sum.Kind)), leg: t.refAs(fieldLeg, sum.Leg),
		method: t.refAs(fieldMethod, sum.Method), url: t.refAs(fieldURL, sum.URL), err: t.refAs(fieldErr, sum.Error),
		errKind: t.refAs(fieldErrKind, string(sum.ErrorKind)), replayOf: t.refAs(fieldReplayOf, sum.ReplayOf),
		failed: sum.Failed, pending: sum.Pending,
	}
	if !sum.Started.IsZero() {
		sl.started = sum.Started.UnixNano()
	}
	return sl
}

// summary unpacks a slot. Times come back in UTC.
func (t *strTable) summary(sl *slot) Summary {
	sum := Summary{
		ID: callID(sl.seq), Seq: sl.seq, Step: t.str(sl.step), Kind: Kind(t.str(sl.kind)), Leg: t.str(sl.leg),
		Method: t.str(sl.method), URL: t.str(sl.url), Status: int(sl.status), Duration: sl.duration,
		Error: t.str(sl.err), ErrorKind: ErrorKind(t.str(sl.errKind)), ReplayOf: t.str(sl.replayOf),
		Attempt: int(sl.attempt), Failed: sl.failed, Pending: sl.pending,
	}
	if sl.started != 0 {
		sum.Started = time.Unix(0, sl.started).UTC()
	}
	return sum
}

// slotChunk is how many slots a full chunk of a slotTable holds.
const slotChunk = 1024

// slotTable holds a session's slots in ascending seq order, in chunks that never move
// once full: a long session grows without copying the slots it already has, which a
// single slice would do again and again on the path of every new call.
type slotTable struct {
	chunks [][]slot
	n      int
}

func (t *slotTable) len() int { return t.n }

func (t *slotTable) at(i int) *slot { return &t.chunks[i/slotChunk][i%slotChunk] }

// push appends a slot whose seq is above every seq already held. The first chunk starts
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
	if guess := t.n - 1 - (t.at(t.n-1).seq - seq); guess >= 0 && guess < t.n && t.at(guess).seq == seq {
		return guess, true
	}
	i := sort.Search(t.n, func(i int) bool { return t.at(i).seq >= seq })
	return i, i < t.n && t.at(i).seq == seq
}

// insert adds a slot wherever its seq puts it.
func (t *slotTable) insert(sl slot) {
	t.push(sl)
	for i := t.n - 1; i > 0 && t.at(i-1).seq > t.at(i).seq; i-- {
		*t.at(i - 1), *t.at(i) = *t.at(i), *t.at(i - 1)
	}
}
