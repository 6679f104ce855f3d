package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/recorder"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

func TestStateDir(t *testing.T) {
	tmp := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"OAUTHDIAG_HOME wins", map[string]string{"OAUTHDIAG_HOME": tmp + "/home", "XDG_STATE_HOME": tmp + "/xdg", "HOME": tmp}, tmp + "/home/state"},
		{"XDG state", map[string]string{"XDG_STATE_HOME": tmp + "/xdg", "HOME": tmp}, tmp + "/xdg/oauthdiag"},
		{"relative XDG is ignored", map[string]string{"XDG_STATE_HOME": "rel", "HOME": tmp}, tmp + "/.local/state/oauthdiag"},
		{"HOME", map[string]string{"HOME": tmp + "/h"}, tmp + "/h/.local/state/oauthdiag"},
	}
	for _, tt := range tests {
		env := &cliEnv{getenv: func(k string) string { return tt.env[k] }}
		got, err := stateDir(env)
		if err != nil || got != tt.want {
			t.Errorf("%s: stateDir = %q, %v; want %q", tt.name, got, err, tt.want)
			continue
		}
		if fi, err := os.Stat(got); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %s not created private: %v %v", tt.name, got, fi.Mode(), err)
		}
	}
	if _, err := stateDir(&cliEnv{getenv: func(string) string { return "" }}); err == nil || !strings.Contains(err.Error(), "OAUTHDIAG_HOME") {
		t.Errorf("no home at all: %v, want an error naming OAUTHDIAG_HOME", err)
	}
}

const (
	recClientID     = "cli-canary-client"
	recClientSecret = "CLI-CANARY-secret-4d2f91"
	recRedirect     = "http://127.0.0.1:8765/callback"
)

