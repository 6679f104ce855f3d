package recorder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
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

// Session is one recording: a log on disk and the summaries of its calls in memory. It is an
// httplog.Recorder: give its Transport to an http.Client, and every call is numbered as it
// starts and written to the log, redacted, as it finishes. It is safe for concurrent use.
type Session struct {
	store *Store
	hdr   sessionHeader
	path  string
	red   *Redactor
	opts  options

	// The writer: completed calls wait in queue for one goroutine that redacts, encodes and
	// appends them, so that the caller does not wait for that work (done on the caller, it cost
	// a call to a server 1 ms away 6 to 9%). wmu guards starting and stopping it.
	wmu     sync.Mutex
	queue   chan writeJob // nil while no writer runs
	stopped chan struct{}
	pending sync.WaitGroup // calls queued and not yet on disk

	mu        sync.Mutex // guards everything below; a call's record is written while holding it
	f         *os.File   // append handle, opened on first write
	size      int64
	needBreak bool     // the log ends in a torn line: start the next record on a new line
	rf        *os.File // read handle for Entry
	maxSeq    int
	calls     slots // in call order
	inFlight  map[*httplog.Call]inFlight
	kept      map[int]*Entry // calls whose record could not be written, so nothing is dropped
	notes     map[string]json.RawMessage
	subs      map[*subscriber]struct{}
	skipped   int
	err       error
}

// slot is one call as kept in memory: its summary and where its record is in the log.
type slot struct {
	sum    Summary
	off    int64
	n      int // record length; 0 while pending or when the write failed
	recSeq int // the number in the record, when loading renumbered a clash; else 0
}

// slots holds a session's calls in call order, in chunks that never move once allocated: a long
// session grows without copying the calls it already has, which one slice would do again and
// again on the path of every new call.
type slots struct {
	chunks [][]slot
	n      int
}

const slotChunk = 1024

func (t *slots) len() int { return t.n }

func (t *slots) at(i int) *slot { return &t.chunks[i/slotChunk][i%slotChunk] }

func (t *slots) push(sl slot) {
	if t.n%slotChunk == 0 {
		t.chunks = append(t.chunks, make([]slot, 0, slotChunk))
	}
	last := &t.chunks[len(t.chunks)-1]
	*last = append(*last, sl)
	t.n++
}

// inFlight is what Begin learned of a call that Finish needs.
type inFlight struct {
	seq int
	tag *replayTag
}

