package recorder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync"
	"time"
)

// EventType says what happened to a call.
type EventType int

const (
	// EventBegin: a call started; its summary is Pending.
	EventBegin EventType = iota + 1
	// EventFinish: a call finished and is on disk.
	EventFinish
	// EventLost: the subscriber fell behind and events were dropped; reload with Entries.
	EventLost
)

func (t EventType) String() string {
	switch t {
	case EventBegin:
		return "begin"
	case EventFinish:
		return "finish"
	case EventLost:
		return "lost"
	default:
		return fmt.Sprintf("EventType(%d)", int(t))
	}
}

// Event is a live notification about one call.
type Event struct {
	Type EventType
	Call Summary // zero for EventLost
}

type subscriber struct {
	ch   chan Event
	lost bool
}

// Session is one recording: a log on disk and the summaries of its calls in memory.
// It is safe for concurrent use.
type Session struct {
	store *Store
	hdr   sessionHeader
	path  string
	red   *Redactor
	opts  options

	// The writer: finished calls wait in queue for one goroutine to write them. It stays
	// a while after the queue empties, so a steady stream of calls does not start a
	// goroutine (and grow its stack) for each one.
	wmu   sync.Mutex
	wcond *sync.Cond // signalled when busy clears and when the queue is taken
	queue []*finished
	// queuedBytes counts the bodies in queue; roomWaiters, the callers waiting for room.
	queuedBytes int
	roomWaiters int
	busy        bool          // calls are queued or being written
	running     bool          // a writer goroutine exists
	stopping    bool          // the writer should leave once idle
	wake        chan struct{} // tells an idle writer there is work
	w           writer        // used only by the writer goroutine
	fins        sync.Pool     // *finished, reused once written

	// fmu guards the append handle and the log's size.
	fmu       sync.Mutex
	f         *os.File // append handle, opened on first write
	size      int64
	needBreak bool // the log ends in a torn line: start the next record on a new line

	mu       sync.Mutex
	rf       *os.File // read handle for Entry
	maxSeq   int
	slots    slotTable
	strs     strTable       // the strings of slots
	inFlight []*call        // calls in flight, so Close can record them; a handful at most
	kept     map[int]*Entry // calls whose record could not be written, so nothing is dropped
	subs     map[*subscriber]struct{}
	skipped  int
	err      error
}

func newSession(st *Store, hdr sessionHeader, path string, red *Redactor) *Session {
	s := &Session{
		store: st, hdr: hdr, path: path, red: red, opts: st.opts,
		subs: map[*subscriber]struct{}{},
	}
	s.wcond = sync.NewCond(&s.wmu)
	s.wake = make(chan struct{}, 1)
	s.fins.New = func() any { return new(finished) }
	return s
}

// ID is the session id.
func (s *Session) ID() string { return s.hdr.ID }

// Meta is the session's redacted metadata.
func (s *Session) Meta() SessionMeta { return s.hdr.Meta }

// Host is where the session was recorded.
func (s *Session) Host() HostInfo { return s.hdr.Host }

// Started is when the session began.
func (s *Session) Started() time.Time { return s.hdr.Started }

// Path is the session log's file.
func (s *Session) Path() string { return s.path }

// Redactor is the session's redactor. Register the client secret and other known values
// with AddSecret before recording so they are caught wherever they appear.
func (s *Session) Redactor() *Redactor { return s.red }

// Skipped counts torn or corrupt records ignored when the session was loaded.
func (s *Session) Skipped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skipped
}

// Err returns the first error writing the log, if any. Calls are never failed because
// recording failed; entries that could not be written stay in memory.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// loadedSlots gathers the calls of a log being loaded, in the order they were written.
type loadedSlots struct {
	calls []loadedCall
}

type loadedCall struct {
	sum Summary
	off int64
	n   int
}

func (ld *loadedSlots) add(e *Entry, off int64, n int) {
	ld.calls = append(ld.calls, loadedCall{sum: e.Summary(), off: off, n: n})
}

