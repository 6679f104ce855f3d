package inspector

import (
	"slices"
	"strings"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// ScopeComparison is requested scopes against granted ones.
type ScopeComparison struct {
	Requested []string `json:"requested"`
	Granted   []string `json:"granted"`
	// Missing were requested and not granted; Extra were granted without being requested.
	Missing []string `json:"missing,omitempty"`
	Extra   []string `json:"extra,omitempty"`
}

// ScopeDiff compares requested with granted scopes. Each list may be space- or
// comma-separated strings already split (LinkedIn's introspection separates with commas); the
// comparison is exact, since scope values are case-sensitive (RFC 6749 §3.3).
func ScopeDiff(requested, granted []string) ScopeComparison {
	req := normaliseScopes(requested)
	got := normaliseScopes(granted)
	c := ScopeComparison{Requested: req, Granted: got}
	for _, s := range req {
		if !slices.Contains(got, s) {
			c.Missing = append(c.Missing, s)
		}
	}
	for _, s := range got {
		if !slices.Contains(req, s) {
			c.Extra = append(c.Extra, s)
		}
	}
	return c
}

// normaliseScopes splits entries that still hold separators and drops duplicates.
func normaliseScopes(in []string) []string {
	var out []string
	for _, s := range in {
		for _, part := range oauthflow.SplitScopes(s) {
			if !slices.Contains(out, part) {
				out = append(out, part)
			}
		}
	}
	return out
}

// Text renders the comparison on one line.
func (c ScopeComparison) Text() string {
	var b strings.Builder
	b.WriteString("requested: " + orNone(c.Requested) + "; granted: " + orNone(c.Granted))
	if len(c.Missing) > 0 {
		b.WriteString("; missing: " + strings.Join(c.Missing, " "))
	}
	if len(c.Extra) > 0 {
		b.WriteString("; extra: " + strings.Join(c.Extra, " "))
	}
	return b.String()
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, " ")
}
