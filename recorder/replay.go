package recorder

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// SecretResolver finds the raw value of a redacted secret by kind and fingerprint, for
// example in the token store or the configured client secret.
type SecretResolver interface {
	Resolve(kind, fingerprint string) (string, bool)
}

// ResolverFunc adapts a function to SecretResolver.
type ResolverFunc func(kind, fingerprint string) (string, bool)

// Resolve calls f.
func (f ResolverFunc) Resolve(kind, fingerprint string) (string, bool) { return f(kind, fingerprint) }

// Resolvers tries each resolver in turn.
type Resolvers []SecretResolver

// Resolve returns the first resolver's answer that has the value.
func (rs Resolvers) Resolve(kind, fingerprint string) (string, bool) {
	for _, r := range rs {
		if r == nil {
			continue
		}
		if v, ok := r.Resolve(kind, fingerprint); ok {
			return v, true
		}
	}
	return "", false
}

// MissingSecretsError says which secrets a replay needed and could not find.
type MissingSecretsError struct {
	CallID  string
	Missing []SecretRef
}

func (e *MissingSecretsError) Error() string {
	parts := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		parts[i] = m.Kind + " (" + m.Fingerprint + ")"
	}
	msg := fmt.Sprintf("cannot replay %s: it used %s, no longer available", e.CallID, strings.Join(parts, ", "))
	if e.NeedsAccessToken() {
		msg += "; replay it with a fresh access token instead"
	}
	return msg
}

// NeedsAccessToken reports whether a fresh access token would fill in a missing secret.
func (e *MissingSecretsError) NeedsAccessToken() bool {
	for _, m := range e.Missing {
		if m.Kind == KindAccessToken {
			return true
		}
	}
	return false
}

// ErrNotReplayable marks entries that cannot be resent, such as observed browser legs.
var ErrNotReplayable = errors.New("call cannot be replayed")

// Edit changes a call before it is resent. Zero fields keep the recorded value.
type Edit struct {
	Method     string
	URL        string
	SetHeaders http.Header // replaces these headers; an empty value removes the header
	Body       *string
	// FreshToken replaces the access token the call carried.
	FreshToken string
}

// BackoffPolicy bounds retries of 429 and 5xx answers.
type BackoffPolicy struct {
	Base        time.Duration // first delay ceiling
	Factor      float64       // growth per attempt
	MaxDelay    time.Duration // ceiling of one delay
	MaxAttempts int           // attempts in all, the first included
	MaxTotal    time.Duration // time budget for all attempts and waits
}

// DefaultBackoff: 500ms doubling, full jitter, Retry-After honoured, 4 attempts, 30s.
func DefaultBackoff() BackoffPolicy {
	return BackoffPolicy{Base: 500 * time.Millisecond, Factor: 2, MaxDelay: 10 * time.Second, MaxAttempts: 4, MaxTotal: 30 * time.Second}
}

// Retryable reports whether a replay attempt's answer is worth retrying: 429 or 5xx.
func Retryable(e Entry) bool {
	s := e.Status()
	return s == http.StatusTooManyRequests || s >= 500
}

// Replayer resends recorded calls.
type Replayer struct {
	// Client sends the requests; its transport is wrapped to record into the session
	// (a transport already recording into that session is used as is). Redirects are not
	// followed: a replay is one call.
	Client  *http.Client
	Resolve SecretResolver // may be nil; the session's own redactor is consulted after it
	Backoff BackoffPolicy  // zero value means DefaultBackoff
	Sleep   func(ctx context.Context, d time.Duration) error
	Rand    io.Reader // jitter source; nil means crypto/rand
}

// Wait is one pause between attempts and why.
type Wait struct {
	After  string        `json:"after"` // the attempt's call id
	Delay  time.Duration `json:"delay_ns"`
	Reason string        `json:"reason"`
}

