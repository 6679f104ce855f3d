package probe

import (
	"fmt"
	"strings"
)

// probeMark is the one-character verdict column of the probe table.
func probeMark(c Check) string {
	switch {
	case c.Fact:
		return "i"
	case c.Verdict == VerdictPass:
		return "✓"
	case c.Verdict == VerdictDeviation:
		return "✗"
	case c.Verdict == VerdictNotApplicable:
		return "–"
	}
	return "!"
}

// Render renders a probe report as a table (verdict mark, check, reference, evidence on one
// line) and a summary line. Marks: ✓ pass, ✗ deviation, – not applicable, i fact, ! could not run.
func Render(r *Report) string {
	var b strings.Builder
	title := "Conformance probe of " + r.Provider
	if r.Issuer != "" && r.Issuer != r.Provider {
		title += " (" + r.Issuer + ")"
	}
	b.WriteString(title + "\n\n")
	nameWidth, refWidth := 0, 0
	for _, c := range r.Checks {
		nameWidth = max(nameWidth, len([]rune(c.Name)))
		refWidth = max(refWidth, len([]rune(c.Reference)))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "  %s  %-*s  %-*s  %s\n", probeMark(c), nameWidth, c.Name, refWidth, c.Reference, collapseSpace(c.Evidence))
	}
	b.WriteString("\n" + Summary(r) + "\n")
	return b.String()
}

// Summary is the report's tally: "N pass, N deviation, N not applicable", plus the checks
// that could not run when there are any.
func Summary(r *Report) string {
	s := fmt.Sprintf("%d pass, %d deviation, %d not applicable", r.Passed, r.Deviations, r.NotApplicable)
	if r.Errors > 0 {
		s += fmt.Sprintf(", %d could not run", r.Errors)
	}
	return s
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
