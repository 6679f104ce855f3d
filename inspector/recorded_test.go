package inspector

import (
	"net/http"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// recordedRun runs a sandbox flow through a recording session, as `oauthdiag flow` does.
func recordedRun(t *testing.T, sc sandbox.Scenario) (sandboxRun, *recorder.Session) {
	t.Helper()
	store, err := recorder.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := store.NewSession(recorder.SessionMeta{Provider: "linkedin"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	sess.Redactor().AddSecret("client_secret", sandbox.DefaultClientSecret)
	client := &http.Client{Timeout: 10 * time.Second, Transport: sess.Transport(nil)}
	run := runSandboxFlow(t, sandboxSetup{scenario: sc, client: client, flow: func(fo *oauthflow.FlowOptions) {
		fo.Observe = func(step, leg, rawURL string) httplog.Exchange {
			return sess.Observe(step, leg, rawURL, "").Exchange
		}
	}})
	if err := sess.Err(); err != nil {
		t.Fatalf("recording: %v", err)
	}
	return run, sess
}

func sessionExchanges(t *testing.T, sess *recorder.Session) []httplog.Exchange {
	t.Helper()
	var exchanges []httplog.Exchange
	if err := sess.Each(func(e recorder.Entry) error { exchanges = append(exchanges, e.Exchange); return nil }); err != nil {
		t.Fatal(err)
	}
	return exchanges
}

// TestRecordedSessionsDiagnoseLikeFlows: a recorded (redacted) session yields the same first
// diagnosis as the live flow, and both name the same recorded call: the flow's steps carry the
// ids the session gave their exchanges.
func TestRecordedSessionsDiagnoseLikeFlows(t *testing.T) {
	for _, sc := range []sandbox.Scenario{sandbox.ServerError, sandbox.RateLimited, sandbox.RevokedToken, sandbox.BadSecret,
		sandbox.CodeReuse, sandbox.ScopeDenied, sandbox.UserCancel, sandbox.ExpiredToken} {
		t.Run(string(sc), func(t *testing.T) {
			run, sess := recordedRun(t, sc)
			live := DiagnoseFlow(run.result, run.cfg, nil, run.now)
			ctx := FlowContext(run.result, run.cfg, nil, run.now)
			recorded := DiagnoseExchanges(sessionExchanges(t, sess), ctx)
			if len(live) == 0 || len(recorded) == 0 || live[0].Code != recorded[0].Code {
				t.Fatalf("live %v, recorded %v\n%s", codes(live), codes(recorded), RenderDiagnoses(recorded))
			}
			if recorded[0].CallID == "" || live[0].CallID != recorded[0].CallID {
				t.Errorf("the live diagnosis names call %q, the recorded one %q; both must name the failed call", live[0].CallID, recorded[0].CallID)
			}
		})
	}
}

// TestFromExchangeTakesTheRecordedErrorKind: a recorded call's error kind is the observation's
// transport class as it stands; only an incomplete read is no failure of the server's.
func TestFromExchangeTakesTheRecordedErrorKind(t *testing.T) {
	for _, kind := range []httplog.ErrorKind{httplog.ErrorTimeout, httplog.ErrorDNS, httplog.ErrorConnectionRefused,
		httplog.ErrorTLS, httplog.ErrorReset, httplog.ErrorCanceled, httplog.ErrorOther, httplog.ErrorIncomplete, ""} {
		want := kind
		if kind == httplog.ErrorIncomplete {
			want = ""
		}
		o := FromExchange(&httplog.Exchange{ID: "c1", Error: "boom", ErrorKind: kind, Request: httplog.Request{Method: "POST", URL: "https://idp.example/token"}})
		if o.Transport != want || o.Failed != (want != "") {
			t.Errorf("error kind %q: transport %q, failed %v; want %q", kind, o.Transport, o.Failed, want)
		}
	}
}
