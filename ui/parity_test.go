package ui

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/sandbox"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// oauthdiagBinary builds the command line tool once for the tests that compare with it.
func oauthdiagBinary(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "oauthdiag-cli")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "oauthdiag")
		if out, err := exec.Command("go", "build", "-o", cliPath, "github.com/oauthdiag/oauthdiag").CombinedOutput(); err != nil {
			cliErr = &buildError{out: string(out), err: err}
		}
	})
	if cliErr != nil {
		t.Fatalf("building oauthdiag: %v", cliErr)
	}
	return cliPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// flowOutcome is a flow as the user sees its result: each step's outcome and the diagnoses.
type flowOutcome struct {
	steps     []string // "discovery=ok", ...
	diagnoses []string // codes, in order
}

// cliFlow runs `oauthdiag flow --sandbox SCENARIO --json`.
func cliFlow(t *testing.T, sc sandbox.Scenario) flowOutcome {
	t.Helper()
	args := []string{"flow", "--sandbox", string(sc), "--json"}
	if sc == sandbox.Slow {
		args = append(args, "--timeout", "1s", "--sandbox-delay", "3s")
	}
	cmd := exec.Command(oauthdiagBinary(t), args...)
	cmd.Env = append(os.Environ(), "OAUTHDIAG_HOME="+t.TempDir())
	out, err := cmd.Output()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("oauthdiag flow: %v", err)
	}
	var doc struct {
		Steps []struct {
			Name    string `json:"name"`
			Outcome string `json:"outcome"`
		} `json:"steps"`
		Diagnoses []struct {
			Code string `json:"code"`
		} `json:"diagnoses"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("flow --json: %v\n%s", err, out)
	}
	var o flowOutcome
	for _, s := range doc.Steps {
		o.steps = append(o.steps, s.Name+"="+s.Outcome)
	}
	for _, d := range doc.Diagnoses {
		o.diagnoses = append(o.diagnoses, d.Code)
	}
	return o
}

// tuiFlow runs the same scenario in the TUI as a user would: A runs every step up to Revoke,
// enter on Revoke logs out (Verify revoke follows by itself); a failure stops the run.
func tuiFlow(t *testing.T, sc sandbox.Scenario) flowOutcome {
	t.Helper()
	opts := envOptions{scenario: sc, apiCall: true}
	if sc == sandbox.Slow {
		opts.timeout, opts.slowDelay = time.Second, 3*time.Second
	}
	env := newTestEnv(t, opts)
	s := env.start(t, 120, 40)
	s.waitFor("Discovery  step 1 of 10")
	s.keys("A")
	s.waitUntil("the run to end", func(scr string) bool {
		return strings.Contains(scr, "flow complete") || strings.Contains(scr, "✗ ")
	})
	if strings.Contains(s.screen(), "flow complete") {
		s.keys("enter")
		s.waitUntil("Verify revoke to end", func(scr string) bool {
			mark := stepMark(scr, "Verify revoke")
			return mark == "✓" || mark == "✗" || mark == "–"
		})
	}
	m := s.finishModel()
	var o flowOutcome
	for st := stepDiscovery; st < numSteps; st++ {
		outcome := "skipped" // not run: the run stopped at a failure
		switch m.flow.steps[st].state {
		case stateOK:
			outcome = "ok"
		case stateFailed:
			outcome = "failed"
		}
		o.steps = append(o.steps, st.name()+"="+outcome)
	}
	for _, d := range m.flow.diagnoses() {
		o.diagnoses = append(o.diagnoses, d.Code)
	}
	return o
}

// TestTUIAndFlowCommandAgree: for every sandbox scenario, the TUI and `oauthdiag flow --json` walk
// the same steps to the same outcomes and make the same diagnoses, because both run the one flow
// engine and diagnose its state the one way.
func TestTUIAndFlowCommandAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command line tool")
	}
	for _, sc := range sandbox.Scenarios() {
		t.Run(string(sc), func(t *testing.T) {
			cli, tui := cliFlow(t, sc), tuiFlow(t, sc)
			t.Logf("steps %v, diagnoses %v", cli.steps, cli.diagnoses)
			if !slices.Equal(cli.steps, tui.steps) {
				t.Errorf("step outcomes differ:\nflow --json %v\nTUI         %v", cli.steps, tui.steps)
			}
			if !slices.Equal(cli.diagnoses, tui.diagnoses) {
				t.Errorf("diagnoses differ:\nflow --json %v\nTUI         %v", cli.diagnoses, tui.diagnoses)
			}
			if sc != sandbox.Happy && len(cli.diagnoses) == 0 {
				t.Errorf("scenario %s gives no diagnosis", sc)
			}
		})
	}
}