// setLoaded puts the loaded calls in call order. Two processes appending to one session
// (a replay while the flow that recorded it still runs, say) can give two calls the same
// number: the one written first keeps it, the other is numbered after the last call, so
// neither is lost.
func (s *Session) setLoaded(ld *loadedSlots) {
	sort.SliceStable(ld.calls, func(i, j int) bool { return ld.calls[i].sum.Seq < ld.calls[j].sum.Seq })
	for _, lc := range ld.calls {
		s.maxSeq = max(s.maxSeq, lc.sum.Seq)
	}
	var renumbered []slot
	prev := 0 // the number the previous record carried, before any renumbering
	for i := range ld.calls {
		lc := &ld.calls[i]
		recSeq := lc.sum.Seq
		clash := i > 0 && recSeq == prev
		prev = recSeq
		if clash {
			s.maxSeq++
			lc.sum.Seq, lc.sum.ID = s.maxSeq, callID(s.maxSeq)
			sl := s.strs.pack(&lc.sum, lc.off, lc.n)
			sl.recSeq = recSeq
			renumbered = append(renumbered, sl)
			continue
		}
		s.slots.push(s.strs.pack(&lc.sum, lc.off, lc.n))
	}
	for _, sl := range renumbered {
		s.slots.push(sl)
	}
}

// begin reserves the next call number for sum and announces the pending call.
func (s *Session) begin(sum *Summary, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxSeq++
	sum.Seq = s.maxSeq
	sum.ID = callID(sum.Seq)
	sum.Pending = true
	if c != nil {
		// Set before the slot shows the call: Close may pick it up from there at once.
		c.id, c.seq, c.step, c.started, c.replayOf, c.attempt = sum.ID, sum.Seq, sum.Step, sum.Started, sum.ReplayOf, sum.Attempt
		s.inFlight = append(s.inFlight, c)
	}
	s.slots.push(s.strs.pack(sum, 0, 0))
	if len(s.subs) > 0 {
		s.publishLocked(Event{Type: EventBegin, Call: *sum})
	}
}

