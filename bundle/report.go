package bundle

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/recorder"
)

const utcLayout = "2006-01-02 15:04:05.000 UTC"

// supportHeaders are response headers that identify a request to the provider's support
// team; LinkedIn asks for its x-li-* ids on every ticket.
func isSupportHeader(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "x-li-") || n == "x-request-id" || n == "x-correlation-id" ||
		n == "request-id" || n == "x-amzn-requestid" || n == "cf-ray"
}

// writeReport renders report.md: a summary a support engineer can paste into a ticket.
func writeReport(w io.Writer, s *recorder.Session, generated time.Time, toolVersion string, rows []recorder.Summary,
	failed []recorder.Entry, failedTotal int, findings []inspector.Diagnosis, redactions map[string]int, skew *ClockSkew) error {
	bw := bufio.NewWriter(w)
	meta := s.Meta()
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }

	p("# oauthdiag support report\n\n")
	p("| | |\n| --- | --- |\n")
	p("| Session | `%s` |\n", s.ID())
	if meta.Provider != "" {
		p("| Provider | %s |\n", mdCell(meta.Provider))
	}
	p("| Client ID | `%s` |\n", mdCell(orNone(meta.ClientID)))
	if meta.RedirectURI != "" {
		p("| Redirect URI | `%s` |\n", mdCell(meta.RedirectURI))
	}
	if len(meta.Scopes) > 0 {
		p("| Scopes | `%s` |\n", mdCell(strings.Join(meta.Scopes, " ")))
	}
	p("| Recorded | %s |\n", s.Started().UTC().Format(utcLayout))
	p("| Calls | %d, %d failed |\n", len(rows), failedTotal)
	if skew != nil {
		p("| Clock skew | %s |\n", skewText(skew))
	}
	p("| Generated | %s by oauthdiag %s |\n\n", generated.Format(utcLayout), orNone(toolVersion))
	p("Secrets are replaced by `[redacted:KIND:sha256:XXXXXXXX:len=N]`: the first 8 hex digits of the value's SHA-256 and its length. Equal fingerprints mean the same value.")
	if len(redactions) > 0 {
		p(" Redacted here: %s.", strings.Join(RedactionList(redactions), ", "))
	}
	p("\n\n")

	byCall := map[string][]inspector.Diagnosis{}
	var general []inspector.Diagnosis
	for _, f := range findings {
		if f.CallID == "" {
			general = append(general, f)
		} else {
			byCall[f.CallID] = append(byCall[f.CallID], f)
		}
	}
	if len(general) > 0 {
		p("## Diagnosis\n\n")
		for _, f := range general {
			bw.WriteString("- ")
			writeFinding(bw, f)
		}
		p("\n")
	}

	p("## Failed calls\n\n")
	if failedTotal == 0 {
		p("None.\n\n")
	}
	for _, e := range failed {
		writeFailedCall(bw, &e, byCall[e.ID])
	}
	if failedTotal > len(failed) {
		p("%d more failed calls are listed below and are in full in calls.har.\n\n", failedTotal-len(failed))
	}

	p("## All calls\n\n")
	p("| call | started (UTC) | step | method | URL | status | ms |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		status := fmt.Sprint(r.Status)
		switch {
		case r.Kind == recorder.KindObserved:
			status = "browser " + r.Leg
		case r.Error != "":
			status = "error: " + string(r.ErrorKind)
		}
		if r.Failed {
			status = "**" + status + "**"
		}
		ref := r.ID
		if r.ReplayOf != "" {
			ref += fmt.Sprintf(" (replay of %s #%d)", r.ReplayOf, r.Attempt)
		}
		p("| %s | %s | %s | %s | `%s` | %s | %.1f |\n", ref, r.Started.UTC().Format("15:04:05.000"),
			mdCell(r.Step), r.Method, mdCell(r.URL), status, float64(r.Duration.Microseconds())/1000)
	}
	return bw.Flush()
}

