package recorder

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// callRecord is a call as the log stores it: bodies as text (base64 when they are not UTF-8).
// It is the log's format, kept apart from Entry so the format changes only on purpose.
type callRecord struct {
	ID         string            `json:"id"`
	SessionID  string            `json:"session_id"`
	Seq        int               `json:"seq"`
	Step       string            `json:"step,omitempty"`
	Kind       Kind              `json:"kind"`
	Leg        string            `json:"leg,omitempty"`
	Note       string            `json:"note,omitempty"`
	Started    time.Time         `json:"started"`
	Duration   time.Duration     `json:"duration_ns"`
	Wait       time.Duration     `json:"wait_ns,omitempty"`
	Request    requestRecord     `json:"request"`
	Response   *responseRecord   `json:"response,omitempty"`
	Error      string            `json:"error,omitempty"`
	ErrorKind  httplog.ErrorKind `json:"error_kind,omitempty"`
	ReplayOf   string            `json:"replay_of,omitempty"`
	Attempt    int               `json:"attempt,omitempty"`
	SecretRefs map[string]string `json:"secret_refs,omitempty"`
}

type requestRecord struct {
	Method       string      `json:"method"`
	URL          string      `json:"url"`
	Proto        string      `json:"proto,omitempty"`
	Header       http.Header `json:"header,omitempty"`
	Body         string      `json:"body,omitempty"`
	BodyEncoding string      `json:"body_encoding,omitempty"`
	BodySize     int64       `json:"body_size"`
	Truncated    bool        `json:"truncated,omitempty"`
}

type responseRecord struct {
	Status       int         `json:"status"`
	Proto        string      `json:"proto,omitempty"`
	Header       http.Header `json:"header,omitempty"`
	Body         string      `json:"body,omitempty"`
	BodyEncoding string      `json:"body_encoding,omitempty"`
	BodySize     int64       `json:"body_size"`
	Truncated    bool        `json:"truncated,omitempty"`
	Uncompressed bool        `json:"uncompressed,omitempty"`
}

func recordOf(e *Entry) callRecord {
	r := callRecord{ID: e.ID, SessionID: e.SessionID, Seq: e.Seq, Step: e.Step, Kind: e.Kind, Leg: e.Leg, Note: e.Note,
		Started: e.Started, Duration: e.Duration, Wait: e.Wait, Error: e.Error, ErrorKind: e.ErrorKind,
		ReplayOf: e.ReplayOf, Attempt: e.Attempt, SecretRefs: e.SecretRefs}
	q := &e.Request
	r.Request = requestRecord{Method: q.Method, URL: q.URL, Proto: q.Proto, Header: q.Header, BodySize: q.BodySize, Truncated: q.Truncated}
	r.Request.Body, r.Request.BodyEncoding = httplog.BodyText(q.Body, q.Truncated)
	if p := e.Response; p != nil {
		r.Response = &responseRecord{Status: p.Status, Proto: p.Proto, Header: p.Header, BodySize: p.BodySize, Truncated: p.Truncated, Uncompressed: p.Uncompressed}
		r.Response.Body, r.Response.BodyEncoding = httplog.BodyText(p.Body, p.Truncated)
	}
	return r
}

func (r *callRecord) entry() (Entry, error) {
	e := Entry{
		Exchange: httplog.Exchange{ID: r.ID, Step: r.Step, Leg: r.Leg, Started: r.Started, Duration: r.Duration, Wait: r.Wait,
			Error: r.Error, ErrorKind: r.ErrorKind},
		SessionID: r.SessionID, Seq: r.Seq, Kind: r.Kind, Note: r.Note, ReplayOf: r.ReplayOf, Attempt: r.Attempt, SecretRefs: r.SecretRefs,
	}
	q := &r.Request
	body, err := httplog.BodyBytes(q.Body, q.BodyEncoding)
	if err != nil {
		return Entry{}, err
	}
	e.Request = httplog.Request{Method: q.Method, URL: q.URL, Proto: q.Proto, Header: q.Header, Body: body, BodySize: q.BodySize, Truncated: q.Truncated}
	if p := r.Response; p != nil {
		body, err := httplog.BodyBytes(p.Body, p.BodyEncoding)
		if err != nil {
			return Entry{}, err
		}
		e.Response = &httplog.Response{Status: p.Status, Proto: p.Proto, Header: p.Header, Body: body, BodySize: p.BodySize, Truncated: p.Truncated, Uncompressed: p.Uncompressed}
	}
	return e, nil
}

// MarshalJSON writes the entry in the log's format.
func (e Entry) MarshalJSON() ([]byte, error) { return json.Marshal(recordOf(&e)) }

// UnmarshalJSON reads the log's format.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var r callRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	out, err := r.entry()
	if err != nil {
		return err
	}
	*e = out
	return nil
}