// enqueue hands a finished call to the writer, starting one if none is running. The
// caller's goroutine does no redaction, encoding or I/O, which keeps recording cheap.
func (s *Session) enqueue(f *finished) {
	size := len(f.reqBody) + len(f.respBody)
	s.wmu.Lock()
	// A writer that cannot keep up (its thread gets little CPU while other programs keep
	// the CPUs busy) makes callers wait for room, rather than letting memory grow.
	for s.running && len(s.queue) > 0 && (len(s.queue) >= s.opts.backlogCalls || s.queuedBytes+size > s.opts.backlogBytes) {
		s.roomWaiters++
		s.wcond.Wait()
		s.roomWaiters--
	}
	s.queue = append(s.queue, f)
	s.queuedBytes += size
	s.busy = true
	s.stopping = false
	start := !s.running
	s.running = true
	s.wmu.Unlock()
	if start {
		if s.opts.lowPriority {
			goLowPriority(s.drain)
		} else {
			go s.drain()
		}
		return
	}
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// writerLinger is how long an idle writer waits for more calls before it leaves.
const writerLinger = 500 * time.Millisecond

// maxWrite is the most the writer encodes before writing, so a long backlog goes out in
// pieces instead of growing one buffer.
const maxWrite = 1 << 20

// drain writes queued calls until none has come for a while. Calls that finished
// together go out in one write.
func (s *Session) drain() {
	// Only one writer runs at a time (running, under wmu, hands over), so its scratch
	// space is its own.
	w := &s.w
	if s.opts.writerStarted != nil {
		s.opts.writerStarted()
	}
	tick := time.NewTicker(writerLinger)
	defer tick.Stop()
	worked := true
	for {
		s.wmu.Lock()
		w.batch = append(w.batch[:0], s.queue...)
		clear(s.queue)
		s.queue = s.queue[:0]
		s.queuedBytes = 0
		if s.roomWaiters > 0 {
			s.wcond.Broadcast()
		}
		if len(w.batch) == 0 {
			s.busy = false
			s.wcond.Broadcast()
			if s.stopping {
				s.running = false
				s.wmu.Unlock()
				return
			}
			s.wmu.Unlock()
			select {
			case <-s.wake:
			case <-tick.C:
				if !worked {
					s.wmu.Lock()
					s.stopping = true // leaves unless a call came meanwhile
					s.wmu.Unlock()
				}
				worked = false
			}
			continue
		}
		s.wmu.Unlock()
		worked = true
		for batch := w.batch; len(batch) > 0; {
			n := 0
			w.buf = w.buf[:0]
			for n < len(batch) && len(w.buf) < maxWrite {
				f := batch[n]
				if f.observed != nil {
					w.buildObserved(s, f)
				} else {
					w.build(s, f)
				}
				w.buf = encodeRecord(w.buf, batch[n])
				n++
			}
			s.publish(w.buf, batch[:n])
			for _, f := range batch[:n] {
				if f.c != nil && f.c.tag != nil {
					e := f.entry()
					f.c.tag.set(&e)
				}
				s.recycle(f)
			}
			batch = batch[n:]
		}
		clear(w.batch)
		if cap(w.buf) > 2*maxWrite {
			w.buf = nil // do not hold on to the memory of one huge call
		}
	}
}

// Flush waits until every finished call has been written to the log. A call is on disk
// once its EventFinish is published; Close flushes too.
func (s *Session) Flush() {
	s.wmu.Lock()
	for s.busy {
		s.wcond.Wait()
	}
	s.wmu.Unlock()
}

// stopWriter tells an idle writer to leave now rather than linger.
func (s *Session) stopWriter() {
	s.wmu.Lock()
	s.stopping = s.running
	s.wmu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// encodeRecord appends f's framed log record to buf and notes where it is.
func encodeRecord(buf []byte, f *finished) []byte {
	f.recStart = len(buf)
	buf = append(buf, "00000000 "...) // checksum, filled in by frameInPlace
	buf = encodeCall(buf, f)
	buf = frameInPlace(buf, f.recStart)
	f.recEnd = len(buf)
	return buf
}

// publish writes the records of built calls, encoded in buf, with one write and
// announces them.
func (s *Session) publish(buf []byte, batch []*finished) error {

	// The write holds only the file lock, so starting calls never wait on the disk.
	s.fmu.Lock()
	off, foreignMax, werr := s.writeLocked(buf)
	s.fmu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	// Calls another process appended meanwhile: number ours after them from now on.
	s.maxSeq = max(s.maxSeq, foreignMax)
	for _, f := range batch {
		e := &f.e
		sum := e.Summary()
		sl := s.slotLocked(e.Seq)
		s.landedLocked(e.Seq)
		if werr == nil {
			*sl = s.strs.pack(&sum, off+int64(f.recStart), f.recEnd-f.recStart)
			delete(s.kept, e.Seq)
		} else {
			*sl = s.strs.pack(&sum, 0, 0)
			kept := f.entry() // nothing is dropped: the entry stays in memory
			if s.kept == nil {
				s.kept = map[int]*Entry{}
			}
			s.kept[e.Seq] = &kept
			if s.err == nil {
				s.err = fmt.Errorf("record call %s: %w", e.ID, werr)
			}
		}
		if len(s.subs) > 0 {
			s.publishLocked(Event{Type: EventFinish, Call: sum})
		}
	}
	return werr
}

// landedLocked forgets call seq as in flight.
func (s *Session) landedLocked(seq int) {
	for i, c := range s.inFlight {
		if c.seq == seq {
			last := len(s.inFlight) - 1
			s.inFlight[i], s.inFlight[last] = s.inFlight[last], nil
			s.inFlight = s.inFlight[:last]
			return
		}
	}
}

// slotLocked returns the slot of call seq, which begin created.
func (s *Session) slotLocked(seq int) *slot {
	if i, ok := s.slots.find(seq); ok {
		return s.slots.at(i)
	}
	// Unreachable while every call goes through begin; if one did not, keep it anyway.
	s.slots.insert(slot{seq: seq})
	i, _ := s.slots.find(seq)
	return s.slots.at(i)
}

// writeLocked appends framed records with a single write and returns their offset, and
// the highest call number among records another process appended since our last write.
// The caller holds fmu.
func (s *Session) writeLocked(line []byte) (off int64, foreignMax int, err error) {
	if s.f == nil {
		f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return 0, 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return 0, 0, err
		}
		s.f, s.size = f, fi.Size()
		s.needBreak = s.size > 0 && !endsWithNewline(s.path, s.size)
	}
	if s.needBreak {
		// The previous writer died mid-record: end its torn line so ours parses.
		if _, err := s.f.Write([]byte{'\n'}); err != nil {
			return 0, 0, err
		}
		s.size++
		s.needBreak = false
	}
	n, err := s.f.Write(line)
	if err != nil {
		s.size += int64(n)
		s.needBreak = n > 0
		return 0, 0, err
	}
	// Another process appending to the session (a replay, say) moves the end of the log:
	// the record went to the real end, where the append handle's offset now stands.
	end, err := s.f.Seek(0, io.SeekCurrent)
	if err != nil {
		end = s.size + int64(n)
	}
	off = end - int64(n)
	if off > s.size {
		foreignMax = s.highestSeqIn(s.size, off)
	}
	s.size = end
	return off, foreignMax, nil
}

// highestSeqIn returns the highest call number of the records in the log between two
// offsets, 0 if it cannot tell.
func (s *Session) highestSeqIn(from, to int64) int {
	f, err := os.Open(s.path)
	if err != nil {
		return 0
	}
	defer f.Close()
	highest := 0
	scanRecords(io.NewSectionReader(f, from, to-from), func(_ int64, _ int, payload []byte) error {
		var rec struct {
			Call *struct {
				Seq int `json:"seq"`
			} `json:"call"`
		}
		if json.Unmarshal(payload, &rec) == nil && rec.Call != nil {
			highest = max(highest, rec.Call.Seq)
		}
		return nil
	})
	return highest
}

func endsWithNewline(path string, size int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], size-1); err != nil {
		return true
	}
	return b[0] == '\n'
}

