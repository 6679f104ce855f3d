package ui

import (
	"context"
	"errors"
	"net/http"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oauthdiag/oauthdiag/bundle"
	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// Every network or disk operation of the UI is one of these commands. They receive what they
// need (never the model), run outside Update, and answer with a message tagged with the flow's
// run number so that results of an abandoned flow are dropped. The flow engine object is shared
// with the commands only: Update reads the state snapshot each step returns.

// stepDoneMsg reports a finished step: its report, the flow's state after it, and what the
// command worked out from that state (the ID token's verification, the diagnoses).
type stepDoneMsg struct {
	run       int
	step      stepID
	report    oauthflow.StepReport
	state     oauthflow.FlowResult
	idToken   *inspector.Verification
	diagnoses []inspector.Diagnosis
	inspect   *inspection
	auto      bool     // a refresh started by auto-refresh rather than by the user
	notes     []string // what the command adds to the step's own notes
}

// flowBackend is what the step commands run against.
type flowBackend struct {
	runner     *oauthflow.Runner
	session    *recorder.Session
	httpClient *http.Client // the recording client, for the JWKS
	// opts is the template of every flow: discovery, browser, listener, parameters.
	opts         oauthflow.FlowOptions
	saveToken    func(tok *oauthflow.Token, scopes []string, exchanges []httplog.Exchange, refreshed bool) error
	guardRefresh func(context.Context, *oauthflow.Token) (*oauthflow.Token, func(), error)
	now          func() time.Time
}

// newFlow starts a flow, with a token already held when initial is set.
func (b flowBackend) newFlow(initial *oauthflow.Token) *oauthflow.Flow {
	opts := b.opts
	opts.Token = initial
	if opts.Browser == nil {
		// Config.Browser nil means "open nothing" (the user copies the URL and pastes the
		// redirect); the engine would take nil for the desktop browser.
		opts.Browser = noBrowser{}
	}
	return b.runner.NewFlow(opts)
}

// noBrowser opens nothing and sees no redirect: it comes to the listener or is pasted.
type noBrowser struct{}

func (noBrowser) Authorize(context.Context, string, string) (string, error) { return "", nil }

// stepCmd runs one step of the flow. After a step that brought a token it verifies the ID token
// and saves the token; after every step it diagnoses the flow as `oauthdiag flow` does and stores
// what the flow knows with the session, for bundles and replays.
func stepCmd(ctx context.Context, b flowBackend, f *oauthflow.Flow, run int, s stepID, auto bool, idToken *inspector.Verification) tea.Cmd {
	return func() tea.Msg {
		msg := stepDoneMsg{run: run, step: s, auto: auto, idToken: idToken}
		var release func()
		if s == stepRefresh && b.guardRefresh != nil {
			current := f.Result().CurrentToken()
			newer, rel, err := b.guardRefresh(ctx, current)
			if err != nil {
				msg.report = oauthflow.StepReport{Name: s.name(), Status: oauthflow.StatusFailed, Started: b.now(), Err: err}
				msg.state = f.Result()
				return finish(ctx, b, msg)
			}
			release = rel
			if newer != nil {
				f.UseToken(newer)
				msg.report = oauthflow.StepReport{Name: s.name(), Status: oauthflow.StatusOK, Started: b.now(),
					Notes: []string{"another oauthdiag command already refreshed this profile's token: using it instead of refreshing again"}}
				msg.state = f.Result()
				release()
				return finish(ctx, b, msg)
			}
		}
		msg.report = f.Step(ctx, s.name())
		msg.state = f.Result()
		tokenArrived := (s == stepExchange || s == stepRefresh) && msg.report.Status == oauthflow.StatusOK
		if tokenArrived {
			msg.idToken = inspector.VerifyIDToken(ctx, &msg.state, b.runner.Config(), b.httpClient, b.now())
			if b.saveToken != nil {
				st := &msg.state
				if err := b.saveToken(st.CurrentToken(), st.RequestedScopes(), msg.report.Exchanges, s == stepRefresh); err != nil {
					msg.notes = append(msg.notes, "the token could not be saved: "+err.Error())
				}
			}
		}
		if release != nil {
			release()
		}
		return finish(ctx, b, msg)
	}
}

// finish diagnoses the flow, keeps what it knows with the session and prepares the Inspect view.
func finish(ctx context.Context, b flowBackend, msg stepDoneMsg) stepDoneMsg {
	cfg := b.runner.Config()
	now := b.now()
	msg.diagnoses = inspector.DiagnoseFlow(&msg.state, cfg, msg.idToken, now)
	if b.session != nil {
		if err := bundle.SaveFlow(b.session, &msg.state, cfg, msg.diagnoses); err != nil {
			msg.notes = append(msg.notes, "the session could not store the flow's diagnoses: "+err.Error())
		}
	}
	switch msg.step {
	case stepExchange, stepRefresh, stepIntrospect, stepRevoke, stepIntrospectAfter:
		msg.inspect = inspectionOf(&msg.state, msg.idToken, now)
	}
	return msg
}

// deliverCmd hands a pasted redirect to the waiting callback.
func deliverCmd(f *oauthflow.Flow, redirect string) tea.Cmd {
	return func() tea.Msg {
		f.Deliver(redirect)
		return nil
	}
}

// closeFlowCmd releases an abandoned flow's listener.
func closeFlowCmd(f *oauthflow.Flow) tea.Cmd {
	if f == nil {
		return nil
	}
	return func() tea.Msg {
		_ = f.Close()
		return nil
	}
}

// errCancelled marks a step the user stopped.
var errCancelled = errors.New("stopped by the user")