func newSession(st *Store, hdr sessionHeader, path string, red *Redactor) *Session {
	return &Session{
		store: st, hdr: hdr, path: path, red: red, opts: st.opts,
		inFlight: map[*httplog.Call]inFlight{}, notes: map[string]json.RawMessage{},
		subs: map[*subscriber]struct{}{},
	}
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

// Now is the session's clock.
func (s *Session) Now() time.Time { return s.opts.now() }

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

// Transport returns a capturing transport over base (http.DefaultTransport when nil) that
// records every call into the session.
func (s *Session) Transport(base http.RoundTripper) *httplog.Transport {
	return &httplog.Transport{Base: base, Recorder: s, BodyLimit: s.opts.bodyLimit, Now: s.opts.now}
}

// replayKey carries replay bookkeeping on a request's context.
type replayKey struct{}

type replayTag struct {
	of      string
	step    string // the original's step, for a replay sent outside the flow
	attempt int
	mu      sync.Mutex
	entry   *Entry
}

func (tag *replayTag) set(e *Entry) {
	tag.mu.Lock()
	defer tag.mu.Unlock()
	cp := *e
	tag.entry = &cp
}

func (tag *replayTag) get() *Entry {
	tag.mu.Lock()
	defer tag.mu.Unlock()
	return tag.entry
}

// Begin numbers a call about to be sent and announces it as pending (httplog.Recorder).
func (s *Session) Begin(c *httplog.Call) string {
	req, ex := c.Request(), c.Snapshot()
	step := ex.Step
	tag, _ := req.Context().Value(replayKey{}).(*replayTag)
	if tag != nil && step == "" {
		step = tag.step
	}
	// The pending summary shows the URL without its query, where secrets live; the full
	// redacted URL replaces it when the call is recorded.
	sum := Summary{Step: step, Kind: KindHTTP, Method: req.Method, Started: ex.Started,
		URL: s.red.redactText(req.URL.Scheme+"://"+req.URL.Host+req.URL.EscapedPath(), nil)}
	if tag != nil {
		sum.ReplayOf, sum.Attempt = tag.of, tag.attempt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beginLocked(&sum)
	s.inFlight[c] = inFlight{seq: sum.Seq, tag: tag}
	return sum.ID
}

// beginLocked reserves the next call number for sum and announces the pending call.
func (s *Session) beginLocked(sum *Summary) {
	s.maxSeq++
	sum.Seq, sum.ID, sum.Pending = s.maxSeq, callID(s.maxSeq), true
	s.calls.push(slot{sum: *sum})
	s.publishLocked(Event{Type: EventBegin, Call: *sum})
}

// Finish redacts a finished call and appends it to the log (httplog.Recorder).
func (s *Session) Finish(c *httplog.Call, ex *httplog.Exchange) {
	s.mu.Lock()
	fl, ok := s.inFlight[c]
	delete(s.inFlight, c)
	s.mu.Unlock()
	if !ok {
		return
	}
	s.commit(writeJob{ex: ex, seq: fl.seq, tag: fl.tag})
}

// Observe records a browser leg the tool did not make itself: the authorization URL it sent
// the user to (httplog.LegAuthorizationURL) or the redirect it received
// (httplog.LegBrowserRedirect). Codes and state in the URL are redacted and remembered like any
// other secret. It returns the leg as recorded.
func (s *Session) Observe(step, leg, rawURL, note string) Entry {
	sum := Summary{Step: step, Kind: KindObserved, Leg: leg, Method: http.MethodGet, Started: s.opts.now()}
	s.mu.Lock()
	s.beginLocked(&sum)
	s.mu.Unlock()
	learn := func(kind, value, fp string) { s.red.AddSecret(kind, value) }
	e := Entry{
		Exchange: httplog.Exchange{ID: sum.ID, Step: step, Leg: leg, Started: sum.Started,
			Request: httplog.Request{Method: http.MethodGet, URL: s.red.redactURL(rawURL, learn)}},
		SessionID: s.hdr.ID, Seq: sum.Seq, Kind: KindObserved, Note: s.red.RedactString(note),
	}
	s.commit(writeJob{built: &e})
	return e
}

// queueSize bounds the calls waiting for the writer (each holds at most two bodies of the body
// limit): a caller waits for room rather than let memory grow when the writer falls behind.
const queueSize = 32

// writeJob is a completed call for the writer: an exchange to redact (in the order the calls
// completed, so that secrets are learned in that order), or an entry already built.
type writeJob struct {
	ex    *httplog.Exchange
	seq   int
	tag   *replayTag
	built *Entry
}

// commit hands a completed call to the writer, starting it if none runs.
func (s *Session) commit(j writeJob) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.queue == nil {
		s.queue, s.stopped = make(chan writeJob, queueSize), make(chan struct{})
		go s.writer(s.queue, s.stopped)
	}
	s.pending.Add(1)
	s.queue <- j
}

// maxBatch is the most calls one write carries: calls that completed together go out together.
const maxBatch = 64

// writer redacts and appends queued calls until the queue is closed.
func (s *Session) writer(queue <-chan writeJob, stopped chan<- struct{}) {
	defer close(stopped)
	var batch []writeJob
	for j := range queue {
		batch = append(batch[:0], j)
	more:
		for len(batch) < maxBatch {
			select {
			case j, ok := <-queue:
				if !ok {
					break more
				}
				batch = append(batch, j)
			default:
				break more
			}
		}
		entries := make([]*Entry, len(batch))
		for i, j := range batch {
			entries[i] = j.built
			if entries[i] == nil {
				e := s.build(j.ex, j.seq, j.tag)
				entries[i] = &e
			}
		}
		s.write(entries)
		for i, j := range batch {
			if j.tag != nil {
				j.tag.set(entries[i])
			}
			s.pending.Done()
		}
		clear(batch) // the reused array would otherwise keep the last batch's bodies alive
	}
}

// Flush waits until every completed call is on disk (published as EventFinish).
func (s *Session) Flush() { s.pending.Wait() }

// stopWriter flushes and ends the writer goroutine; a later call starts another.
func (s *Session) stopWriter() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.queue == nil {
		return
	}
	close(s.queue)
	<-s.stopped
	s.queue, s.stopped = nil, nil
}

