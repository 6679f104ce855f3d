package inspector

import (
	"archive/zip"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// recordedRun runs a sandbox flow through a recording session, as `oauthdiag flow` does.
func recordedRun(t *testing.T, sc sandbox.Scenario) (sandboxRun, *recorder.Session) {
	t.Helper()
	store, err := recorder.Open(t.TempDir(), recorder.WithStepFunc(oauthflow.StepOf))
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
		fo.Observe = func(step, kind, rawURL string) {
			leg := recorder.LegAuthorizationURL
			if kind == "redirect" {
				leg = recorder.LegBrowserRedirect
			}
			sess.Observe(step, leg, rawURL, "")
		}
	}})
	sess.Flush()
	if err := sess.Err(); err != nil {
		t.Fatalf("recording: %v", err)
	}
	return run, sess
}

func sessionEntries(t *testing.T, sess *recorder.Session) []recorder.Entry {
	t.Helper()
	var entries []recorder.Entry
	if err := sess.Each(func(e recorder.Entry) error { entries = append(entries, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return entries
}

// TestRecordedSessionsDiagnoseLikeFlows: a recorded (redacted) session must yield the same first
// diagnosis as the live flow, and name the call it came from.
func TestRecordedSessionsDiagnoseLikeFlows(t *testing.T) {
	for _, sc := range []sandbox.Scenario{sandbox.ServerError, sandbox.RateLimited, sandbox.RevokedToken, sandbox.BadSecret,
		sandbox.CodeReuse, sandbox.ScopeDenied, sandbox.UserCancel, sandbox.ExpiredToken} {
		t.Run(string(sc), func(t *testing.T) {
			run, sess := recordedRun(t, sc)
			live := DiagnoseFlow(run.result, run.cfg, run.now)
			ctx := FlowContext(run.result, run.cfg, run.now)
			recorded := DiagnoseEntries(sessionEntries(t, sess), ctx)
			if len(live) == 0 || len(recorded) == 0 || live[0].Code != recorded[0].Code {
				t.Fatalf("live %v, recorded %v\n%s", codes(live), codes(recorded), RenderDiagnoses(recorded))
			}
			if recorded[0].CallID == "" {
				t.Errorf("a diagnosis from a recorded call must name it: %+v", recorded[0])
			}
			linked := LinkCalls(live, sess.Entries())
			if sc != sandbox.UserCancel && linked[0].CallID == "" {
				t.Errorf("LinkCalls found no call for step %s", linked[0].Step)
			}
			if sc == sandbox.UserCancel && linked[0].CallID != recorded[0].CallID {
				t.Errorf("user-cancel: linked call %q, recorded %q", linked[0].CallID, recorded[0].CallID)
			}
		})
	}
}

func TestFindingsReachTheBundle(t *testing.T) {
	run, sess := recordedRun(t, sandbox.ServerError)
	ds := LinkCalls(DiagnoseFlow(run.result, run.cfg, run.now), sess.Entries())
	path := filepath.Join(t.TempDir(), "bundle.zip")
	if _, err := recorder.WriteBundle(path, sess, recorder.BundleInfo{Findings: Findings(ds)}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	var diag []recorder.Finding
	if err := json.Unmarshal([]byte(files["diagnosis.json"]), &diag); err != nil {
		t.Fatalf("diagnosis.json: %v\n%s", err, files["diagnosis.json"])
	}
	if len(diag) == 0 || diag[0].Code != CodeProviderOutage || diag[0].CallID == "" || diag[0].Fix == "" || len(diag[0].Evidence) == 0 {
		t.Fatalf("diagnosis.json = %+v", diag)
	}
	if !strings.Contains(files["report.md"], CodeProviderOutage) || !strings.Contains(files["report.md"], ds[0].Title) {
		t.Errorf("report.md does not carry the diagnosis:\n%s", files["report.md"])
	}
}

// TestFromEntryTakesTheRecordedErrorKind: a recorded call's error kind is the observation's
// transport class as it stands; only an incomplete read is no failure of the server's.
func TestFromEntryTakesTheRecordedErrorKind(t *testing.T) {
	for kind, want := range map[recorder.ErrorKind]string{
		recorder.ErrorTimeout: TransportTimeout, recorder.ErrorDNS: TransportDNS, recorder.ErrorConnectionRefused: TransportRefused,
		recorder.ErrorTLS: TransportTLS, recorder.ErrorReset: TransportReset, recorder.ErrorCanceled: TransportCanceled,
		recorder.ErrorOther: TransportOther, recorder.ErrorIncomplete: "", "": "",
	} {
		o := FromEntry(recorder.Entry{ID: "c1", Error: "boom", ErrorKind: kind, Request: recorder.Request{Method: "POST", URL: "https://idp.example/token"}})
		if o.Transport != want || o.Failed != (want != "") {
			t.Errorf("error kind %q: transport %q, failed %v; want %q", kind, o.Transport, o.Failed, want)
		}
	}
}
