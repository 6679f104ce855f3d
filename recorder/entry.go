package recorder

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// Kind says whether an entry is an HTTP exchange the tool made or a browser leg it only saw.
type Kind string

const (
	// KindHTTP is an exchange made through the recording transport.
	KindHTTP Kind = "http"
	// KindObserved is a browser leg: a URL the user was sent to or a redirect received.
	KindObserved Kind = "observed"
)

// Entry is one recorded call: the exchange as the step made it, redacted, plus where it sits in
// the session. Everything in it is already redacted.
type Entry struct {
	httplog.Exchange
	SessionID string
	Seq       int
	Kind      Kind
	Note      string
	ReplayOf  string
	Attempt   int
	// SecretRefs maps a secret kind to the fingerprint of the value the call carried, so a
	// replay can look the value up in the token store.
	SecretRefs map[string]string
}

// Summary is the small, always-in-memory view of an entry, for lists and live views.
type Summary struct {
	ID        string            `json:"id"`
	Seq       int               `json:"seq"`
	Step      string            `json:"step,omitempty"`
	Kind      Kind              `json:"kind"`
	Leg       string            `json:"leg,omitempty"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Status    int               `json:"status"`
	Started   time.Time         `json:"started"`
	Duration  time.Duration     `json:"duration_ns"`
	Error     string            `json:"error,omitempty"`
	ErrorKind httplog.ErrorKind `json:"error_kind,omitempty"`
	ReplayOf  string            `json:"replay_of,omitempty"`
	Attempt   int               `json:"attempt,omitempty"`
	Failed    bool              `json:"failed"`
	Pending   bool              `json:"pending,omitempty"` // the call has started and not finished
}

// Summary returns the entry's summary.
func (e Entry) Summary() Summary {
	return Summary{
		ID: e.ID, Seq: e.Seq, Step: e.Step, Kind: e.Kind, Leg: e.Leg,
		Method: e.Request.Method, URL: e.Request.URL, Status: e.Status(),
		Started: e.Started, Duration: e.Duration, Error: e.Error, ErrorKind: e.ErrorKind,
		ReplayOf: e.ReplayOf, Attempt: e.Attempt, Failed: e.Failed(),
	}
}

// callID renders the session-unique id of the seq'th call.
func callID(seq int) string { return "c" + strconv.Itoa(seq) }

// ParseCallID accepts "c7", "C7" or "7" and returns 7.
func ParseCallID(s string) (int, error) {
	t := strings.TrimSpace(s)
	if len(t) > 0 && (t[0] == 'c' || t[0] == 'C') {
		t = t[1:]
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a call id: use the number shown by the calls list, such as 7 or c7: %w", s, ErrBadCallID)
	}
	return n, nil
}
