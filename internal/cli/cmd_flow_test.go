package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// flowRun is one in-process run of the CLI.
type flowRun struct {
	code           int
	stdout, stderr string
	home           string // OAUTHDIAG_HOME of the run
}

// runFlowCLI runs `oauthdiag args...` in-process with a private OAUTHDIAG_HOME and no terminal.
func runFlowCLI(t *testing.T, vars map[string]string, args ...string) flowRun {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{"OAUTHDIAG_HOME": home}
	for k, v := range vars {
		env[k] = v
	}
	var stdout, stderr bytes.Buffer
	cli := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env[k] }}
	code := runCLI(t.Context(), cli, args)
	return flowRun{code: code, stdout: stdout.String(), stderr: stderr.String(), home: home}
}

// flowJSON is the part of `flow --json` the tests read.
type flowJSON struct {
	OK       bool   `json:"ok"`
	Session  string `json:"session"`
	Provider struct {
		Name     string   `json:"name"`
		ClientID string   `json:"client_id"`
		Scopes   []string `json:"scopes"`
	} `json:"provider"`
	Steps []struct {
		Name    string `json:"name"`
		OK      bool   `json:"ok"`
		Outcome string `json:"outcome"`
		Status  int    `json:"status"`
		Notes   []string
		Error   *struct {
			Kind             string `json:"kind"`
			Code             string `json:"code"`
			Status           int    `json:"status"`
			ServiceErrorCode int    `json:"service_error_code"`
			RetryAfterS      int    `json:"retry_after_s"`
			Hint             string `json:"hint"`
			Message          string `json:"message"`
		} `json:"error"`
		Exchanges []json.RawMessage `json:"exchanges"`
	} `json:"steps"`
	Diagnoses []struct {
		Code     string   `json:"code"`
		Title    string   `json:"title"`
		Fix      string   `json:"fix"`
		Evidence []string `json:"evidence"`
	} `json:"diagnoses"`
}

func decodeFlowJSON(t *testing.T, run flowRun) flowJSON {
	t.Helper()
	var doc flowJSON
	if err := json.Unmarshal([]byte(run.stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, run.stdout)
	}
	return doc
}

func TestFlowCommandSandboxHappy(t *testing.T) {
	t.Parallel()
	run := runFlowCLI(t, nil, "flow", "--sandbox", "happy", "--json")
	if run.code != 0 || run.stderr != "" {
		t.Fatalf("exit %d, stderr %q", run.code, run.stderr)
	}
	doc := decodeFlowJSON(t, run)
	if !doc.OK || doc.Session == "" {
		t.Errorf("ok %v session %q", doc.OK, doc.Session)
	}
	if len(doc.Diagnoses) != 0 {
		t.Errorf("a flow that works has nothing to diagnose: %+v", doc.Diagnoses)
	}
	if p := doc.Provider; p.Name != "linkedin-sandbox" || p.ClientID != sandbox.DefaultClientID || strings.Join(p.Scopes, " ") != "openid profile email" {
		t.Errorf("provider %+v: the scopes shown must be the ones requested (the preset's defaults)", p)
	}
	var names []string
	for _, s := range doc.Steps {
		names = append(names, s.Name)
		if !s.OK || s.Outcome != "ok" || s.Error != nil {
			t.Errorf("step %s: ok %v outcome %s error %+v", s.Name, s.OK, s.Outcome, s.Error)
		}
	}
	want := "discovery authorize callback exchange userinfo api-call introspect refresh revoke introspect-after-revoke"
	if strings.Join(names, " ") != want {
		t.Errorf("steps %v, want %s", names, want)
	}
	if strings.Contains(run.stdout, sandbox.DefaultClientSecret) || !strings.Contains(run.stdout, "sha256:") {
		t.Error("the client secret must appear only as a fingerprint")
	}
}