// encodeCall appends the JSON payload of a call record to dst.
func encodeCall(dst []byte, f *finished) []byte {
	dst = append(dst, `{"type":"call","call":`...)
	dst = appendCallJSON(dst, &f.e, f.reqHeader, f.respHeader, f.refs)
	return append(dst, '}')
}

// Entries returns the summaries of all calls in call order, pending ones included.
func (s *Session) Entries() []Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Summary, s.slots.len())
	for i := range out {
		out[i] = s.strs.summary(s.slots.at(i))
	}
	return out
}

// Entry returns one call with its bodies, read back from the log. id is "c7" or "7".
func (s *Session) Entry(id string) (Entry, error) {
	seq, err := ParseCallID(id)
	if err != nil {
		return Entry{}, err
	}
	s.Flush()
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.slots.find(seq)
	if !ok {
		return Entry{}, fmt.Errorf("call %s is not in session %s (it has %d calls): %w", callID(seq), s.hdr.ID, s.slots.len(), ErrNotFound)
	}
	sl := *s.slots.at(i)
	switch {
	case s.kept[seq] != nil:
		return *s.kept[seq], nil
	case sl.pending:
		return Entry{}, fmt.Errorf("call %s: %w", callID(seq), ErrPending)
	}
	return s.readLocked(sl)
}

func (s *Session) readLocked(sl slot) (Entry, error) {
	if s.rf == nil {
		f, err := os.Open(s.path)
		if err != nil {
			return Entry{}, fmt.Errorf("open session log: %w", err)
		}
		s.rf = f
	}
	line := make([]byte, sl.n)
	if _, err := s.rf.ReadAt(line, sl.off); err != nil {
		return Entry{}, fmt.Errorf("read call %s: %w", callID(sl.seq), err)
	}
	return decodeCallLine(line, sl)
}

