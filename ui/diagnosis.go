package ui

import (
	"net/url"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
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
	var out []inspector.Diagnosis
	for _, d := range inspector.Diagnose([]inspector.Observation{inspector.FromEntry(e)}, inspector.Context{Now: e.Started}) {
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
