package recorder

import (
	"github.com/oauthdiag/oauthdiag/httplog"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCurlReproducesTheCall runs the exported command with the placeholders' variables
// set and checks the server receives what the original call sent.
func TestCurlReproducesTheCall(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	srv := newEchoServer(t)
	s := startSession(t, openStore(t))
	client := &http.Client{Transport: s.Transport(nil)}
	const secret, code, token = "it's-a-secret", "AQT-code-0123456789", "AQV-token-abcdefghij"

	form := "grant_type=authorization_code&code=" + code + "&client_secret=it%27s-a-secret&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcb"
	req, _ := http.NewRequest("POST", srv.URL+"/oauth/v2/accessToken", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test", "O'Brien")
	send := func(req *http.Request) map[string]string {
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		return srv.received()
	}
	original := []map[string]string{send(req)}
	req, _ = http.NewRequest("DELETE", srv.URL+"/v2/me?oauth2_access_token="+token, nil)
	req.SetBasicAuth("my-client", secret)
	original = append(original, send(req))

	env := append(os.Environ(), "CODE="+code, "CLIENT_SECRET="+secret, "ACCESS_TOKEN="+token)
	for i, want := range original {
		e, err := s.Entry(callID(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		cmdline := Curl(e)
		for _, v := range []string{code, token, secret} {
			if strings.Contains(cmdline, v) {
				t.Fatalf("curl command holds a secret:\n%s", cmdline)
			}
		}
		cmd := exec.Command(bash, "-c", cmdline)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("curl failed: %v\n%s\n%s", err, cmdline, out)
		}
		got := srv.received()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("call %d via curl: server got %s = %q, want %q\n%s", i+1, k, got[k], v, cmdline)
			}
		}
	}
}

// TestReplayReproducesTheCall is the same check for Replay: secrets that needed
// escaping in a form body or a query string go back escaped.
func TestReplayReproducesTheCall(t *testing.T) {
	srv := newEchoServer(t)
	s := startSession(t, openStore(t))
	client := &http.Client{Transport: s.Transport(nil)}
	form := "code=AQT%2Bcode%2F01&client_secret=it%27s+a+secret"
	req, _ := http.NewRequest("POST", srv.URL+"/token?state=s%26t%3Date", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	want := srv.received()
	if _, err := (&Replayer{}).Replay(t.Context(), s, "c1", Edit{}); err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	for _, k := range []string{"uri", "body"} {
		if got[k] != want[k] {
			t.Errorf("replayed %s = %q, original %q", k, got[k], want[k])
		}
	}
}

func TestCurlNamesTheVariablesToSet(t *testing.T) {
	e := Entry{Kind: KindHTTP, Exchange: httplog.Exchange{ID: "c3", Request: httplog.Request{
		Method: "GET", URL: "https://api.linkedin.com/v2/userinfo",
		Header: http.Header{"Authorization": {"Bearer " + Placeholder(KindAccessToken, "t1")}},
	}}}
	got := Curl(e)
	if !strings.Contains(got, "# set first") || !strings.Contains(got, "ACCESS_TOKEN (access_token "+Fingerprint("t1")+")") {
		t.Errorf("no comment naming $ACCESS_TOKEN:\n%s", got)
	}
	if !strings.Contains(got, `-H 'Authorization: Bearer '"$ACCESS_TOKEN"`) {
		t.Errorf("the header does not expand $ACCESS_TOKEN:\n%s", got)
	}
	obs := Curl(Entry{Kind: KindObserved, Exchange: httplog.Exchange{ID: "c1", Leg: httplog.LegAuthorizationURL, Request: httplog.Request{Method: "GET", URL: "https://www.linkedin.com/oauth/v2/authorization?state=" + Placeholder(KindState, "s")}}})
	if !strings.Contains(obs, "browser") || strings.Contains(obs, "curl ") {
		t.Errorf("an observed leg should be shown as a URL to open, not a curl call:\n%s", obs)
	}
}
