package recorder

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// Errors callers branch on.
var (
	ErrNotFound   = errors.New("not found")
	ErrAmbiguous  = errors.New("ambiguous id")
	ErrNoSessions = errors.New("no recorded sessions")
	ErrBadCallID  = errors.New("bad call id")
	ErrPending    = errors.New("call still in progress")
	ErrCorrupt    = errors.New("session log is not readable")
)

// logFormat is the version of the on-disk record layout.
const logFormat = 1

const logExt = ".log"

// DefaultBodyLimit caps the bytes of each body kept in the log.
const DefaultBodyLimit = httplog.DefaultBodyLimit

// SessionMeta describes what a session was recorded against. It holds no secrets and
// feeds the bundle's config.json.
type SessionMeta struct {
	Provider    string            `json:"provider,omitempty"`
	ClientID    string            `json:"client_id,omitempty"`
	RedirectURI string            `json:"redirect_uri,omitempty"`
	Scopes      []string          `json:"scopes,omitempty"`
	Endpoints   map[string]string `json:"endpoints,omitempty"`
	ToolVersion string            `json:"tool_version,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// HostInfo is where a session was recorded.
type HostInfo struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	GoVersion string `json:"go_version"`
}

// sessionHeader is the first record of every log.
type sessionHeader struct {
	Format  int         `json:"format"`
	ID      string      `json:"id"`
	Started time.Time   `json:"started"`
	Meta    SessionMeta `json:"meta"`
	Host    HostInfo    `json:"host"`
}

// Record types of the log.
const (
	recordSession = "session"
	recordCall    = "call"
	recordNote    = "note"
)

// record is one line of the log: the session header, a call, or a named note (Annotate).
type record struct {
	Type    string          `json:"type"`
	Session *sessionHeader  `json:"session,omitempty"`
	Call    *callRecord     `json:"call,omitempty"`
	Name    string          `json:"name,omitempty"`
	Value   json.RawMessage `json:"value,omitempty"`
}

// SessionInfo is one line of the session list.
type SessionInfo struct {
	ID       string      `json:"id"`
	Started  time.Time   `json:"started"`
	LastCall time.Time   `json:"last_call,omitzero"`
	Meta     SessionMeta `json:"meta"`
	Host     HostInfo    `json:"host"`
	Calls    int         `json:"calls"`
	Failed   int         `json:"failed"`
	Skipped  int         `json:"skipped_records,omitempty"` // torn or corrupt records ignored
	Path     string      `json:"path"`
	Size     int64       `json:"size"`
}

// Option configures a Store and the sessions it opens.
type Option func(*options)

type options struct {
	now         func() time.Time
	ids         io.Reader
	bodyLimit   int
	eventBuffer int
}

// WithClock sets the clock used for timestamps and durations.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithIDs sets the randomness behind session ids, for reproducible tests.
func WithIDs(r io.Reader) Option { return func(o *options) { o.ids = r } }

// WithBodyLimit caps the bytes of each body kept; longer bodies are marked truncated.
func WithBodyLimit(n int) Option { return func(o *options) { o.bodyLimit = n } }

// WithEventBuffer sets how many live events a slow subscriber may fall behind before it
// is told to reload.
func WithEventBuffer(n int) Option { return func(o *options) { o.eventBuffer = n } }

// Store is a directory of session logs.
type Store struct {
	dir  string
	opts options
}

// Open opens (creating with mode 0700) the directory holding session logs. The caller
// resolves the directory; the recorder reads no environment variables.
func Open(dir string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, ids: rand.Reader, bodyLimit: DefaultBodyLimit, eventBuffer: 256}
	for _, opt := range opts {
		opt(&o)
	}
	if o.bodyLimit <= 0 {
		return nil, fmt.Errorf("body limit must be positive, got %d", o.bodyLimit)
	}
	if o.eventBuffer <= 0 {
		o.eventBuffer = 1
	}
	if dir == "" {
		return nil, errors.New("session directory not set")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create session directory: %w", err)
	}
	// Logs hold redacted traffic, still nobody else's business: keep the directory private.
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("make session directory private: %w", err)
		}
	}
	return &Store{dir: dir, opts: o}, nil
}

// Dir is the directory holding the session logs.
func (st *Store) Dir() string { return st.dir }

// NewSession starts a session log and writes its header.
func (st *Store) NewSession(meta SessionMeta) (*Session, error) {
	red := NewRedactor()
	started := st.opts.now()
	hdr := sessionHeader{
		Format:  logFormat,
		Started: started,
		Meta:    redactMeta(red, meta),
		Host:    HostInfo{OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()},
	}
	for range 8 {
		var rnd [3]byte
		if _, err := io.ReadFull(st.opts.ids, rnd[:]); err != nil {
			return nil, fmt.Errorf("session id: %w", err)
		}
		hdr.ID = started.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(rnd[:])
		path := filepath.Join(st.dir, hdr.ID+logExt)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create session log: %w", err)
		}
		payload, err := json.Marshal(record{Type: recordSession, Session: &hdr})
		if err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("encode session header: %w", err)
		}
		line := appendRecord(nil, payload)
		if _, err := f.Write(line); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("write session log: %w", err)
		}
		s := newSession(st, hdr, path, red)
		s.f = f
		s.size = int64(len(line))
		return s, nil
	}
	return nil, errors.New("could not pick an unused session id")
}

// redactMeta keeps secrets out of metadata that callers fill from configuration.
func redactMeta(r *Redactor, m SessionMeta) SessionMeta {
	m.RedirectURI = r.RedactURL(m.RedirectURI)
	if m.Endpoints != nil {
		eps := make(map[string]string, len(m.Endpoints))
		for k, v := range m.Endpoints {
			eps[k] = r.RedactURL(v)
		}
		m.Endpoints = eps
	}
	if m.Labels != nil {
		ls := make(map[string]string, len(m.Labels))
		for k, v := range m.Labels {
			if kind, ok := secretKind(k); ok && v != "" {
				v = Placeholder(kind, v)
			}
			ls[k] = r.RedactString(v)
		}
		m.Labels = ls
	}
	m.Scopes = append([]string(nil), m.Scopes...)
	return m
}

// logNames lists the session ids in the store.
func (st *Store) logNames() ([]string, error) {
	des, err := os.ReadDir(st.dir)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	var ids []string
	for _, de := range des {
		name := de.Name()
		if de.Type().IsRegular() && strings.HasSuffix(name, logExt) && !strings.HasPrefix(name, ".") {
			ids = append(ids, strings.TrimSuffix(name, logExt))
		}
	}
	return ids, nil
}

// summaryDigest is the part of a record loading needs: a call's summary fields (no headers or
// bodies, which stay on disk until Entry asks for them), or a note.
type summaryDigest struct {
	Type  string          `json:"type"`
	Call  *callSummary    `json:"call"`
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

type callSummary struct {
	ID        string            `json:"id"`
	Seq       int               `json:"seq"`
	Step      string            `json:"step"`
	Kind      Kind              `json:"kind"`
	Leg       string            `json:"leg"`
	Started   time.Time         `json:"started"`
	Duration  time.Duration     `json:"duration_ns"`
	Error     string            `json:"error"`
	ErrorKind httplog.ErrorKind `json:"error_kind"`
	ReplayOf  string            `json:"replay_of"`
	Attempt   int               `json:"attempt"`
	Request   struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Response *struct {
		Status int `json:"status"`
	} `json:"response"`
}

// entry is the digest as an Entry holding what Summary reads.
func (c *callSummary) entry() Entry {
	e := Entry{Exchange: httplog.Exchange{ID: c.ID, Step: c.Step, Leg: c.Leg, Started: c.Started, Duration: c.Duration,
		Error: c.Error, ErrorKind: c.ErrorKind, Request: httplog.Request{Method: c.Request.Method, URL: c.Request.URL}},
		Seq: c.Seq, Kind: c.Kind, ReplayOf: c.ReplayOf, Attempt: c.Attempt}
	if c.Response != nil {
		e.Response = &httplog.Response{Status: c.Response.Status}
	}
	return e
}

// callDigest is the part of a call record the session list needs.
type callDigest struct {
	Call *struct {
		Kind     Kind          `json:"kind"`
		Leg      string        `json:"leg"`
		Started  time.Time     `json:"started"`
		Duration time.Duration `json:"duration_ns"`
		Error    string        `json:"error"`
		Request  struct {
			URL string `json:"url"`
		} `json:"request"`
		Response *struct {
			Status int `json:"status"`
		} `json:"response"`
	} `json:"call"`
	Session *sessionHeader `json:"session"`
}

// Sessions lists the stored sessions, newest first. Unreadable logs are skipped.
func (st *Store) Sessions() ([]SessionInfo, error) {
	ids, err := st.logNames()
	if err != nil {
		return nil, err
	}
	infos := make([]SessionInfo, 0, len(ids))
	for _, id := range ids {
		info, err := st.info(id)
		if err != nil {
			continue
		}
		infos = append(infos, info)
	}
	sort.Slice(infos, func(i, j int) bool {
		if !infos[i].Started.Equal(infos[j].Started) {
			return infos[i].Started.After(infos[j].Started)
		}
		return infos[i].ID > infos[j].ID
	})
	return infos, nil
}

func (st *Store) info(id string) (SessionInfo, error) {
	path := filepath.Join(st.dir, id+logExt)
	f, err := os.Open(path)
	if err != nil {
		return SessionInfo{}, err
	}
	defer f.Close()
	info := SessionInfo{ID: id, Path: path}
	var hdr *sessionHeader
	res, err := scanRecords(f, func(_ int64, _ int, payload []byte) error {
		var d callDigest
		if err := json.Unmarshal(payload, &d); err != nil {
			info.Skipped++
			return nil
		}
		switch {
		case d.Session != nil && hdr == nil:
			hdr = d.Session
		case d.Call != nil:
			info.Calls++
			c := d.Call
			e := Entry{Exchange: httplog.Exchange{Error: c.Error, Request: httplog.Request{URL: c.Request.URL}}, Kind: c.Kind}
			e.Leg = c.Leg
			if c.Response != nil {
				e.Response = &httplog.Response{Status: c.Response.Status}
			}
			if e.Failed() {
				info.Failed++
			}
			if end := c.Started.Add(c.Duration); end.After(info.LastCall) {
				info.LastCall = end
			}
		}
		return nil
	})
	if err != nil {
		return SessionInfo{}, err
	}
	if hdr == nil {
		return SessionInfo{}, fmt.Errorf("%s: no session header: %w", path, ErrCorrupt)
	}
	info.Skipped += res.skipped
	info.Size = res.size
	info.Started, info.Meta, info.Host = hdr.Started, hdr.Meta, hdr.Host
	return info, nil
}

// latest returns the newest session, as Sessions orders them, reading only the header of
// each log: a store of long sessions is not read through to find it.
func (st *Store) latest() (string, error) {
	ids, err := st.logNames()
	if err != nil {
		return "", err
	}
	best, bestStarted := "", time.Time{}
	for _, id := range ids {
		hdr, err := st.header(id)
		if err != nil {
			continue // unreadable, as Sessions skips it
		}
		if best == "" || hdr.Started.After(bestStarted) || hdr.Started.Equal(bestStarted) && id > best {
			best, bestStarted = id, hdr.Started
		}
	}
	if best == "" {
		return "", fmt.Errorf("%w in %s", ErrNoSessions, st.dir)
	}
	return best, nil
}

// errStopScan ends a scan early.
var errStopScan = errors.New("stop")

// header reads a log's session header, which is its first record.
func (st *Store) header(id string) (*sessionHeader, error) {
	f, err := os.Open(filepath.Join(st.dir, id+logExt))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var hdr *sessionHeader
	_, err = scanRecords(f, func(_ int64, _ int, payload []byte) error {
		var rec record
		if json.Unmarshal(payload, &rec) == nil && rec.Session != nil {
			hdr = rec.Session
		}
		return errStopScan
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return nil, err
	}
	if hdr == nil {
		return nil, fmt.Errorf("session %s has no readable header: %w", id, ErrCorrupt)
	}
	return hdr, nil
}

// Resolve turns "latest", a full id or a unique id prefix into a session id.
func (st *Store) Resolve(id string) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" || id == "latest" {
		return st.latest()
	}
	if strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return "", fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	ids, err := st.logNames()
	if err != nil {
		return "", err
	}
	var matches []string
	for _, name := range ids {
		if name == id {
			return name, nil
		}
		if strings.HasPrefix(name, id) {
			matches = append(matches, name)
		}
	}
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("no session matches %q in %s: %w", id, st.dir, ErrNotFound)
	case 1:
		return matches[0], nil
	default:
		sort.Strings(matches)
		return "", fmt.Errorf("session %q matches %s; give more of the id: %w", id, strings.Join(matches, ", "), ErrAmbiguous)
	}
}

// Load opens a stored session by id ("latest", a full id or a unique prefix). Its
// summaries are read into memory; bodies stay on disk until Entry asks for them. New
// calls recorded through it (replays) are appended to the same log.
func (st *Store) Load(id string) (*Session, error) {
	resolved, err := st.Resolve(id)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(st.dir, resolved+logExt)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open session %s: %w", resolved, err)
	}
	defer f.Close()
	var s *Session
	var loaded []slot
	red := NewRedactor()
	res, err := scanRecords(f, func(off int64, n int, payload []byte) error {
		if s == nil && bytes.Contains(payload[:min(len(payload), 32)], []byte(`"type":"session"`)) {
			var rec record
			if err := json.Unmarshal(payload, &rec); err != nil || rec.Session == nil {
				return nil
			}
			s = newSession(st, *rec.Session, path, red)
			return nil
		}
		if s == nil {
			return nil // our writer never puts a record before the header
		}
		var d summaryDigest
		switch {
		case json.Unmarshal(payload, &d) != nil:
			s.skipped++
		case d.Type == recordNote && d.Name != "":
			s.notes[d.Name] = d.Value
		case d.Call != nil:
			e := d.Call.entry()
			loaded = append(loaded, slot{sum: e.Summary(), off: off, n: n})
		default:
			s.skipped++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read session %s: %w", resolved, err)
	}
	if s == nil {
		return nil, fmt.Errorf("session %s has no readable header: %w", resolved, ErrCorrupt)
	}
	s.skipped += res.skipped // the first write measures the log's end again, torn tail included
	s.setLoaded(loaded)
	return s, nil
}

// setLoaded puts the loaded calls in call order. Two processes appending to one session
// (a replay while the flow that recorded it still runs, say) can give two calls the same
// number: the one written first keeps it, the other is numbered after the last call, so
// neither is lost.
func (s *Session) setLoaded(calls []slot) {
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].sum.Seq < calls[j].sum.Seq })
	for _, c := range calls {
		s.maxSeq = max(s.maxSeq, c.sum.Seq)
	}
	var renumbered []slot
	prev := 0 // the number the previous record carried, before any renumbering
	for i, c := range calls {
		recSeq := c.sum.Seq
		clash := i > 0 && recSeq == prev
		prev = recSeq
		if clash {
			s.maxSeq++
			c.sum.Seq, c.sum.ID, c.recSeq = s.maxSeq, callID(s.maxSeq), recSeq
			renumbered = append(renumbered, c)
			continue
		}
		s.calls.push(c)
	}
	for _, c := range renumbered {
		s.calls.push(c)
	}
}