// write appends entries to the log with one write and publishes them. An entry whose record
// could not be written stays in memory, so nothing is dropped.
func (s *Session) write(entries []*Entry) {
	var buf []byte
	ends := make([]int, len(entries)) // where each record ends in buf; -1 when it did not encode
	errs := make([]error, len(entries))
	for i, e := range entries {
		rec := recordOf(e)
		line, err := encodeRecord(record{Type: recordCall, Call: &rec})
		if err != nil {
			ends[i], errs[i] = -1, err
			continue
		}
		buf = append(buf, line...)
		ends[i] = len(buf)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var off int64
	var werr error
	if len(buf) > 0 {
		off, werr = s.writeLocked(buf)
	}
	start := 0
	for i, e := range entries {
		n := 0
		if ends[i] >= 0 {
			n = ends[i] - start
		}
		err := errs[i]
		if err == nil {
			err = werr
		}
		i, ok := s.findLocked(e.Seq)
		if !ok {
			// Unreachable while every call goes through beginLocked; if one did not, keep it anyway.
			s.calls.push(slot{})
			i = s.calls.len() - 1
		}
		sl := s.calls.at(i)
		sl.sum = e.Summary()
		if err == nil {
			sl.off, sl.n = off+int64(start), n
		} else {
			if s.kept == nil {
				s.kept = map[int]*Entry{}
			}
			kept := *e
			s.kept[e.Seq] = &kept
			if s.err == nil {
				s.err = fmt.Errorf("record call %s: %w", e.ID, err)
			}
		}
		start += n
		s.publishLocked(Event{Type: EventFinish, Call: sl.sum})
	}
}

// findLocked returns the index of call seq. Calls are numbered consecutively, so the guess from
// the last call is right unless the log lost records; then it searches.
func (s *Session) findLocked(seq int) (int, bool) {
	n := s.calls.len()
	if n == 0 {
		return 0, false
	}
	if g := n - 1 - (s.calls.at(n-1).sum.Seq - seq); g >= 0 && g < n && s.calls.at(g).sum.Seq == seq {
		return g, true
	}
	i := sort.Search(n, func(i int) bool { return s.calls.at(i).sum.Seq >= seq })
	return i, i < n && s.calls.at(i).sum.Seq == seq
}

// Annotate stores a named value with the session (the context a flow ran in, the diagnoses it
// made), so that commands reading the session later see what the recording one saw. The value is
// JSON, redacted like a body; a later value under the same name replaces the earlier one.
func (s *Session) Annotate(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("annotate session with %s: %w", name, err)
	}
	b = s.red.RedactBody("application/json", b)
	payload, err := json.Marshal(record{Type: recordNote, Name: name, Value: b})
	if err != nil {
		return fmt.Errorf("annotate session with %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes[name] = b
	if _, err := s.writeLocked(appendRecord(nil, payload)); err != nil {
		return fmt.Errorf("annotate session with %s: %w", name, err)
	}
	return nil
}

// Annotation reads the value stored under name into v; false when there is none.
func (s *Session) Annotation(name string, v any) (bool, error) {
	s.mu.Lock()
	b, ok := s.notes[name]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("session %s: its %s cannot be read: %w", s.hdr.ID, name, err)
	}
	return true, nil
}

// writeLocked appends framed records with a single write and returns their offset. Another
// process appending to the session meanwhile moves the end of the log; its calls are then
// numbered before ours from now on.
func (s *Session) writeLocked(line []byte) (int64, error) {
	if s.f == nil {
		f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return 0, err
		}
		s.f, s.size = f, fi.Size()
		s.needBreak = s.size > 0 && !endsWithNewline(s.path, s.size)
	}
	if s.needBreak {
		// The previous writer died mid-record: end its torn line so ours parses.
		if _, err := s.f.Write([]byte{'\n'}); err != nil {
			return 0, err
		}
		s.size++
		s.needBreak = false
	}
	n, err := s.f.Write(line)
	if err != nil {
		s.size += int64(n)
		s.needBreak = n > 0
		return 0, err
	}
	// The record went to the real end of the file, where the append handle's offset now stands.
	end, err := s.f.Seek(0, io.SeekCurrent)
	if err != nil {
		end = s.size + int64(n)
	}
	off := end - int64(n)
	if off > s.size {
		s.maxSeq = max(s.maxSeq, s.highestSeqIn(s.size, off))
	}
	s.size = end
	return off, nil
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

// Entries returns the summaries of all calls in call order, pending ones included: a call
// stays pending until it is on disk, so Flush first when every finished call must be listed.
func (s *Session) Entries() []Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Summary, s.calls.len())
	for i := range out {
		out[i] = s.calls.at(i).sum
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
	i, ok := s.findLocked(seq)
	if !ok {
		return Entry{}, fmt.Errorf("call %s is not in session %s (it has %d calls): %w", callID(seq), s.hdr.ID, s.calls.len(), ErrNotFound)
	}
	sl := *s.calls.at(i)
	switch {
	case s.kept[seq] != nil:
		return *s.kept[seq], nil
	case sl.sum.Pending:
		return Entry{}, fmt.Errorf("call %s: %w", callID(seq), ErrPending)
	}
	if s.rf == nil {
		f, err := os.Open(s.path)
		if err != nil {
			return Entry{}, fmt.Errorf("open session log: %w", err)
		}
		s.rf = f
	}
	return readCall(s.rf, sl, nil)
}

