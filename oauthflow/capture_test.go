package oauthflow_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// stepSpy is a caller's transport (a recorder, say) that notes the step of each request.
type stepSpy struct {
	mu    sync.Mutex
	steps []string
}

func (s *stepSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.steps = append(s.steps, httplog.StepOf(r.Context()))
	s.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestCallerTransportSeesEveryStep(t *testing.T) {
	t.Parallel()
	s := testkit.StartSandbox(t)
	spy := &stepSpy{}
	client := &http.Client{Transport: spy}
	r := oauthflow.NewRunner(sandboxConfig(s), oauthflow.WithHTTPClient(client))
	if client.Transport != spy {
		t.Fatal("the caller's client was changed")
	}
	ctx := t.Context()
	if _, err := r.Discover(ctx, s.Issuer(), ""); err != nil {
		t.Fatal(err)
	}
	tok, err := r.ClientCredentials(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Introspect(ctx, tok.AccessToken, "")
	r.Revoke(ctx, tok.AccessToken, "")
	want := []string{oauthflow.StepDiscovery, oauthflow.StepClientCreds, oauthflow.StepIntrospect, oauthflow.StepRevoke}
	if strings.Join(spy.steps, ",") != strings.Join(want, ",") {
		t.Errorf("the caller's transport saw steps %v, want %v", spy.steps, want)
	}
}

func TestTraceCapturesBothSidesAndCapsTheBody(t *testing.T) {
	t.Parallel()
	big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), 3<<20/2)...)
	big = append(big, `"}`...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Li-Uuid", "uuid-1")
		if string(body) == "small" {
			w.Write([]byte(`{"ok":true}`))
			return
		}
		w.Write(big)
	}))
	t.Cleanup(srv.Close)
	r := oauthflow.NewRunner(oauthflow.Config{}, oauthflow.WithClock(fixedClock))

	tctx, trace := httplog.Collect(t.Context())

	resp, err := r.CallAPI(tctx, "tok", oauthflow.APIRequest{Method: "POST", URL: srv.URL + "/rest/x",
		Header: http.Header{"LinkedIn-Version": {"202411"}}, Body: []byte("small")})
	if err != nil {
		t.Fatal(err)
	}
	ex := trace.Last()
	if ex == nil || ex.Step != oauthflow.StepAPICall || ex.Request.Method != "POST" || string(ex.Request.Body) != "small" ||
		ex.Request.Header.Get("LinkedIn-Version") != "202411" || ex.Request.Header.Get("Authorization") != "Bearer tok" {
		t.Fatalf("request side %+v", ex)
	}
	if ex.Response.Status != 200 || string(ex.Response.Body) != `{"ok":true}` || ex.Response.Header.Get("X-Li-Uuid") != "uuid-1" || ex.Response.Truncated {
		t.Errorf("response side %+v", ex.Response)
	}
	if !ex.Started.Equal(fixedNow) || string(resp.Body) != `{"ok":true}` {
		t.Errorf("started %v body %s", ex.Started, resp.Body)
	}

	tctx, trace = httplog.Collect(t.Context())

	resp, err = r.CallAPI(tctx, "tok", oauthflow.APIRequest{URL: srv.URL + "/big"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Body, big) {
		t.Errorf("the caller got %d bytes, want all %d", len(resp.Body), len(big))
	}
	if ex := trace.Last(); !ex.Response.Truncated || len(ex.Response.Body) != 1<<20 {
		t.Errorf("the trace kept %d bytes truncated=%v, want the first 1 MiB and the mark", len(ex.Response.Body), ex.Response.Truncated)
	}
}