func TestFlowCommandSandboxText(t *testing.T) {
	t.Parallel()
	run := runFlowCLI(t, nil, "flow", "--sandbox", "happy")
	if run.code != 0 {
		t.Fatalf("exit %d: %s", run.code, run.stderr)
	}
	for _, line := range []string{"scenario happy", "✔ discovery", "✔ exchange", "✔ api-call", "✔ introspect-after-revoke",
		"POST /oauth/v2/accessToken HTTP/1.1", "Host: 127.0.0.1:", "Result: every step succeeded.", "Recorded as session"} {
		if !strings.Contains(run.stdout, line) {
			t.Errorf("text output lacks %q:\n%s", line, run.stdout)
		}
	}

	fail := runFlowCLI(t, nil, "flow", "--sandbox", "scope-denied")
	if fail.code != 1 {
		t.Fatalf("exit %d", fail.code)
	}
	for _, line := range []string{"✔ exchange", "✘ userinfo", "HTTP 403", "error: userinfo: HTTP 403 ACCESS_DENIED", "– api-call", "Result: the flow failed at step userinfo."} {
		if !strings.Contains(fail.stdout, line) {
			t.Errorf("text output lacks %q:\n%s", line, fail.stdout)
		}
	}
	if !strings.Contains(fail.stderr, "the flow failed at step userinfo: HTTP 403 ACCESS_DENIED") {
		t.Errorf("stderr must carry the cause on its own: %q", fail.stderr)
	}
}

