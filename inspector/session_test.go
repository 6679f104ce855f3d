package inspector

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/recorder"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// TestSessionFindings: the bundle's findings are the flow's diagnoses, filed under their calls,
// then what the failed calls show, each diagnosis of a call once.
func TestSessionFindings(t *testing.T) {
	run, sess := recordedRun(t, sandbox.ServerError)
	flow := DiagnoseFlow(run.result, run.cfg, run.now)
	for _, tc := range []struct {
		name string
		flow []Diagnosis
	}{{"from the TUI, with the flow's diagnoses", flow}, {"from bundle, without", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			got := SessionFindings(sess, run.now, tc.flow)
			linked := Findings(LinkCalls(tc.flow, sess.Entries()))
			if len(got) < len(linked) {
				t.Fatalf("%d findings, fewer than the flow's %d", len(got), len(linked))
			}
			for i, f := range linked {
				if got[i].CallID != f.CallID || got[i].Code != f.Code {
					t.Errorf("finding %d is %s/%s, want the flow's %s/%s", i, got[i].CallID, got[i].Code, f.CallID, f.Code)
				}
			}
			seen := map[string]bool{}
			outage := false
			for _, f := range got {
				if seen[f.CallID+" "+f.Code] {
					t.Errorf("%s on call %q is repeated", f.Code, f.CallID)
				}
				seen[f.CallID+" "+f.Code] = true
				outage = outage || (f.Code == CodeProviderOutage && f.CallID != "")
			}
			if !outage {
				t.Errorf("no %s filed under the failed call: %+v", CodeProviderOutage, got)
			}
		})
	}
}

func TestSessionFindingsReadsAtMostFiftyFailedCalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	store, err := recorder.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := store.NewSession(recorder.SessionMeta{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	client := &http.Client{Timeout: 10 * time.Second, Transport: sess.Transport(nil)}
	get := func(path string) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get("/ok")
	for i := range MaxBundleFailedCalls + 5 {
		get(fmt.Sprintf("/fail/%d", i))
	}
	sess.Flush()

	diagnosed := map[string]bool{}
	for _, f := range SessionFindings(sess, time.Now(), nil) {
		if f.CallID != "" {
			diagnosed[f.CallID] = true
		}
	}
	var failed []string
	for _, c := range sess.Entries() {
		if c.Failed {
			failed = append(failed, c.ID)
		}
	}
	if len(diagnosed) != MaxBundleFailedCalls {
		t.Errorf("%d calls diagnosed, want %d", len(diagnosed), MaxBundleFailedCalls)
	}
	for i, id := range failed {
		if diagnosed[id] != (i < MaxBundleFailedCalls) {
			t.Errorf("failed call %d (%s) diagnosed: %v", i, id, diagnosed[id])
		}
	}
}
