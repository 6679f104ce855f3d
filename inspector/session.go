package inspector

import (
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// A support bundle reads back at most MaxBundleFailedCalls failed calls to diagnose them, and a
// few successful ones, because their Date headers measure the clock skew.
const (
	MaxBundleFailedCalls  = 50
	maxBundleContextCalls = 10
)

// SessionFindings diagnoses a recorded session for its support bundle: the flow's diagnoses
// (flow, made from steps; each is filed under the last failed call of its step), then what each
// failed call shows, then what the session as a whole shows, all in the context of the
// configuration the session was recorded with. A diagnosis already made for a call is not
// repeated.
func SessionFindings(s *recorder.Session, now time.Time, flow []Diagnosis) []recorder.Finding {
	calls := s.Entries()
	diags := LinkCalls(flow, calls)
	var entries []recorder.Entry
	failed, ok := 0, 0
	for _, c := range calls {
		if c.Pending {
			continue
		}
		switch {
		case c.Failed && failed < MaxBundleFailedCalls:
			failed++
		case !c.Failed && ok < maxBundleContextCalls:
			ok++
		default:
			continue
		}
		if e, err := s.Entry(c.ID); err == nil {
			entries = append(entries, e)
		}
	}
	if failed > 0 {
		meta := s.Meta()
		ctx := Context{
			Now:      now,
			Provider: oauthflow.Provider{Name: meta.Provider, Issuer: meta.Endpoints["issuer"]},
			Client:   oauthflow.Client{ID: meta.ClientID, RedirectURI: meta.RedirectURI, Scopes: meta.Scopes},
		}
		seen := map[string]bool{}
		for _, d := range diags {
			seen[d.CallID+" "+d.Code] = true
		}
		add := func(ds []Diagnosis) {
			for _, d := range ds {
				if !seen[d.CallID+" "+d.Code] {
					seen[d.CallID+" "+d.Code] = true
					diags = append(diags, d)
				}
			}
		}
		// Each failed call on its own, so that every one keeps its diagnosis (the session as a
		// whole names a repeated failure once), then what only the session as a whole shows.
		for _, e := range entries {
			if !e.Failed() {
				continue
			}
			for _, d := range DiagnoseEntries([]recorder.Entry{e}, ctx) {
				if d.CallID == e.ID {
					add([]Diagnosis{d})
				}
			}
		}
		add(DiagnoseEntries(entries, ctx))
	}
	return Findings(diags)
}