// ReplayResult is a replay's outcome: every attempt as recorded, and the comparison of
// the original with the last attempt.
type ReplayResult struct {
	Original   Entry      `json:"original"`
	Attempts   []Entry    `json:"attempts"`
	Waits      []Wait     `json:"waits,omitempty"`
	Notes      []string   `json:"notes,omitempty"`
	Comparison Comparison `json:"comparison"`
}

// Last is the final attempt.
func (r *ReplayResult) Last() Entry { return r.Attempts[len(r.Attempts)-1] }

// Replay resends call id of session s, edited, retrying 429 and 5xx answers. Each
// attempt is recorded in s as a new call with ReplayOf set to the original.
func (rp *Replayer) Replay(ctx context.Context, s *Session, id string, edit Edit) (*ReplayResult, error) {
	orig, err := s.Entry(id)
	if err != nil {
		return nil, err
	}
	if orig.Kind != KindHTTP {
		return nil, fmt.Errorf("%s is a browser leg oauthdiag only observed, not a call it made: %w", orig.ID, ErrNotReplayable)
	}
	res := &ReplayResult{Original: orig}
	build, notes, err := rp.prepare(s, orig, edit)
	if err != nil {
		return nil, err
	}
	res.Notes = notes

	policy := rp.Backoff
	if policy.MaxAttempts <= 0 {
		policy = DefaultBackoff()
	}
	sleep := rp.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	rnd := rp.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	client := rp.client(s)
	now := s.opts.now
	start := now()

	for attempt := 1; ; attempt++ {
		e, err := rp.attempt(ctx, s, client, build, orig, attempt)
		if err != nil {
			return nil, err
		}
		res.Attempts = append(res.Attempts, e)
		if !Retryable(e) || ctx.Err() != nil {
			break
		}
		if attempt >= policy.MaxAttempts {
			res.Notes = append(res.Notes, fmt.Sprintf("gave up after %d attempts", attempt))
			break
		}
		delay, reason := policy.delay(attempt, rnd)
		if ra, ok := retryAfter(&e, now()); ok && ra >= delay {
			delay, reason = ra, "Retry-After: "+e.Response.Header.Get("Retry-After")
		}
		if elapsed := now().Sub(start); elapsed+delay > policy.MaxTotal {
			res.Notes = append(res.Notes, fmt.Sprintf("gave up: waiting %s more would pass the %s budget", delay.Round(time.Millisecond), policy.MaxTotal))
			break
		}
		res.Waits = append(res.Waits, Wait{After: e.ID, Delay: delay, Reason: reason})
		if err := sleep(ctx, delay); err != nil {
			res.Notes = append(res.Notes, "stopped: "+err.Error())
			break
		}
	}
	res.Comparison = Compare(orig, res.Last())
	return res, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// delay is full jitter: uniform in [0, min(MaxDelay, Base*Factor^(attempt-1))).
func (p BackoffPolicy) delay(attempt int, rnd io.Reader) (time.Duration, string) {
	ceiling := float64(p.Base) * math.Pow(p.Factor, float64(attempt-1))
	if p.MaxDelay > 0 && ceiling > float64(p.MaxDelay) {
		ceiling = float64(p.MaxDelay)
	}
	var b [8]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return time.Duration(ceiling), "backoff"
	}
	frac := float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
	return time.Duration(frac * ceiling), "backoff"
}

