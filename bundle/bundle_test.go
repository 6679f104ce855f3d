package bundle_test

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/oauthdiag/oauthdiag/browser"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/bundle"
	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// Canary values: the client secret is one only the test knows; none may reach a byte of a bundle.
const (
	canaryClientID     = "canary-client"
	canaryClientSecret = "CANARY-client-secret-5f0c1e"
)

// recordedFlow is a flow run against the sandbox through a recording session, stored with its
// session as `oauthdiag flow` stores it.
type recordedFlow struct {
	sb      *sandbox.Server
	session *recorder.Session
	result  *oauthflow.FlowResult
	cfg     oauthflow.Config
	diags   []inspector.Diagnosis
}

func recordFlow(t *testing.T, sc sandbox.Scenario) recordedFlow {
	t.Helper()
	sb := testkit.StartSandbox(t, sandbox.WithScenario(sc), sandbox.WithAutoConsent(true),
		sandbox.WithClient(canaryClientID, canaryClientSecret, sandbox.DefaultRedirectURI))
	base := sb.BaseURL()
	st, err := recorder.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.NewSession(recorder.SessionMeta{Provider: "linkedin", ClientID: canaryClientID, RedirectURI: sandbox.DefaultRedirectURI,
		Scopes: []string{"openid", "profile", "email"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Redactor().AddSecret(recorder.KindClientSecret, canaryClientSecret)
	p := oauthflow.LinkedInAt(base, base)
	cfg := oauthflow.Config{Provider: p, Client: oauthflow.Client{ID: canaryClientID, Secret: canaryClientSecret,
		RedirectURI: sandbox.DefaultRedirectURI, PKCE: true}}
	r := oauthflow.NewRunner(cfg, oauthflow.WithHTTPClient(&http.Client{Timeout: 10 * time.Second, Transport: s.Transport(nil)}))
	fr := r.RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: sb.Issuer(), DiscoveryURL: p.DiscoveryURL,
		Browser: &browser.Headless{},
		Observe: func(step, leg, u string) httplog.Exchange { return s.Observe(step, leg, u, "").Exchange }})
	diags := inspector.DiagnoseFlow(fr, r.Config(), nil, time.Now())
	if err := bundle.SaveFlow(s, fr, r.Config(), diags); err != nil {
		t.Fatal(err)
	}
	return recordedFlow{sb: sb, session: s, result: fr, cfg: r.Config(), diags: diags}
}

// secrets are every secret value the flow handled.
func (f recordedFlow) secrets() map[string]string {
	m := map[string]string{"client_secret": canaryClientSecret}
	if ar := f.result.AuthRequest; ar != nil {
		m["code_verifier"], m["state"] = ar.Verifier, ar.State
	}
	if cb := f.result.Callback; cb != nil {
		m["code"] = cb.Code
	}
	for _, tok := range []*oauthflow.Token{f.result.Token, f.result.CurrentToken()} {
		if tok != nil {
			m["access_token"], m["refresh_token"], m["id_token"] = tok.AccessToken, tok.RefreshToken, tok.IDToken
		}
	}
	return m
}

func readZip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	return files
}

func assertNoSecret(t *testing.T, where string, data []byte, secrets map[string]string) {
	t.Helper()
	for kind, v := range secrets {
		if len(v) < 6 {
			continue
		}
		if strings.Contains(string(data), v) {
			t.Errorf("%s contains the raw %s", where, kind)
		}
		if esc := url.QueryEscape(v); esc != v && strings.Contains(string(data), esc) {
			t.Errorf("%s contains the URL-escaped %s", where, kind)
		}
	}
}

