package inspector

import (
	"net/url"

	"github.com/oauthdiag/oauthdiag/recorder"
)

// FromEntry builds the observation of one recorded call. Recorded calls are already redacted;
// what the rules need survives redaction (a placeholder still shows a code_verifier was sent).
func FromEntry(e recorder.Entry) Observation {
	o := Observation{Step: e.Step, CallID: e.ID, Started: e.Started}
	if e.Kind == recorder.KindObserved {
		if e.Leg == recorder.LegBrowserRedirect {
			if u, err := url.Parse(e.Request.URL); err == nil {
				q := u.Query()
				if q.Get("error") == "" && u.Fragment != "" {
					q, _ = url.ParseQuery(u.Fragment)
				}
				o.OAuthError, o.ErrorDescription = q.Get("error"), q.Get("error_description")
			}
			o.URL = stripQuery(e.Request.URL)
		} else {
			o.addRequest("GET", e.Request.URL, nil, nil)
		}
		o.Failed = o.OAuthError != ""
		return o
	}
	reqBody, _ := e.Request.DecodedBody()
	o.addRequest(e.Request.Method, e.Request.URL, e.Request.Header, reqBody)
	if r := e.Response; r != nil {
		body, _ := r.DecodedBody()
		o.addResponse(r.Status, r.Header, body)
		o.ReceivedAt = e.Started.Add(e.Duration)
	}
	if !e.ServerDate.IsZero() {
		o.ServerDate = e.ServerDate
	}
	// Incomplete: the tool stopped reading, the server is not at fault.
	if k := e.ErrorKind; k != "" && k != recorder.ErrorIncomplete {
		o.Transport, o.TransportDetail = string(k), e.Error
	}
	o.Failed = o.Transport != "" || o.Status >= 400
	return o
}

// DiagnoseEntries diagnoses a recorded session: each failed call, then what the context shows.
func DiagnoseEntries(entries []recorder.Entry, ctx Context) []Diagnosis {
	obs := make([]Observation, 0, len(entries))
	for _, e := range entries {
		obs = append(obs, FromEntry(e))
	}
	return Diagnose(obs, ctx)
}

// Finding converts a diagnosis for the support bundle (report.md and diagnosis.json).
func (d Diagnosis) Finding() recorder.Finding {
	return recorder.Finding{CallID: d.CallID, Code: d.Code, Title: d.Title, Fix: d.Fix, Evidence: append([]string(nil), d.Evidence...), BestGuess: d.BestGuess}
}

// Findings converts diagnoses for the support bundle, keeping their order.
func Findings(ds []Diagnosis) []recorder.Finding {
	out := make([]recorder.Finding, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Finding())
	}
	return out
}

// LinkCalls fills in the call id of diagnoses made from a flow (which knows steps, not calls):
// each gets the last failed recorded call of its step, so the bundle can file it under that call.
func LinkCalls(ds []Diagnosis, calls []recorder.Summary) []Diagnosis {
	out := append([]Diagnosis(nil), ds...)
	for i := range out {
		if out[i].CallID != "" || out[i].Step == "" {
			continue
		}
		for j := len(calls) - 1; j >= 0; j-- {
			if calls[j].Step == out[i].Step && calls[j].Failed {
				out[i].CallID = calls[j].ID
				break
			}
		}
	}
	return out
}
