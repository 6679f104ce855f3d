package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oauthdiag/oauthdiag/bundle"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// bundleDoneMsg reports a written (or failed) support bundle.
type bundleDoneMsg struct {
	summary bundle.Summary
	err     error
}

// bundleCmd writes the support bundle: the session's calls (redacted), the configuration, and
// the diagnoses the flow stored with the session plus those of the calls after it.
func bundleCmd(s *recorder.Session, dir, toolVersion string, now time.Time) tea.Cmd {
	return func() tea.Msg {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return bundleDoneMsg{err: fmt.Errorf("creating the bundle directory %s: %w", dir, err)}
		}
		name := fmt.Sprintf("oauthdiag-bundle-%s-%s.zip", s.ID(), now.UTC().Format("20060102T150405Z"))
		path := filepath.Join(dir, name)
		sum, err := bundle.Write(path, s, bundle.Options{ToolVersion: toolVersion, Now: func() time.Time { return now }})
		if err != nil {
			return bundleDoneMsg{err: fmt.Errorf("writing the bundle %s: %w", path, err)}
		}
		return bundleDoneMsg{summary: sum}
	}
}

// bundleView is the summary shown after an export.
func bundleView(st *Styles, sum bundle.Summary, w int) string {
	var b strings.Builder
	row := func(k, v string) {
		b.WriteString(wrapLines(st.Table.Key.Render(fmt.Sprintf("%-10s", k))+" "+st.Table.Value.Render(safe(v)), w) + "\n")
	}
	b.WriteString(st.Success.Render("✓ Support bundle written") + "\n\n")
	row("path", sum.Path)
	row("calls", fmt.Sprintf("%d recorded, %d failed", sum.Calls, len(sum.Failed)))
	var files []string
	for _, f := range sum.Files {
		files = append(files, fmt.Sprintf("%s (%s)", f.Name, byteSize(f.Size)))
	}
	row("files", strings.Join(files, ", "))
	red := bundle.RedactionList(sum.Redactions)
	if len(red) == 0 {
		red = []string{"nothing needed redacting"}
	}
	row("redacted", strings.Join(red, ", "))
	if sk := sum.ClockSkew; sk != nil && sk.Samples > 0 {
		row("clock", fmt.Sprintf("server minus local: median %s over %d answers (Date headers count whole seconds)",
			oauthflow.HumanDuration(sk.Median.Round(time.Second)), sk.Samples))
	}
	for i, f := range sum.Failed {
		if i == 5 {
			b.WriteString(st.Muted.Render(fmt.Sprintf("           … and %d more failed calls", len(sum.Failed)-5)) + "\n")
			break
		}
		row(map[bool]string{true: "failed", false: ""}[i == 0], fmt.Sprintf("%s %s %s → %s", f.ID, f.Method, stripQueryOf(f.URL), statusText(f.Status)))
	}
	b.WriteString("\n" + wrapLines(st.Muted.Render("Every token, code and secret inside is replaced by a fingerprinted placeholder: the bundle can be attached to a support ticket as is."), w) + "\n")
	b.WriteString(st.Muted.Render("esc or enter closes this"))
	return highlightPlaceholders(b.String(), st.Redacted)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