func TestFlowCommandSandboxFaults(t *testing.T) {
	t.Parallel()
	type want struct {
		kind, code       string
		status           int
		serviceErrorCode int
		retryAfterS      int
		diagnosis        string // the first diagnosis code `flow --json` must give
	}
	rows := map[sandbox.Scenario]want{
		sandbox.ServerError:      {kind: "api", code: "INTERNAL_SERVER_ERROR", status: 500, diagnosis: "provider-outage"},
		sandbox.RateLimited:      {kind: "api", code: "TOO_MANY_REQUESTS", status: 429, retryAfterS: 1, diagnosis: "rate-limited"},
		sandbox.ExpiredToken:     {kind: "api", code: "EXPIRED_ACCESS_TOKEN", status: 401, serviceErrorCode: 65602, diagnosis: "access-token-expired"},
		sandbox.RevokedToken:     {kind: "api", code: "REVOKED_ACCESS_TOKEN", status: 401, serviceErrorCode: 65601, diagnosis: "token-revoked"},
		sandbox.UserCancel:       {kind: "redirect", code: "user_cancelled_login", diagnosis: "user-cancelled"},
		sandbox.RedirectMismatch: {kind: "browser", code: oauthflow.CodeBrowserStopped, status: 400, diagnosis: "redirect-uri-mismatch"},
		sandbox.BadSecret:        {kind: "oauth", code: "invalid_client", status: 401, diagnosis: "bad-client-credentials"},
		sandbox.CodeReuse:        {kind: "oauth", code: "invalid_request", status: 400, diagnosis: "authorization-code-invalid"},
		sandbox.ScopeDenied:      {kind: "api", code: "ACCESS_DENIED", status: 403, serviceErrorCode: 100, diagnosis: "access-denied"},
		sandbox.Slow:             {kind: "transport", code: string(httplog.ErrorTimeout), diagnosis: "timeout"},
		sandbox.Flaky:            {kind: "api", code: "SERVICE_UNAVAILABLE", status: 503, diagnosis: "provider-outage"},
		sandbox.NoRefreshToken:   {kind: "unavailable", code: oauthflow.CodeNoRefreshToken, diagnosis: "refresh-not-available"},
	}
	for _, sc := range sandbox.Scenarios() {
		if sc == sandbox.Happy {
			continue
		}
		w, ok := rows[sc]
		if !ok {
			t.Errorf("scenario %s has no row", sc)
			continue
		}
		t.Run(string(sc), func(t *testing.T) {
			t.Parallel()
			args := []string{"flow", "--sandbox", string(sc), "--json"}
			step := sc.FailingStep()
			if sc == sandbox.Slow {
				args = append(args, "--timeout", "300ms", "--sandbox-delay", "2s")
				step = "userinfo"
			}
			run := runFlowCLI(t, nil, args...)
			if run.code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", run.code, run.stderr)
			}
			if !strings.HasPrefix(run.stderr, "oauthdiag flow: the flow failed at step "+step+": ") || strings.Count(run.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line naming step %s and its error", run.stderr, step)
			}
			doc := decodeFlowJSON(t, run)
			if doc.OK {
				t.Fatal(`"ok": true for a failed flow`)
			}
			failed := 0
			for _, s := range doc.Steps {
				if s.Outcome != "failed" {
					continue
				}
				failed++
				if s.Name != step {
					t.Errorf("step %s failed, want %s", s.Name, step)
					continue
				}
				e := s.Error
				if e == nil {
					t.Fatalf("failed step %s has no error", s.Name)
				}
				if e.Kind != w.kind || e.Code != w.code || e.Status != w.status || e.ServiceErrorCode != w.serviceErrorCode || e.RetryAfterS != w.retryAfterS {
					t.Errorf("error %+v, want %+v", *e, w)
				}
				if e.Message == "" {
					t.Error("the error has no message")
				}
			}
			if failed != 1 {
				t.Errorf("%d steps failed, want exactly 1", failed)
			}
			if len(doc.Diagnoses) == 0 || doc.Diagnoses[0].Code != w.diagnosis {
				t.Errorf("diagnoses %+v, want %s first", doc.Diagnoses, w.diagnosis)
			} else if d := doc.Diagnoses[0]; d.Title == "" || d.Fix == "" || len(d.Evidence) == 0 {
				t.Errorf("diagnosis %s lacks a title, fix or evidence: %+v", d.Code, d)
			}
		})
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

func serveText(t *testing.T, contentType, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, strings.ReplaceAll(body, "{base}", "http://"+r.Host))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestFlowCommandBadInput(t *testing.T) {
	t.Parallel()
	secret := map[string]string{"OAUTHDIAG_CLIENT_SECRET": "s3cret-bad-input"}
	// nothing opens a real browser in these tests
	noBrowser := []string{"--browser-cmd", "true"}
	html := serveText(t, "text/html; charset=utf-8", "<!doctype html><html><body>Sign in to continue</body></html>")
	partial := serveText(t, "application/json", `{"issuer":"{base}/oauth","jwks_uri":"{base}/jwks"}`)

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	busyRedirect := "http://127.0.0.1:" + busyPort + "/callback"
	sb := sandbox.New(sandbox.WithAutoConsent(true), sandbox.WithClient(sandbox.DefaultClientID, sandbox.DefaultClientSecret, busyRedirect))
	if _, err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })

	cases := []struct {
		name    string
		vars    map[string]string
		args    []string
		code    int
		mention []string // in stderr
	}{
		{name: "unknown scenario", args: []string{"flow", "--sandbox", "nope"}, code: 2,
			mention: []string{`"nope"`, "happy", "rate-limited", "no-refresh-token"}},
		{name: "no provider", args: []string{"flow"}, code: 2,
			mention: []string{"no provider given", "--provider linkedin", "--issuer", "--sandbox"}},
		{name: "no client id", args: []string{"flow", "--issuer", "http://127.0.0.1:1/oauth"}, code: 2, mention: []string{"--client-id"}},
		{name: "no client secret without a terminal", args: []string{"flow", "--issuer", "http://127.0.0.1:1/oauth", "--client-id", "c"}, code: 2,
			mention: []string{"OAUTHDIAG_CLIENT_SECRET", "--auth-method none"}},
		{name: "bad --param", args: []string{"flow", "--sandbox", "happy", "--param", "prompt"}, code: 2, mention: []string{"name=value"}},
		{name: "stray argument", args: []string{"flow", "--sandbox", "happy", "now"}, code: 2, mention: []string{`"now"`}},
		{name: "unknown flag", args: []string{"flow", "--sandbox", "happy", "--colour"}, code: 2, mention: []string{"colour"}},
		{name: "issuer on a closed port", vars: secret,
			args: append([]string{"flow", "--issuer", "http://127.0.0.1:" + closedPort(t) + "/oauth", "--client-id", "c"}, noBrowser...), code: 1,
			mention: []string{"step discovery", "connection refused", "is the server running"}},
		{name: "issuer answering HTML", vars: secret,
			args: append([]string{"flow", "--issuer", html + "/oauth", "--client-id", "c"}, noBrowser...), code: 1,
			mention: []string{"step discovery", "an HTML page", "not a web page"}},
		{name: "discovery missing fields", vars: secret,
			args: append([]string{"flow", "--issuer", partial + "/oauth", "--client-id", "c"}, noBrowser...), code: 1,
			mention: []string{"step discovery", "authorization_endpoint, token_endpoint", "--auth-url"}},
		{name: "redirect port busy and the browser command prints nothing", vars: map[string]string{"OAUTHDIAG_CLIENT_SECRET": sandbox.DefaultClientSecret},
			args: append([]string{"flow", "--issuer", sb.Issuer(), "--client-id", sandbox.DefaultClientID, "--auth-method", "post",
				"--redirect-uri", busyRedirect}, noBrowser...), code: 1,
			mention: []string{"step callback", "port " + busyPort + " is already in use", "--redirect-uri"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := runFlowCLI(t, tc.vars, tc.args...)
			if run.code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", run.code, tc.code, run.stderr)
			}
			if !strings.HasPrefix(run.stderr, "oauthdiag flow: ") && !strings.Contains(run.stderr, "flag provided but not defined") {
				t.Errorf("stderr %q must say which command failed", run.stderr)
			}
			for _, m := range tc.mention {
				if !strings.Contains(run.stderr, m) {
					t.Errorf("stderr %q does not mention %q", run.stderr, m)
				}
			}
			if strings.Contains(run.stdout+run.stderr, "panic") || strings.Contains(run.stdout+run.stderr, "s3cret-bad-input") {
				t.Errorf("output leaks a panic or the secret:\n%s\n%s", run.stdout, run.stderr)
			}
		})
	}
}

