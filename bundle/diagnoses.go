package bundle

import (
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// A bundle reads back at most MaxFailedCalls failed calls to diagnose them, and a few successful
// ones, because their Date headers measure the clock skew.
const (
	MaxFailedCalls  = 50
	maxContextCalls = 10
)

// diagnosesName is the name the flow's diagnoses are stored under with its session.
const diagnosesName = "flow-diagnoses"

// SaveFlow stores with the session what a flow knew (its facts, no secrets) and the diagnoses it
// made, so that bundles and replays of the session see what the flow saw.
func SaveFlow(s *recorder.Session, fr *oauthflow.FlowResult, cfg oauthflow.Config, diagnoses []inspector.Diagnosis) error {
	if err := s.Annotate(inspector.FactsName, inspector.FactsOf(fr, cfg)); err != nil {
		return err
	}
	if diagnoses == nil {
		diagnoses = []inspector.Diagnosis{}
	}
	return s.Annotate(diagnosesName, diagnoses)
}

// Facts are what the session's flow knew, or, for a session without a flow (a call, a replay of
// an old session), what its metadata says.
func Facts(s *recorder.Session) inspector.Facts {
	var f inspector.Facts
	if ok, err := s.Annotation(inspector.FactsName, &f); ok && err == nil {
		return f
	}
	meta := s.Meta()
	return inspector.Facts{
		Provider: oauthflow.Provider{Name: meta.Provider, Issuer: meta.Endpoints["issuer"]},
		Client:   oauthflow.Client{ID: meta.ClientID, RedirectURI: meta.RedirectURI, Scopes: meta.Scopes},
	}
}

// Diagnoses explains a recorded session: the diagnoses its flow made (each names its call), then
// every other failed call, each on its own and in the flow's context, then what only the session
// as a whole shows (the clock). A call's diagnosis quotes that call's evidence alone.
func Diagnoses(s *recorder.Session, now time.Time) []inspector.Diagnosis {
	s.Flush() // a call still on its way to the log would be skipped as pending
	var diags []inspector.Diagnosis
	s.Annotation(diagnosesName, &diags) // none: a session without a flow
	seen := map[string]bool{}
	explained := map[string]bool{}
	for _, d := range diags {
		seen[d.CallID+" "+d.Code] = true
		explained[d.CallID] = true
	}
	add := func(d inspector.Diagnosis) {
		if !seen[d.CallID+" "+d.Code] {
			seen[d.CallID+" "+d.Code] = true
			diags = append(diags, d)
		}
	}
	var exchanges []httplog.Exchange
	failed, ok := 0, 0
	for _, c := range s.Entries() {
		if c.Pending {
			continue
		}
		switch {
		case c.Failed && failed < MaxFailedCalls:
			failed++
		case !c.Failed && ok < maxContextCalls:
			ok++
		default:
			continue
		}
		if e, err := s.Entry(c.ID); err == nil {
			exchanges = append(exchanges, e.Exchange)
		}
	}
	if failed == 0 {
		return diags
	}
	ctx := Facts(s).Context(now)
	for i := range exchanges {
		ex := exchanges[i]
		if !ex.Failed() || explained[ex.ID] {
			continue
		}
		for _, d := range inspector.DiagnoseExchanges([]httplog.Exchange{ex}, ctx) {
			if d.CallID == ex.ID {
				add(d)
			}
		}
	}
	for _, d := range inspector.DiagnoseExchanges(exchanges, ctx) {
		if d.CallID == "" {
			add(d)
		}
	}
	return diags
}
