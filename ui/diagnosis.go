package ui

import (
	"net/url"
	"strings"
	"time"

	"oauthdiag/inspector"
	"oauthdiag/oauthflow"
	"oauthdiag/recorder"
)

// diagContext is what the flow knows when a step fails, for the inspector's rules.
type diagContext struct {
	provider oauthflow.Provider
	client   oauthflow.Client
	token    *oauthflow.Token
	request  *oauthflow.AuthRequest
	codeAt   time.Time
	now      time.Time
}

// diagnoseStep explains a failed step with the inspector's rules.
func diagnoseStep(s stepID, rec stepRecord, dc diagContext) []inspector.Diagnosis {
	name := s.flowSteps()[0]
	if n := len(rec.exchanges); n > 0 && rec.exchanges[n-1].Step != "" {
		name = rec.exchanges[n-1].Step
	}
	if e, ok := oauthflow.AsError(rec.err); ok && e.Step != "" {
		name = e.Step
	}
	report := oauthflow.StepReport{Name: name, Status: oauthflow.StatusFailed, Started: rec.started,
		Duration: rec.duration(), Exchanges: rec.exchanges, Err: rec.err}
	ctx := inspector.Context{Provider: dc.provider, Client: dc.client, Now: dc.now, Token: dc.token,
		AuthRequest: dc.request, CodeIssuedAt: dc.codeAt}
	ds := inspector.Diagnose([]inspector.Observation{inspector.FromStep(report)}, ctx)
	// The step's own failure comes first; context findings (clock, scopes) follow it.
	return ds
}

// observeEntry turns a recorded call into the inspector's observation. Recorded entries are
// already redacted, which the rules do not mind: they read statuses, error codes and headers.
func observeEntry(e recorder.Entry) inspector.Observation {
	if e.Kind == recorder.KindObserved {
		o := inspector.Observation{Step: e.Step, CallID: e.ID, Started: e.Started, Method: "GET", URL: stripQueryOf(e.Request.URL)}
		if u, err := url.Parse(e.Request.URL); err == nil {
			q := u.Query()
			if len(q) == 0 && u.Fragment != "" {
				q, _ = url.ParseQuery(u.Fragment)
			}
			if code := q.Get("error"); code != "" {
				o.Failed = true
				o.Kind = oauthflow.KindRedirect
				o.OAuthError, o.ErrorDescription = code, q.Get("error_description")
			}
		}
		return o
	}
	var o inspector.Observation
	if e.Response != nil {
		body, _ := e.Response.DecodedBody()
		o = inspector.FromResponse(e.Step, e.Response.Status, e.Response.Header, body)
		o.ReceivedAt = e.Started.Add(e.Wait)
	} else {
		o = inspector.Observation{Step: e.Step, Failed: true, Transport: string(e.ErrorKind), TransportDetail: e.Error}
		if o.Transport == "" {
			o.Transport = inspector.TransportOther
		}
	}
	o.CallID, o.Started, o.Method, o.URL = e.ID, e.Started, e.Request.Method, stripQueryOf(e.Request.URL)
	o.Bearer = strings.HasPrefix(strings.ToLower(e.Request.Header.Get("Authorization")), "bearer ")
	o.APIVersion = e.Request.Header.Get("LinkedIn-Version")
	if ct := e.Request.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(e.Request.Body); err == nil {
			o.GrantType = form.Get("grant_type")
			o.RedirectURI = form.Get("redirect_uri")
			o.SentVerifier = form.Get("code_verifier") != ""
		}
	}
	o.Failed = e.Failed()
	return o
}

func stripQueryOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// diagnoseEntry explains one failed call; a call that succeeded gets none.
func diagnoseEntry(e recorder.Entry) []inspector.Diagnosis {
	if !e.Failed() {
		return nil
	}
	o := observeEntry(e)
	var out []inspector.Diagnosis
	for _, d := range inspector.Diagnose([]inspector.Observation{o}, inspector.Context{Now: e.Started}) {
		if d.CallID == "" || d.CallID == e.ID {
			out = append(out, d)
		}
	}
	return out
}

// renderDiagnosis shows a diagnosis the way the issue asks: code, title, evidence, fix.
func renderDiagnosis(st *Styles, d inspector.Diagnosis, mk masker, w int) string {
	var b strings.Builder
	inner := max(10, w-2)
	head := st.Diagnosis.Code.Render("✗ "+d.Code) + "  " + st.Diagnosis.Title.Render(d.Title)
	if d.BestGuess {
		head += st.Muted.Render(" (best guess)")
	}
	b.WriteString(wrapLines(head, inner) + "\n")
	for _, e := range d.Evidence {
		b.WriteString(wrapLines(st.Diagnosis.Label.Render("evidence ")+st.Diagnosis.Evidence.Render(mk.text(e)), inner) + "\n")
	}
	if d.RetryAfter > 0 {
		b.WriteString(st.Diagnosis.Label.Render("retry after ") + st.Diagnosis.Evidence.Render(d.RetryAfter.String()) + "\n")
	}
	if d.Fix != "" {
		b.WriteString(wrapLines(st.Diagnosis.Label.Render("fix      ")+st.Diagnosis.Fix.Render(mk.text(d.Fix)), inner))
	}
	return st.Diagnosis.Box.Render(highlightPlaceholders(strings.TrimRight(b.String(), "\n"), st.Redacted))
}
