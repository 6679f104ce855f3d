package ui

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oauthdiag/oauthdiag/internal/termsafe"
)

// safe is text from outside (a server's answer, a page, a browser command, a file) as the screen
// may show it: every character a terminal would act on (an escape sequence that writes the
// clipboard or retitles the window, a carriage return that overwrites the line) is shown as a
// visible escape such as \x1b. It goes on the text before any style: the styles' own escapes
// must reach the terminal, and lipgloss measures the text between them.
func safe(s string) string { return termsafe.String(s) }

func parseURL(s string) (*url.URL, error) { return url.Parse(strings.TrimSpace(s)) }

// placeholderRE matches the recorder's redaction placeholders so they can be highlighted.
var placeholderRE = regexp.MustCompile(`\[redacted:[a-z0-9_]+:sha256:[0-9a-f]{8}:len=[0-9]+\]`)

// highlightPlaceholders styles every redaction placeholder in plain text.
func highlightPlaceholders(s string, st lipgloss.Style) string {
	return placeholderRE.ReplaceAllStringFunc(s, func(p string) string { return st.Render(p) })
}

// wrapLines wraps styled text to width, breaking long words (URLs, tokens) hard.
func wrapLines(s string, width int) string {
	if width <= 0 {
		return s
	}
	return ansi.Wrap(s, width, "&,")
}

// truncate cuts styled text to width with an ellipsis.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}

// fit pads or cuts a single line to exactly width cells.
func fit(s string, width int) string {
	w := ansi.StringWidth(s)
	switch {
	case w > width:
		return ansi.Truncate(s, width, "…")
	case w < width:
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// countdown renders a remaining duration as a clock: 1:05, 59:59, 3:04:05, or days.
func countdown(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	d = d.Truncate(time.Second)
	s := int(d / time.Second)
	var out string
	switch {
	case s >= 48*3600:
		out = fmt.Sprintf("%dd %02dh", s/86400, (s%86400)/3600)
	case s >= 3600:
		out = fmt.Sprintf("%d:%02d:%02d", s/3600, (s%3600)/60, s%60)
	default:
		out = fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	if neg {
		return "-" + out
	}
	return out
}

// shortDuration renders a request duration: 850µs, 12ms, 1.2s.
func shortDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < time.Second:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// shortFingerprint turns the recorder's "sha256:1a2b3c4d:len=43" into "1a2b3c4d".
func shortFingerprint(fp string) string {
	parts := strings.Split(fp, ":")
	if len(parts) >= 2 {
		return parts[1]
	}
	return fp
}

// blockLines pads every line of s to width and the block to height, so panes line up.
func blockLines(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = fit(l, width)
	}
	for len(lines) < height {
		lines = append(lines, strings.Repeat(" ", width))
	}
	return strings.Join(lines, "\n")
}