func TestFlowCommandEndpointFlagsFillAnIncompleteDiscovery(t *testing.T) {
	t.Parallel()
	partial := serveText(t, "application/json", `{"issuer":"{base}/oauth","authorization_endpoint":"{base}/authorize"}`)
	run := runFlowCLI(t, map[string]string{"OAUTHDIAG_CLIENT_SECRET": "s"}, "flow", "--json", "--issuer", partial+"/oauth", "--client-id", "c",
		"--token-url", partial+"/token", "--browser-cmd", "true", "--no-listen")
	doc := decodeFlowJSON(t, run)
	if len(doc.Steps) == 0 || doc.Steps[0].Name != "discovery" || !doc.Steps[0].OK {
		t.Fatalf("discovery must pass when --token-url fills the gap: %+v", doc.Steps)
	}
	if notes := strings.Join(doc.Steps[0].Notes, " "); !strings.Contains(notes, "lacks token_endpoint") {
		t.Errorf("discovery notes %q must say the document lacked token_endpoint", notes)
	}
	if run.code != 1 || !strings.Contains(run.stderr, "step callback") {
		t.Errorf("exit %d stderr %q: with no browser the flow stops at the callback", run.code, run.stderr)
	}
}

// secretSpy sits in front of the sandbox and notes every secret that crosses it: the client
// secret and PKCE verifier sent, the codes and tokens issued.
type secretSpy struct {
	next http.Handler
	mu   sync.Mutex
	seen map[string]string // value -> kind
}

func (s *secretSpy) note(kind, v string) {
	if v == "" {
		return
	}
	s.mu.Lock()
	s.seen[v] = kind
	s.mu.Unlock()
}

func (s *secretSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if form, err := url.ParseQuery(string(body)); err == nil {
		s.note("client_secret", form.Get("client_secret"))
		s.note("code_verifier", form.Get("code_verifier"))
	}
	rec := httptest.NewRecorder()
	s.next.ServeHTTP(rec, r)
	if loc, err := url.Parse(rec.Header().Get("Location")); err == nil {
		s.note("code", loc.Query().Get("code"))
	}
	var tok map[string]any
	if json.Unmarshal(rec.Body.Bytes(), &tok) == nil {
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if v, ok := tok[k].(string); ok {
				s.note(k, v)
			}
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func (s *secretSpy) secrets() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.seen))
	for k, v := range s.seen {
		out[k] = v
	}
	return out
}

