package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// fixtureToken is the access token of the fixed flow; no view may show it.
const fixtureToken = "AQXfixture-access-token-0123456789abcdefghijklmnopqrstuvwxyz"

// fixedFlow is the Flow screen's model built from fixed data, without a provider: the steps
// hold the reports given, the rest are pending.
func fixedFlow(t *testing.T, reports map[stepID]oauthflow.StepReport, selected stepID) flowModel {
	t.Helper()
	const base = "https://sandbox.example"
	cfg := oauthflow.Config{Provider: oauthflow.LinkedInAt(base, base), Client: oauthflow.Client{
		ID: "sandbox-client", Secret: "fixture-client-secret", RedirectURI: "http://127.0.0.1:8765/callback", PKCE: true,
	}}
	red := recorder.NewRedactor()
	red.AddSecret(recorder.KindAccessToken, fixtureToken)
	st := NewStyles(true)
	now := func() time.Time { return time.Date(2025, 11, 23, 9, 0, 0, 0, time.UTC) }
	m := newFlowModel(context.Background(), &st, flowBackend{runner: oauthflow.NewRunner(cfg), now: now}, masker{red: red}, now, nil)
	for s, rep := range reports {
		rep.Name = s.name()
		m.steps[s] = stepRecord{state: stateOf(rep.Status), report: rep, started: rep.Started}
	}
	m.selected = selected
	return m
}

// serverErrorFlow is a flow that failed at Userinfo with the provider's 500, diagnosed.
func serverErrorFlow(t *testing.T) flowModel {
	ok := func(d time.Duration) oauthflow.StepReport {
		return oauthflow.StepReport{Status: oauthflow.StatusOK, Duration: d}
	}
	call := httplog.Exchange{
		ID: "c6", Step: oauthflow.StepUserinfo, Duration: 212 * time.Millisecond,
		Request: httplog.Request{Method: http.MethodGet, URL: "https://sandbox.example/v2/userinfo",
			Header: http.Header{"Authorization": {"Bearer " + fixtureToken}, "Accept": {"application/json"}}},
		Response: &httplog.Response{Status: 500, Proto: "HTTP/1.1",
			Header: http.Header{"Content-Type": {"application/json"}, "X-Li-Uuid": {"j7V6XTBS/Zay7JirwP459A=="}},
			Body:   []byte(`{"status":500,"code":"INTERNAL_SERVER_ERROR","message":"Internal Server Error"}`)},
	}
	m := fixedFlow(t, map[stepID]oauthflow.StepReport{
		stepDiscovery: ok(38 * time.Millisecond),
		stepAuthorize: ok(4 * time.Millisecond),
		stepCallback:  ok(1*time.Minute + 42*time.Second),
		stepExchange:  ok(486 * time.Millisecond),
		stepUserinfo: {Status: oauthflow.StatusFailed, Duration: 212 * time.Millisecond, Exchanges: []httplog.Exchange{call},
			Err: errors.New("userinfo: HTTP 500 INTERNAL_SERVER_ERROR: Internal Server Error")},
	}, stepUserinfo)
	rec := m.steps[stepUserinfo]
	rec.diagnoses = []inspector.Diagnosis{{
		Code: "provider-outage", Title: "The provider failed on its side", Step: oauthflow.StepUserinfo, CallID: "c6",
		// Evidence may quote what was sent: the view must mask the token in it too.
		Evidence: []string{"userinfo: GET https://sandbox.example/v2/userinfo answered HTTP 500", "sent Authorization: Bearer " + fixtureToken},
		Fix:      "retry once or twice with backoff; if it persists, export the support bundle and open a ticket",
	}}
	m.steps[stepUserinfo] = rec
	return m
}

// The Flow screen, a pure view of a flow that failed at Userinfo: the 10 steps with their
// durations, the diagnosis first, the failed call with its token masked.
func TestFlowScreenView(t *testing.T) {
	for _, size := range [][2]int{{80, 16}, {120, 32}} { // the body of an 80x24 and a 120x40 terminal
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			m := serverErrorFlow(t).setSize(size[0], size[1])
			out := ansi.Strip(m.View(""))
			lines := strings.Split(out, "\n")
			if len(lines) != size[1] {
				t.Errorf("the view is %d lines high, want %d", len(lines), size[1])
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w != size[0] {
					t.Errorf("line %d is %d wide, want %d: %q", i, w, size[0], l)
				}
			}
			for _, want := range []string{
				"Userinfo  step 5 of 10", "✗ failed after 212ms", "What went wrong",
				"✗ provider-outage", "[redacted:access_token",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("the view lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, fixtureToken) {
				t.Errorf("the access token is on screen:\n%s", out)
			}
			golden.RequireEqual(t, out)
		})
	}
}

// Every stepper row keeps its step's name and duration whole, at every width that shows the
// stepper as a column, whatever the durations' lengths.
func TestStepperRowsFit(t *testing.T) {
	durations := [numSteps]time.Duration{
		212 * time.Millisecond, 850 * time.Microsecond, 4*time.Minute + 59*time.Second, 999 * time.Millisecond,
		12300 * time.Millisecond, 59900 * time.Millisecond, 38 * time.Millisecond,
		time.Hour + 2*time.Minute + 3*time.Second, 486 * time.Millisecond, 1500 * time.Millisecond,
	}
	reports := map[stepID]oauthflow.StepReport{}
	for s := stepDiscovery; s < numSteps; s++ {
		status := oauthflow.StatusOK
		if s == stepIntrospectAfter {
			status = oauthflow.StatusFailed // a failed step shows its duration as well
		}
		reports[s] = oauthflow.StepReport{Status: status, Duration: durations[s]}
	}
	for _, w := range []int{64, 80, 120} {
		for _, sel := range []stepID{stepDiscovery, stepIntrospectAfter} { // the selected row is styled apart
			m := fixedFlow(t, reports, sel).setSize(w, 16)
			rows := strings.Split(ansi.Strip(m.stepperView("")), "\n")
			if len(rows) != int(numSteps) {
				t.Fatalf("at %d columns the stepper has %d rows, want %d", w, len(rows), numSteps)
			}
			for s := stepDiscovery; s < numSteps; s++ {
				row, d := rows[s], shortDuration(durations[s])
				if !strings.Contains(row, s.String()) || !strings.Contains(row, d) || strings.Contains(row, "…") {
					t.Errorf("at %d columns the %s row %q does not show %q and %q whole", w, s, row, s, d)
				}
			}
		}
	}
}
