package httplog

import (
	"net/http"
	"strings"
)

// View is the JSON form of an exchange in the tool's outputs (flow --json, call --json): headers
// flattened to one string per name, bodies as text.
type View struct {
	ID              string            `json:"call_id,omitempty"`
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	RequestBody     string            `json:"request_body,omitempty"`
	Status          int               `json:"status"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
	DurationMS      float64           `json:"duration_ms"`
	Error           string            `json:"error,omitempty"`
	ErrorKind       ErrorKind         `json:"error_kind,omitempty"`
}

// ViewOf is the JSON form of ex. Redact it first: the view shows what it is given.
func ViewOf(ex *Exchange) View {
	v := View{ID: ex.ID, Method: orGET(ex.Request.Method), URL: ex.Request.URL,
		RequestHeaders: flatten(ex.Request.Header), RequestBody: string(ex.Request.Body),
		DurationMS: float64(ex.Duration.Microseconds()) / 1000, Error: ex.Error, ErrorKind: ex.ErrorKind}
	if r := ex.Response; r != nil {
		v.Status, v.ResponseHeaders, v.ResponseBody = r.Status, flatten(r.Header), string(r.Body)
	}
	return v
}

func flatten(h http.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	m := make(map[string]string, len(h))
	for k, v := range h {
		m[k] = strings.Join(v, ", ")
	}
	return m
}