// readCall reads one call's record at its slot, into buf when it is large enough.
func readCall(r io.ReaderAt, sl slot, buf []byte) (Entry, error) {
	if cap(buf) < sl.n {
		buf = make([]byte, sl.n)
	}
	line := buf[:sl.n]
	if _, err := r.ReadAt(line, sl.off); err != nil {
		return Entry{}, fmt.Errorf("read call %s: %w", sl.sum.ID, err)
	}
	payload, err := parseRecord(bytes.TrimSuffix(line, []byte{'\n'}))
	if err != nil {
		return Entry{}, fmt.Errorf("read call %s: %w: %w", sl.sum.ID, ErrCorrupt, err)
	}
	var rec record
	want := sl.sum.Seq
	if sl.recSeq != 0 {
		want = sl.recSeq
	}
	if err := json.Unmarshal(payload, &rec); err != nil || rec.Call == nil || rec.Call.Seq != want {
		return Entry{}, fmt.Errorf("read call %s: record does not match: %w", sl.sum.ID, ErrCorrupt)
	}
	if sl.recSeq != 0 {
		rec.Call.Seq, rec.Call.ID = sl.sum.Seq, sl.sum.ID // renumbered when loaded
	}
	e, err := rec.Call.entry()
	if err != nil {
		return Entry{}, fmt.Errorf("read call %s: %w: %w", sl.sum.ID, ErrCorrupt, err)
	}
	return e, nil
}

// Each calls fn for every finished call in call order, reading bodies from disk one
// call at a time so memory stays flat however long the session is.
func (s *Session) Each(fn func(Entry) error) error {
	s.Flush()
	s.mu.Lock()
	done := make([]slot, 0, s.calls.len())
	for i := range s.calls.len() {
		if sl := s.calls.at(i); !sl.sum.Pending {
			done = append(done, *sl)
		}
	}
	kept := make(map[int]*Entry, len(s.kept))
	for seq, e := range s.kept {
		kept[seq] = e
	}
	s.mu.Unlock()
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("open session log: %w", err)
	}
	defer f.Close()
	var buf []byte
	for _, sl := range done {
		e, err := Entry{}, error(nil)
		if k := kept[sl.sum.Seq]; k != nil {
			e = *k
		} else {
			if cap(buf) < sl.n {
				buf = make([]byte, sl.n)
			}
			if e, err = readCall(f, sl, buf); err != nil {
				return err
			}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
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

// Close records calls still in flight (their answers, or the rest of their bodies, never
// came) as incomplete, waits for every completed call to be on disk, ends subscriptions and
// releases the log's file handles. Its error
// includes the first failed write (see Err). A closed session can still record: the log is
// reopened on the next write.
func (s *Session) Close() error {
	s.mu.Lock()
	pending := make([]*httplog.Call, 0, len(s.inFlight))
	for c := range s.inFlight {
		pending = append(pending, c)
	}
	slices.SortFunc(pending, func(a, b *httplog.Call) int { return s.inFlight[a].seq - s.inFlight[b].seq })
	s.mu.Unlock()
	for _, c := range pending {
		c.Abandon() // finishes the call: Finish writes it
	}
	s.stopWriter()
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		delete(s.subs, sub)
		close(sub.ch)
	}
	errs := []error{s.err}
	if s.f != nil {
		errs = append(errs, s.f.Close())
		s.f = nil
	}
	if s.rf != nil {
		errs = append(errs, s.rf.Close())
		s.rf = nil
	}
	return errors.Join(errs...)
}