// retryAfter reads Retry-After as seconds or an HTTP date. A date is measured against
// the server's own Date header when there is one, so clock skew does not distort it.
func retryAfter(e *Entry, now time.Time) (time.Duration, bool) {
	if e.Response == nil {
		return 0, false
	}
	v := strings.TrimSpace(e.Response.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	ref := now
	if d, ok := e.ServerDate(); ok {
		ref = d
	}
	return max(t.Sub(ref), 0), true
}

func (rp *Replayer) client(s *Session) *http.Client {
	base := rp.Client
	if base == nil {
		base = &http.Client{}
	}
	c := *base
	if t, ok := c.Transport.(*httplog.Transport); !ok || t.Recorder != s {
		c.Transport = s.Transport(c.Transport)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// builtRequest is what each attempt sends.
type builtRequest struct {
	method string
	url    string
	header http.Header
	body   *string
}

func (rp *Replayer) attempt(ctx context.Context, s *Session, client *http.Client, b builtRequest, orig Entry, n int) (Entry, error) {
	tag := &replayTag{of: orig.ID, step: orig.Step, attempt: n}
	var body io.Reader
	if b.body != nil {
		body = strings.NewReader(*b.body)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, replayKey{}, tag), b.method, b.url, body)
	if err != nil {
		return Entry{}, fmt.Errorf("build replay request: %w", err)
	}
	req.Header = b.header.Clone()
	resp, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// The transport recorded the attempt, failed or not; the raw error may hold secrets,
	// so only the recorded, redacted one is reported.
	s.Flush()
	if e := tag.get(); e != nil {
		return *e, nil
	}
	return Entry{}, errors.New("replay attempt was not recorded: the client's transport does not reach the session")
}

// prepare turns the recorded, redacted request back into a sendable one.
func (rp *Replayer) prepare(s *Session, orig Entry, edit Edit) (builtRequest, []string, error) {
	var notes []string
	b := builtRequest{method: orig.Request.Method, url: orig.Request.URL, header: orig.Request.Header.Clone()}
	if b.header == nil {
		b.header = http.Header{}
	}
	if edit.Method != "" {
		b.method = strings.ToUpper(edit.Method)
	}
	if edit.URL != "" {
		if _, err := url.Parse(edit.URL); err != nil {
			return b, nil, fmt.Errorf("replay URL %q: %w", edit.URL, err)
		}
		b.url = edit.URL
	}
	for k, vs := range edit.SetHeaders {
		if len(vs) == 0 || (len(vs) == 1 && vs[0] == "") {
			b.header.Del(k)
			continue
		}
		b.header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	switch {
	case edit.Body != nil:
		body := *edit.Body
		b.body = &body
	case orig.Request.Truncated:
		return b, nil, fmt.Errorf("%s's request body was larger than the recording keeps, so it cannot be resent as is; give the body explicitly: %w", orig.ID, ErrNotReplayable)
	case len(orig.Request.Body) > 0 || orig.Request.BodySize > 0:
		body := string(orig.Request.Body)
		b.body = &body
	}

	resolver := Resolvers{rp.Resolve, s.red}
	usedFresh := false
	var missing []SecretRef
	seen := map[string]bool{}
	// A secret is fingerprinted decoded; put it back encoded the way its place needs.
	fillAs := func(text string, encode func(string) string) string {
		return placeholderPattern.ReplaceAllStringFunc(text, func(ph string) string {
			m := placeholderPattern.FindStringSubmatch(ph)
			kind, fp := m[1], m[2]
			if edit.FreshToken != "" && kind == KindAccessToken {
				usedFresh = true
				return encode(edit.FreshToken)
			}
			if v, ok := resolver.Resolve(kind, fp); ok {
				return encode(v)
			}
			if !seen[ph] {
				seen[ph] = true
				missing = append(missing, SecretRef{Kind: kind, Fingerprint: fp})
			}
			return ph
		})
	}
	raw := func(v string) string { return v }
	fill := func(text string) string { return fillAs(text, raw) }
	if base, query, ok := strings.Cut(b.url, "?"); ok {
		b.url = fill(base) + "?" + fillAs(query, url.QueryEscape)
	} else {
		b.url = fill(b.url)
	}
	for k, vs := range b.header {
		for i, v := range vs {
			if strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "Proxy-Authorization") {
				vs[i] = fillBasic(v, fill)
				continue
			}
			vs[i] = fill(v)
		}
	}
	if b.body != nil {
		encode := raw
		switch mt := mediaType(b.header.Get("Content-Type")); {
		case mt == "application/x-www-form-urlencoded":
			encode = url.QueryEscape
		case isJSONType(mt):
			encode = jsonEscape
		}
		body := fillAs(*b.body, encode)
		b.body = &body
	}
	if len(missing) > 0 {
		return b, nil, &MissingSecretsError{CallID: orig.ID, Missing: missing}
	}
	if edit.FreshToken != "" && !usedFresh {
		notes = append(notes, "the call carried no access token, so the fresh token was not used")
	}
	return b, notes, nil
}

// jsonEscape escapes a value for the inside of a JSON string.
func jsonEscape(v string) string {
	q, _ := json.Marshal(v)
	return string(q[1 : len(q)-1])
}

// fillBasic rebuilds "Basic client_id:[redacted...]" into a real Basic credential.
func fillBasic(v string, fill func(string) string) string {
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "basic") || !strings.Contains(cred, placeholderPrefix) {
		return fill(v)
	}
	user, pass, _ := strings.Cut(cred, ":")
	filled := fill(pass)
	if strings.Contains(filled, placeholderPrefix) {
		return v // left for the missing-secret error
	}
	return scheme + " " + base64.StdEncoding.EncodeToString([]byte(user+":"+url.QueryEscape(filled)))
}

// HeaderChange is one key header in a comparison.
type HeaderChange struct {
	Name     string `json:"name"`
	Original string `json:"original"`
	Replay   string `json:"replay"`
}

// Comparison sets a replay's answer beside the original's.
type Comparison struct {
	OriginalID     string         `json:"original_id"`
	ReplayID       string         `json:"replay_id"`
	OriginalStatus int            `json:"original_status"`
	ReplayStatus   int            `json:"replay_status"`
	OriginalError  string         `json:"original_error,omitempty"`
	ReplayError    string         `json:"replay_error,omitempty"`
	Headers        []HeaderChange `json:"headers"`
	BodiesEqual    bool           `json:"bodies_equal"`
	BodyDiff       string         `json:"body_diff,omitempty"` // unified diff, original first
}

// keyHeaders are the response headers a comparison always shows when present.
var keyHeaders = []string{"Content-Type", "Retry-After", "WWW-Authenticate", "Location", "Cache-Control"}

// Compare sets two calls' responses side by side: status, key headers (including every
// x-li-* id) and a line diff of the bodies.
func Compare(a, b Entry) Comparison {
	c := Comparison{
		OriginalID: a.ID, ReplayID: b.ID,
		OriginalStatus: a.Status(), ReplayStatus: b.Status(),
		OriginalError: a.Error, ReplayError: b.Error,
	}
	ha, hb := responseHeader(a), responseHeader(b)
	names := append([]string(nil), keyHeaders...)
	extra := map[string]bool{}
	for _, h := range []http.Header{ha, hb} {
		for k := range h {
			if strings.HasPrefix(strings.ToLower(k), "x-li-") || strings.HasPrefix(strings.ToLower(k), "x-ratelimit") {
				extra[k] = true
			}
		}
	}
	var extras []string
	for k := range extra {
		extras = append(extras, k)
	}
	sort.Strings(extras)
	names = append(names, extras...)
	for _, n := range names {
		va, vb := strings.Join(ha.Values(n), ", "), strings.Join(hb.Values(n), ", ")
		if va == "" && vb == "" {
			continue
		}
		c.Headers = append(c.Headers, HeaderChange{Name: n, Original: va, Replay: vb})
	}
	ba, bb := comparableBody(a), comparableBody(b)
	c.BodiesEqual = ba == bb
	if !c.BodiesEqual {
		c.BodyDiff = lineDiff(a.ID, b.ID, ba, bb)
	}
	return c
}

func responseHeader(e Entry) http.Header {
	if e.Response == nil {
		return http.Header{}
	}
	return e.Response.Header
}

// comparableBody renders a body for diffing: JSON is indented so a diff shows fields.
func comparableBody(e Entry) string {
	if e.Response == nil {
		return ""
	}
	return httplog.PrettyBody(e.Response.Header.Get("Content-Type"), e.Response.Body)
}