// failedCall is the session's first failed call.
func failedCall(t *testing.T, s *recorder.Session) recorder.Entry {
	t.Helper()
	s.Flush()
	for _, sum := range s.Entries() {
		if sum.Failed {
			e, err := s.Entry(sum.ID)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	}
	t.Fatal("the session has no failed call")
	return recorder.Entry{}
}

// TestBundleForASupportTicket: after a flow meets LinkedIn's 500, the bundle holds what LinkedIn's
// support asks for, the flow's diagnosis filed under the failed call, matching hashes, no secret.
func TestBundleForASupportTicket(t *testing.T) {
	f := recordFlow(t, sandbox.ServerError)
	failed := failedCall(t, f.session)
	if failed.Step != oauthflow.StepUserinfo || failed.Status() != 500 {
		t.Fatalf("the failed call is %s %d, want userinfo 500", failed.Step, failed.Status())
	}
	path := filepath.Join(t.TempDir(), "ticket.zip")
	sum, err := bundle.Write(path, f.session, bundle.Options{ToolVersion: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	files := readZip(t, path)
	for _, name := range []string{"report.md", "calls.har", "config.json", "diagnosis.json", "environment.json", "manifest.json"} {
		if len(files[name]) == 0 {
			t.Errorf("bundle lacks %s", name)
		}
		assertNoSecret(t, "bundle "+name, files[name], f.secrets())
	}

	var manifest struct {
		Files []bundle.File `json:"files"`
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest.Files) != len(files)-1 {
		t.Errorf("manifest lists %d files, the zip holds %d besides it", len(manifest.Files), len(files)-1)
	}
	for _, mf := range manifest.Files {
		h := sha256.Sum256(files[mf.Name])
		if got := hex.EncodeToString(h[:]); got != mf.SHA256 || int64(len(files[mf.Name])) != mf.Size {
			t.Errorf("%s: manifest says %s (%d bytes), content hashes to %s (%d bytes)", mf.Name, mf.SHA256, mf.Size, got, len(files[mf.Name]))
		}
	}

	report := string(files["report.md"])
	for _, want := range []string{
		"Client ID | `" + canaryClientID + "`",
		"### " + failed.ID + ": GET " + f.sb.BaseURL() + "/v2/userinfo → 500 Internal Server Error",
		"Authorization: Bearer [redacted:access_token:" + recorder.Fingerprint(f.secrets()["access_token"]) + "]",
		"x-li-uuid: " + failed.Response.Header.Get("X-Li-Uuid"),
		"x-li-fabric: " + failed.Response.Header.Get("X-Li-Fabric"),
		"x-li-request-id: " + failed.Response.Header.Get("X-Li-Request-Id"),
		failed.Started.UTC().Format("2006-01-02 15:04:05.000 UTC"),
		inspector.CodeProviderOutage,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}

	var config map[string]any
	json.Unmarshal(files["config.json"], &config)
	if config["client_id"] != canaryClientID || config["redirect_uri"] != sandbox.DefaultRedirectURI || config["provider"] != "linkedin" {
		t.Errorf("config.json = %s", files["config.json"])
	}
	var env map[string]any
	json.Unmarshal(files["environment.json"], &env)
	skew, _ := env["clock_skew"].(map[string]any)
	if env["tool_version"] != "1.2.3" || env["go_version"] == nil || env["os"] == nil || skew == nil || skew["samples"].(float64) < 1 {
		t.Errorf("environment.json = %s", files["environment.json"])
	}
	var diag []inspector.Diagnosis
	json.Unmarshal(files["diagnosis.json"], &diag)
	if len(diag) == 0 || diag[0].CallID != failed.ID || diag[0].Code != inspector.CodeProviderOutage || diag[0].Code != f.diags[0].Code {
		t.Errorf("diagnosis.json does not lead with the flow's diagnosis of %s: %s", failed.ID, files["diagnosis.json"])
	}

	if len(sum.Failed) != 1 || sum.Failed[0].ID != failed.ID || sum.Calls != len(f.session.Entries()) {
		t.Errorf("summary: %d calls, failed %+v", sum.Calls, sum.Failed)
	}
	for _, kind := range []string{recorder.KindClientSecret, recorder.KindAccessToken, recorder.KindCode, recorder.KindCodeVerifier, recorder.KindIDToken} {
		if sum.Redactions[kind] < 1 {
			t.Errorf("summary counts no redacted %s: %v", kind, sum.Redactions)
		}
	}
	if sum.Redactions[recorder.KindClientSecret] != 1 {
		t.Errorf("one client secret mentioned many times counts %d times", sum.Redactions[recorder.KindClientSecret])
	}
}

// TestEachCallKeepsItsOwnDiagnosis: a flow fails on a 500; the call is replayed once the provider
// answers 401 instead. The bundle files the outage under the original call, with that call's
// x-li-uuid, and the replay's own diagnosis under the replay, with the replay's x-li-uuid: the
// replay inherits nothing from its original.
func TestEachCallKeepsItsOwnDiagnosis(t *testing.T) {
	f := recordFlow(t, sandbox.ServerError)
	orig := failedCall(t, f.session)
	f.sb.SetScenario(sandbox.ExpiredToken)
	rp := &recorder.Replayer{Client: &http.Client{Timeout: 10 * time.Second}}
	res, err := rp.Replay(context.Background(), f.session, orig.ID, recorder.Edit{})
	if err != nil {
		t.Fatal(err)
	}
	replay := res.Last()
	if replay.Status() != http.StatusUnauthorized || replay.ReplayOf != orig.ID {
		t.Fatalf("the replay answered %d (replay of %q), want 401 of %s", replay.Status(), replay.ReplayOf, orig.ID)
	}
	origUUID, replayUUID := orig.Response.Header.Get("X-Li-Uuid"), replay.Response.Header.Get("X-Li-Uuid")
	if origUUID == "" || origUUID == replayUUID {
		t.Fatalf("the sandbox must give each answer its own x-li-uuid: %q, %q", origUUID, replayUUID)
	}

	byCall := map[string][]inspector.Diagnosis{}
	for _, d := range bundle.Diagnoses(f.session, time.Now()) {
		byCall[d.CallID] = append(byCall[d.CallID], d)
	}
	codes := func(ds []inspector.Diagnosis) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Code)
		}
		return out
	}
	evidence := func(ds []inspector.Diagnosis) string {
		var all []string
		for _, d := range ds {
			all = append(all, d.Evidence...)
		}
		return strings.Join(all, "\n")
	}
	if got := codes(byCall[orig.ID]); !slices.Contains(got, inspector.CodeProviderOutage) {
		t.Errorf("the original %s is diagnosed %v, want %s", orig.ID, got, inspector.CodeProviderOutage)
	}
	if got := codes(byCall[replay.ID]); len(got) == 0 || slices.Contains(got, inspector.CodeProviderOutage) ||
		!slices.Contains(got, inspector.CodeAccessTokenExpired) {
		t.Errorf("the replay %s is diagnosed %v, want its own %s and not the original's outage", replay.ID, got, inspector.CodeAccessTokenExpired)
	}
	if ev := evidence(byCall[orig.ID]); !strings.Contains(ev, origUUID) || strings.Contains(ev, replayUUID) {
		t.Errorf("the original's evidence must quote its own x-li-uuid %s and not the replay's:\n%s", origUUID, ev)
	}
	if ev := evidence(byCall[replay.ID]); strings.Contains(ev, origUUID) {
		t.Errorf("the replay's evidence quotes the original's x-li-uuid %s:\n%s", origUUID, ev)
	}

	path := filepath.Join(t.TempDir(), "ticket.zip")
	if _, err := bundle.Write(path, f.session, bundle.Options{ToolVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	report := string(readZip(t, path)["report.md"])
	for _, id := range []string{orig.ID, replay.ID} {
		if !strings.Contains(report, "### "+id+": ") {
			t.Errorf("report.md has no section for %s", id)
		}
	}
	// Each call's section carries its own ids.
	origSection := report[strings.Index(report, "### "+orig.ID+": "):]
	origSection = origSection[:strings.Index(origSection[4:], "### ")+4]
	if !strings.Contains(origSection, "x-li-uuid: "+origUUID) || strings.Contains(origSection, replayUUID) {
		t.Errorf("the original's section does not carry its own x-li-uuid:\n%s", origSection)
	}
}

// TestBundleOfASessionWithoutAFlow: a session that only made calls (`oauthdiag call`) is diagnosed
// from its metadata, each failed call on its own.
func TestBundleOfASessionWithoutAFlow(t *testing.T) {
	base := testkit.StartSandbox(t, sandbox.WithScenario(sandbox.ServerError)).BaseURL()
	st, _ := recorder.Open(t.TempDir())
	s, err := st.NewSession(recorder.SessionMeta{Provider: "linkedin", ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{Transport: s.Transport(nil)}
	for range 2 {
		req, _ := http.NewRequestWithContext(httplog.WithStep(t.Context(), oauthflow.StepAPICall), "GET", base+"/v2/userinfo", nil)
		req.Header.Set("Authorization", "Bearer some-token-value")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	got := map[string]string{}
	for _, d := range bundle.Diagnoses(s, time.Now()) {
		got[d.CallID] = d.Code
	}
	if got["c1"] == "" || got["c2"] == "" {
		t.Errorf("each failed call needs its own diagnosis: %v", got)
	}
}

// TestBundleWriteIsAtomic makes the export fail half-way and checks that neither a
// half-written bundle nor a temporary file is left, and an older bundle survives.
func TestBundleWriteIsAtomic(t *testing.T) {
	st, _ := recorder.Open(t.TempDir())
	s, err := st.NewSession(recorder.SessionMeta{Provider: "linkedin"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "ticket.zip")
	if err := os.WriteFile(path, []byte("previous bundle"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = bundle.Write(path, s, bundle.Options{Config: map[string]any{"bad": make(chan int)}})
	var unsupported *json.UnsupportedTypeError
	if !errors.As(err, &unsupported) {
		t.Fatalf("Write with an unencodable config: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left behind: %v", entries)
	}
	if b, _ := os.ReadFile(path); string(b) != "previous bundle" {
		t.Errorf("the earlier bundle was overwritten by a failed export: %q", b)
	}
}

func TestRedactionList(t *testing.T) {
	got := bundle.RedactionList(map[string]int{recorder.KindRefreshToken: 2, recorder.KindAccessToken: 1, recorder.KindClientSecret: 1})
	want := []string{"access_token ×1", "client_secret ×1", "refresh_token ×2"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := bundle.RedactionList(nil); len(got) != 0 {
		t.Errorf("nothing redacted lists %q", got)
	}
}
