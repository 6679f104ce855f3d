package ui

import (
	"net/url"
	"strings"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/recorder"
)

func stripQueryOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// diagnoseEntry explains one failed call in a context; a call that succeeded gets none.
func diagnoseEntry(e recorder.Entry, ctx inspector.Context) []inspector.Diagnosis {
	if !e.Failed() {
		return nil
	}
	var out []inspector.Diagnosis
	for _, d := range inspector.DiagnoseExchanges([]httplog.Exchange{e.Exchange}, ctx) {
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
	head := st.Diagnosis.Code.Render("✗ "+safe(d.Code)) + "  " + st.Diagnosis.Title.Render(safe(d.Title))
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