// TestFlowCommandNeverShowsSecrets runs whole flows with a canary client secret and checks that
// no secret value (client secret, PKCE verifier, code, access, refresh or ID token) reaches
// stdout, stderr or any file the run wrote, while their fingerprints do.
func TestFlowCommandNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	const canaryID, canarySecret = "canary-client", "CANARY-secret-9f3b1c7e"
	for _, mode := range []struct {
		name   string
		args   []string
		reveal bool
	}{
		{name: "text", args: []string{"-v"}},
		{name: "json", args: []string{"--json"}},
		{name: "reveal", args: []string{"--json", "--reveal"}, reveal: true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			sb := sandbox.New(sandbox.WithAutoConsent(true), sandbox.WithClient(canaryID, canarySecret))
			spy := &secretSpy{next: sb.Handler(), seen: map[string]string{}}
			srv := httptest.NewServer(spy)
			t.Cleanup(srv.Close)
			// curl plays the browser: the sandbox consents at once and curl prints where it redirects.
			args := append([]string{"flow", "--issuer", srv.URL + "/oauth", "--client-id", canaryID, "--auth-method", "post",
				"--introspect-url", srv.URL + "/oauth/v2/introspectToken", "--revoke-url", srv.URL + "/oauth/v2/revoke",
				"--scope", "openid profile email", "--browser-cmd", "curl -s -o /dev/null -w %{redirect_url}", "--no-listen"}, mode.args...)
			run := runFlowCLI(t, map[string]string{"OAUTHDIAG_CLIENT_SECRET": canarySecret}, args...)
			if run.code != 0 {
				t.Fatalf("exit %d\nstderr %s\nstdout %s", run.code, run.stderr, run.stdout)
			}
			secrets := spy.secrets()
			kinds := map[string]bool{}
			for _, k := range secrets {
				kinds[k] = true
			}
			for _, k := range []string{"client_secret", "code_verifier", "code", "access_token", "refresh_token", "id_token"} {
				if !kinds[k] {
					t.Fatalf("the flow never carried a %s; the canary check would prove nothing (saw %v)", k, kinds)
				}
			}
			if secrets[canarySecret] != "client_secret" {
				t.Fatal("the canary secret was not the one sent")
			}

			outputs := map[string]string{"stdout": run.stdout, "stderr": run.stderr}
			filepath.WalkDir(run.home, func(path string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					b, _ := os.ReadFile(path)
					outputs[path] = string(b)
				}
				return nil
			})
			if len(outputs) < 3 {
				t.Errorf("the run wrote no session file under %s", run.home)
			}
			if mode.reveal {
				if !strings.Contains(run.stdout, canarySecret) {
					t.Error("--reveal must show the secrets (else this test could not see a leak)")
				}
				delete(outputs, "stdout")
			}
			for where, text := range outputs {
				for value, kind := range secrets {
					if strings.Contains(text, value) {
						t.Errorf("%s shows a %s in clear", where, kind)
					}
				}
			}
			if !mode.reveal && !strings.Contains(run.stdout, "sha256:") {
				t.Error("redacted values must still be told apart by their sha256 fingerprints")
			}
		})
	}
}