// recordedFlow records a code exchange and a userinfo call against the sandbox into the
// state directory of home, as `oauthdiag flow` would, and returns every secret involved.
func recordedFlow(t *testing.T, home string, srv *sandbox.Server) map[string]string {
	t.Helper()
	env := &cliEnv{getenv: func(k string) string { return map[string]string{"OAUTHDIAG_HOME": home}[k] }}
	st, err := sessionStore(env)
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.NewSession(recorder.SessionMeta{Provider: "linkedin", ClientID: recClientID, RedirectURI: recRedirect, Scopes: []string{"openid", "profile"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Redactor().AddSecret(recorder.KindClientSecret, recClientSecret)
	client := &http.Client{Transport: s.Transport(nil), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := srv.BaseURL()
	state := "CLI-CANARY-state-77"
	auth := base + "/oauth/v2/authorization?" + url.Values{"response_type": {"code"}, "client_id": {recClientID},
		"redirect_uri": {recRedirect}, "state": {state}, "scope": {"openid profile"}}.Encode()
	resp, err := client.Get(auth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	s.Observe("callback", httplog.LegBrowserRedirect, loc.String(), "")
	code := loc.Query().Get("code")
	resp, err = client.PostForm(base+"/oauth/v2/accessToken", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {recRedirect}, "client_id": {recClientID}, "client_secret": {recClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ AccessToken, RefreshToken, IDToken string }
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var raw map[string]any
	json.Unmarshal(b, &raw)
	tok.AccessToken, _ = raw["access_token"].(string)
	tok.RefreshToken, _ = raw["refresh_token"].(string)
	tok.IDToken, _ = raw["id_token"].(string)
	if tok.AccessToken == "" {
		t.Fatalf("no access token: %s", b)
	}
	req, _ := http.NewRequest("GET", base+"/v2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return map[string]string{"client_secret": recClientSecret, "state": state, "code": code,
		"access_token": tok.AccessToken, "refresh_token": tok.RefreshToken, "id_token": tok.IDToken}
}

type cliRun struct {
	stdout, stderr bytes.Buffer
	err            error
}

func runRecordCommand(t *testing.T, c command, vars map[string]string, args ...string) *cliRun {
	t.Helper()
	r := &cliRun{}
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &r.stdout, stderr: &r.stderr, getenv: func(k string) string { return vars[k] }}
	r.err = execute(context.Background(), env, c, args)
	return r
}

// TestRecordCommands drives sessions, calls, export, bundle and replay over a session
// recorded against the sandbox, and checks no secret reaches their output or files.
func TestRecordCommands(t *testing.T) {
	srv := sandbox.New(sandbox.WithAutoConsent(true), sandbox.WithClient(recClientID, recClientSecret, recRedirect))
	if _, err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	home := t.TempDir()
	secrets := recordedFlow(t, home, srv)
	vars := map[string]string{"OAUTHDIAG_HOME": home}
	var outputs []*cliRun
	run := func(c command, args ...string) *cliRun {
		t.Helper()
		r := runRecordCommand(t, c, vars, args...)
		outputs = append(outputs, r)
		return r
	}

	r := run(sessionsCommand())
	if r.err != nil || !strings.Contains(r.stdout.String(), recClientID) || !strings.Contains(r.stdout.String(), "linkedin") {
		t.Fatalf("sessions: %v\n%s", r.err, r.stdout.String())
	}
	r = run(sessionsCommand(), "--json")
	var sessionList struct {
		SchemaVersion int                    `json:"schema_version"`
		Sessions      []recorder.SessionInfo `json:"sessions"`
	}
	if err := json.Unmarshal(r.stdout.Bytes(), &sessionList); err != nil || sessionList.SchemaVersion != 1 || len(sessionList.Sessions) != 1 || sessionList.Sessions[0].Calls != 4 {
		t.Fatalf("sessions --json: %v %v %+v\n%s", r.err, err, sessionList, r.stdout.String())
	}
	sessionID := sessionList.Sessions[0].ID

	r = run(callsCommand(), "--session", sessionID[:10])
	for _, want := range []string{"Session " + sessionID, "c4", "/v2/userinfo", "browser", "302"} {
		if !strings.Contains(r.stdout.String(), want) {
			t.Errorf("calls output lacks %q:\n%s", want, r.stdout.String())
		}
	}
	r = run(callsCommand(), "--json")
	var calls struct{ Calls []recorder.Summary }
	if err := json.Unmarshal(r.stdout.Bytes(), &calls); err != nil || len(calls.Calls) != 4 || calls.Calls[3].Status != 200 {
		t.Fatalf("calls --json: %v %+v", err, calls)
	}

	r = run(exportCommand(), "curl", "4")
	if r.err != nil || !strings.Contains(r.stdout.String(), `"$ACCESS_TOKEN"`) {
		t.Errorf("export curl: %v\n%s", r.err, r.stdout.String())
	}
	harPath := filepath.Join(t.TempDir(), "calls.har")
	r = run(exportCommand(), "har", "-o", harPath)
	har, err := os.ReadFile(harPath)
	if r.err != nil || err != nil || !json.Valid(har) {
		t.Fatalf("export har: %v %v", r.err, err)
	}
	bundlePath := filepath.Join(t.TempDir(), "ticket.zip")
	r = run(bundleCommand(), "-o", bundlePath)
	if r.err != nil || !strings.Contains(r.stdout.String(), "Wrote "+bundlePath) {
		t.Fatalf("bundle: %v\n%s", r.err, r.stdout.String())
	}
	files := map[string][]byte{"calls.har": har}
	zr, err := zip.OpenReader(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		files["bundle/"+f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	zr.Close()
	if len(files) != 7 {
		t.Errorf("bundle holds %d files", len(files)-1)
	}
	// The command's summary and report.md list the redactions the same way.
	_, listed, ok := strings.Cut(r.stdout.String(), "Redacted: ")
	listed, _, _ = strings.Cut(listed, ". Review report.md")
	if !ok || !strings.Contains(listed, "client_secret ×1") || !strings.Contains(string(files["bundle/report.md"]), "Redacted here: "+listed+".") {
		t.Errorf("redactions listed as %q; report.md:\n%s", listed, files["bundle/report.md"])
	}

	// A new process does not know the token; the error says how to fix that.
	r = run(replayCommand(), "c4")
	var missing *recorder.MissingSecretsError
	if !errors.As(r.err, &missing) || !strings.Contains(r.err.Error(), "--fresh-token") {
		t.Errorf("replay without the token: %v", r.err)
	}
	srv.SetScenario(sandbox.Flaky) // the next API call answers 503, the one after 200
	vars["OAUTHDIAG_ACCESS_TOKEN"] = secrets["access_token"]
	r = run(replayCommand(), "4", "--fresh-token", "--set-header", "X-Trace=cli-test")
	out := r.stdout.String()
	if r.err != nil || !strings.Contains(out, "attempt 1  503 Service Unavailable") || !strings.Contains(out, "attempt 2  200 OK") || !strings.Contains(out, "original c4") {
		t.Fatalf("replay --fresh-token: %v\n%s%s", r.err, out, r.stderr.String())
	}
	r = run(replayCommand(), "--json", "--fresh-token", "c4")
	var res recorder.ReplayResult
	if err := json.Unmarshal(r.stdout.Bytes(), &res); err != nil || res.Original.ID != "c4" || len(res.Attempts) == 0 {
		t.Fatalf("replay --json: %v %s", err, r.stdout.String())
	}
	r = run(callsCommand())
	if !strings.Contains(r.stdout.String(), "replay of c4 #2") {
		t.Errorf("the replay attempts are not listed as linked calls:\n%s", r.stdout.String())
	}

	for i, o := range outputs {
		files["stdout "+strconv.Itoa(i)] = o.stdout.Bytes()
		files["stderr "+strconv.Itoa(i)] = o.stderr.Bytes()
		if o.err != nil {
			files["error "+strconv.Itoa(i)] = []byte(o.err.Error())
		}
	}
	logs, _ := filepath.Glob(filepath.Join(home, "state", "sessions", "*.log"))
	for _, l := range logs {
		files[l], _ = os.ReadFile(l)
	}
	for where, data := range files {
		for kind, v := range secrets {
			if v != "" && bytes.Contains(data, []byte(v)) {
				t.Errorf("%s contains the raw %s", where, kind)
			}
		}
	}
}

func TestRecordCommandsRejectBadInput(t *testing.T) {
	vars := map[string]string{"OAUTHDIAG_HOME": t.TempDir()}
	tests := []struct {
		c     command
		args  []string
		usage bool
		want  string
	}{
		{replayCommand(), nil, true, "one call id"},
		{replayCommand(), []string{"seven"}, true, "not a call id"},
		{replayCommand(), []string{"7", "--set-header", "novalue"}, true, "K=V"},
		{replayCommand(), []string{"7", "--url", "/relative"}, true, "absolute URL"},
		{exportCommand(), nil, true, "needs a format"},
		{exportCommand(), []string{"pdf"}, true, `unknown command "pdf" for "oauthdiag export"`},
		{exportCommand(), []string{"har"}, true, "-o FILE.har"},
		{callsCommand(), []string{"extra"}, true, "unexpected argument"},
		{callsCommand(), nil, false, "oauthdiag flow"},
		{bundleCommand(), []string{"--session", "nope"}, true, "oauthdiag sessions"},
	}
	for _, tt := range tests {
		r := runRecordCommand(t, tt.c, vars, tt.args...)
		var ue *usageError
		if r.err == nil || errors.As(r.err, &ue) != tt.usage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%s %v: error %v (usage error: %v), want one mentioning %q", tt.c.name, tt.args, r.err, errors.As(r.err, &ue), tt.want)
		}
	}
	r := runRecordCommand(t, sessionsCommand(), vars)
	if r.err != nil || !strings.Contains(r.stdout.String(), "No recorded sessions") {
		t.Errorf("sessions on an empty store: %v %q", r.err, r.stdout.String())
	}
}

// Every missing secret is named; each fix is given once, however many secrets it covers.
func TestMissingSecretsHelpGivesEachFixOnce(t *testing.T) {
	m := &recorder.MissingSecretsError{CallID: "c7", Missing: []recorder.SecretRef{
		{Kind: recorder.KindAccessToken, Fingerprint: "sha256:aaaa"},
		{Kind: recorder.KindCode, Fingerprint: "sha256:bbbb"},
		{Kind: recorder.KindAccessToken, Fingerprint: "sha256:cccc"},
		{Kind: recorder.KindRefreshToken, Fingerprint: "sha256:dddd"},
		{Kind: recorder.KindCode, Fingerprint: "sha256:eeee"},
		{Kind: recorder.KindRefreshToken, Fingerprint: "sha256:dddd"},
	}}
	err := missingSecretsHelp(m)
	var missing *recorder.MissingSecretsError
	if !errors.As(err, &missing) || missing != m {
		t.Fatalf("%v does not wrap the MissingSecretsError", err)
	}
	msg := err.Error()
	for _, fp := range []string{"sha256:aaaa", "sha256:bbbb", "sha256:cccc", "sha256:dddd", "sha256:eeee"} {
		if !strings.Contains(msg, fp) {
			t.Errorf("the message does not name %s:\n%s", fp, msg)
		}
	}
	_, fixes, _ := strings.Cut(msg, "; to fix: ")
	for fix, want := range map[string]int{
		"run with --fresh-token":                1,
		"an authorization code works only once": 1,
		"set OAUTHDIAG_REFRESH_TOKEN to the refresh_token with fingerprint sha256:dddd": 1,
	} {
		if n := strings.Count(fixes, fix); n != want {
			t.Errorf("the fix %q is given %d times, want %d:\n%s", fix, n, want, fixes)
		}
	}
}