func writeFinding(w io.Writer, f inspector.Diagnosis) {
	guess := ""
	if f.BestGuess {
		guess = " (best guess)"
	}
	fmt.Fprintf(w, "**%s**%s `%s`", f.Title, guess, f.Code)
	if f.Fix != "" {
		fmt.Fprintf(w, "\n  Fix: %s", f.Fix)
	}
	for _, ev := range f.Evidence {
		fmt.Fprintf(w, "\n  - %s", ev)
	}
	fmt.Fprintln(w)
}

func writeFailedCall(w *bufio.Writer, e *recorder.Entry, findings []inspector.Diagnosis) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	outcome := ""
	switch {
	case e.Kind == recorder.KindObserved:
		outcome = "browser redirect with error=" + httplog.RedirectError(e.Request.URL)
	case e.Response != nil:
		outcome = fmt.Sprintf("%d %s", e.Response.Status, http.StatusText(e.Response.Status))
	default:
		outcome = "no response (" + string(e.ErrorKind) + ")"
	}
	p("### %s: %s %s → %s\n\n", e.ID, e.Request.Method, e.Request.URL, outcome)
	if e.Step != "" {
		p("- Step: %s\n", e.Step)
	}
	p("- Started: %s, took %.1f ms\n", e.Started.UTC().Format(utcLayout), float64(e.Duration.Microseconds())/1000)
	if d, ok := e.ServerDate(); ok {
		p("- Server Date: %s\n", d.UTC().Format(utcLayout))
	}
	if e.ReplayOf != "" {
		p("- Replay of %s, attempt %d\n", e.ReplayOf, e.Attempt)
	}
	if e.Error != "" {
		p("- Error: `%s`\n", e.Error)
	}
	if e.Response != nil {
		var ids []string
		for k, vs := range e.Response.Header {
			if isSupportHeader(k) {
				ids = append(ids, fmt.Sprintf("`%s: %s`", strings.ToLower(k), strings.Join(vs, ", ")))
			}
		}
		sort.Strings(ids)
		if len(ids) > 0 {
			p("- Request ids for the provider's support: %s\n", strings.Join(ids, ", "))
		}
	}
	for _, f := range findings {
		p("- Diagnosis: ")
		writeFinding(w, f)
	}
	if e.Kind == recorder.KindObserved {
		p("\n")
		return
	}
	// The same raw-HTTP layout as `oauthdiag flow` and the TUI; calls.har keeps whole bodies.
	o := httplog.TextOptions{MaxBody: maxReportBody, CutNote: "… (%d more bytes here; the whole body is in calls.har)"}
	p("\nRequest:\n\n")
	writeFence(w, "http", httplog.Join(httplog.RequestLines(&e.Exchange, o)))
	if e.Response != nil {
		p("Response:\n\n")
		writeFence(w, "http", httplog.Join(httplog.ResponseLines(&e.Exchange, o)))
	}
}

// skewText words the clock comparison. Date has one-second resolution, so less than a
// second either way is no measurable skew.
func skewText(c *ClockSkew) string {
	d := c.Median.Round(100 * time.Millisecond)
	switch {
	case d > -time.Second && d < time.Second:
		return fmt.Sprintf("none measurable (within 1s over %d Date headers)", c.Samples)
	case d > 0:
		return fmt.Sprintf("server clock %s ahead of local (median of %d Date headers)", d, c.Samples)
	default:
		return fmt.Sprintf("server clock %s behind local (median of %d Date headers)", -d, c.Samples)
	}
}

// writeFence quotes text in a code fence longer than any backtick run inside it.
func writeFence(w io.Writer, lang, text string) {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	fmt.Fprintf(w, "%s%s\n%s%s\n\n", fence, lang, text, fence)
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "\n", " ")
}

func orNone(s string) string { return orDefault(s, "(none)") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// RedactionList says what a bundle redacted, one "kind ×N" per kind of secret, sorted by kind.
func RedactionList(counts map[string]int) []string {
	out := make([]string, 0, len(counts))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, fmt.Sprintf("%s ×%d", k, counts[k]))
	}
	return out
}