// A sandbox run uses the built-in client unless --client-id names another (which sandboxClient
// registers with exactly its --client-secret); the other client flags apply either way.
func TestSandboxConfig(t *testing.T) {
	const base = "http://127.0.0.1:1"
	cases := []struct {
		name         string
		pf           providerFlags
		id, secret   string
		redirect     string
		scopes       string
		method       oauthflow.AuthMethod
		pkce         bool
		clientOption bool
	}{
		{"built-in client", providerFlags{}, sandbox.DefaultClientID, sandbox.DefaultClientSecret, oauthflow.DefaultRedirectURI, "", "", true, false},
		{"a secret alone keeps the built-in client", providerFlags{clientSecret: "mine"}, sandbox.DefaultClientID, sandbox.DefaultClientSecret, oauthflow.DefaultRedirectURI, "", "", true, false},
		{"own client", providerFlags{clientID: "app", clientSecret: "s3cret", redirectURI: "http://127.0.0.1:9/cb"}, "app", "s3cret", "http://127.0.0.1:9/cb", "", "", true, true},
		{"own public client", providerFlags{clientID: "app", authMethod: "none"}, "app", "", oauthflow.DefaultRedirectURI, "", oauthflow.AuthNone, true, true},
		{"client flags", providerFlags{scope: "openid,email", authMethod: "post", noPKCE: true}, sandbox.DefaultClientID, sandbox.DefaultClientSecret, oauthflow.DefaultRedirectURI, "openid email", oauthflow.AuthPost, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := sandboxConfig(&c.pf, base, base+"/issuer")
			if err != nil {
				t.Fatal(err)
			}
			cl := res.cfg.Client
			if cl.ID != c.id || cl.Secret != c.secret || cl.RedirectURI != c.redirect || strings.Join(cl.Scopes, " ") != c.scopes || cl.AuthMethod != c.method || cl.PKCE != c.pkce {
				t.Errorf("client %+v", cl)
			}
			if !res.discover || res.issuer != base+"/issuer" || res.cfg.Provider.Name != "linkedin-sandbox" {
				t.Errorf("resolved %+v", res)
			}
			if got := len(sandboxClient(&c.pf)) == 1; got != c.clientOption {
				t.Errorf("sandboxClient registers a client: %v, want %v", got, c.clientOption)
			}
		})
	}
	pf := providerFlags{apiHeaders: multiFlag{"X-Test=1"}, endpoints: oauthflow.Endpoints{Userinfo: "http://127.0.0.1:2/me"}}
	res, err := sandboxConfig(&pf, base, base)
	if err != nil {
		t.Fatal(err)
	}
	if res.cfg.Provider.APIHeaders["X-Test"] != "1" || res.cfg.Provider.Endpoints.Userinfo != "http://127.0.0.1:2/me" || res.cfg.Provider.Endpoints.Token == "" {
		t.Errorf("provider %+v", res.cfg.Provider)
	}
	for _, bad := range []providerFlags{{authMethod: "jwt"}, {apiHeaders: multiFlag{"nope"}}} {
		var ue *usageError
		if _, err := sandboxConfig(&bad, base, base); !errors.As(err, &ue) {
			t.Errorf("sandboxConfig(%+v) = %v, want a usage error", bad, err)
		}
	}
}

// flow --json quotes diagnoses and endpoints through the redactor like the text output: a
// pasted redirect the diagnosis quotes, or a token in --api-url, stays out of stdout.
func TestFlowJSONRedactsDiagnosesAndEndpoints(t *testing.T) {
	const code, apiToken = "AQpastedCODE0123456789abcdefghijklmnopqrstuvwxyz", "LEAKME-0123456789abcdef"
	env := map[string]string{"OAUTHDIAG_HOME": t.TempDir()}
	var stdout, stderr bytes.Buffer
	cli := &cliEnv{stdin: strings.NewReader("127.0.0.1:8765/callback?code=" + code + "&state=abcdefSTATE123\n"),
		stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env[k] }}
	runCLI(t.Context(), cli, []string{"flow", "--sandbox", "happy", "--paste", "--json",
		"--api-url", "http://127.0.0.1:1/rest/me?oauth2_access_token=" + apiToken})
	var doc flowJSON
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || len(doc.Diagnoses) == 0 {
		t.Fatalf("want a JSON document with a diagnosis of the pasted URL: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	for _, secret := range []string{code, apiToken} {
		if strings.Contains(stdout.String()+stderr.String(), secret) {
			t.Errorf("flow --json shows %.10s…:\n%s", secret, stdout.String())
		}
	}
}