// Each calls fn for every finished call in call order, reading bodies from disk one
// call at a time so memory stays flat however long the session is.
func (s *Session) Each(fn func(Entry) error) error {
	s.Flush()
	s.mu.Lock()
	slots := make([]slot, 0, s.slots.len())
	kept := make(map[int]*Entry, len(s.kept))
	for i := range s.slots.len() {
		if sl := s.slots.at(i); !sl.pending {
			slots = append(slots, *sl)
		}
	}
	for seq, e := range s.kept {
		kept[seq] = e
	}
	s.mu.Unlock()
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("open session log: %w", err)
	}
	defer f.Close()
	var line []byte
	for _, sl := range slots {
		var e Entry
		if k := kept[sl.seq]; k != nil {
			e = *k
		} else {
			if cap(line) < sl.n {
				line = make([]byte, sl.n)
			}
			line = line[:sl.n]
			if _, err := f.ReadAt(line, sl.off); err != nil {
				return fmt.Errorf("read call %s: %w", callID(sl.seq), err)
			}
			if e, err = decodeCallLine(line, sl); err != nil {
				return err
			}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func decodeCallLine(line []byte, sl slot) (Entry, error) {
	payload, err := parseRecord(bytes.TrimSuffix(line, []byte{'\n'}))
	if err != nil {
		return Entry{}, fmt.Errorf("read call %s: %w: %w", callID(sl.seq), ErrCorrupt, err)
	}
	var rec record
	want := sl.seq
	if sl.recSeq != 0 {
		want = sl.recSeq
	}
	if err := json.Unmarshal(payload, &rec); err != nil || rec.Call == nil || rec.Call.Seq != want {
		return Entry{}, fmt.Errorf("read call %s: record does not match: %w", callID(sl.seq), ErrCorrupt)
	}
	if sl.recSeq != 0 {
		rec.Call.Seq, rec.Call.ID = sl.seq, callID(sl.seq) // renumbered when loaded
	}
	return *rec.Call, nil
}

// Observe records a browser leg the tool did not make itself: the authorization URL it
// sent the user to (LegAuthorizationURL) or the redirect it received (LegBrowserRedirect).
// Codes and state in the URL are redacted and remembered like any other secret. Like a
// call, the leg is redacted and written by the writer, not on the caller's goroutine: the
// summary returned is the pending one, and Flush waits for the leg to be on disk. Write
// errors show in Err.
func (s *Session) Observe(step, leg, rawURL, note string) Summary {
	sum := Summary{Step: step, Kind: KindObserved, Leg: leg, Method: "GET", Started: s.opts.now()}
	s.begin(&sum, nil)
	f := s.fins.Get().(*finished)
	f.observed = &observedLeg{sum: sum, url: rawURL, note: note}
	s.enqueue(f)
	return sum
}

// Subscribe returns a channel of live events and a function that ends the subscription.
// Delivery never blocks a call: a subscriber that falls behind gets EventLost once there
// is room again and should reload with Entries.
func (s *Session) Subscribe() (<-chan Event, func()) {
	sub := &subscriber{ch: make(chan Event, s.opts.eventBuffer)}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	var once sync.Once
	return sub.ch, func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if _, ok := s.subs[sub]; ok {
				delete(s.subs, sub)
				close(sub.ch)
			}
		})
	}
}

func (s *Session) publishLocked(ev Event) {
	for sub := range s.subs {
		if sub.lost {
			select {
			case sub.ch <- Event{Type: EventLost}:
				sub.lost = false
			default:
				continue
			}
		}
		select {
		case sub.ch <- ev:
		default:
			sub.lost = true
		}
	}
}

// Close records calls whose response bodies were never read to the end as incomplete,
// waits for every finished call to be written, ends subscriptions and releases the
// log's file handles. Its error includes the first failed write (see Err). A closed session can still
// record: the log is reopened on the next write.
func (s *Session) Close() error {
	s.mu.Lock()
	pending := slices.Clone(s.inFlight)
	s.mu.Unlock()
	sort.Slice(pending, func(i, j int) bool { return pending[i].seq < pending[j].seq })
	for _, c := range pending {
		c.abandon()
	}
	s.Flush()
	s.stopWriter()
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		delete(s.subs, sub)
		close(sub.ch)
	}
	errs := []error{s.err}
	s.fmu.Lock()
	if s.f != nil {
		errs = append(errs, s.f.Close())
		s.f = nil
	}
	s.fmu.Unlock()
	if s.rf != nil {
		errs = append(errs, s.rf.Close())
		s.rf = nil
	}
	return errors.Join(errs...)
}
