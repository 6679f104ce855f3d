package recorder

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/sandbox"
)

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

// TestBundleForASupportTicket records a flow whose userinfo call meets LinkedIn's 500
// and checks the bundle has everything LinkedIn asks for, with matching hashes.
func TestBundleForASupportTicket(t *testing.T) {
	srv := startSandbox(t, sandbox.ServerError)
	s := startSession(t, openStore(t, WithStepFunc(stepFromContext)))
	secrets := runFlow(t, s, srv.BaseURL()).all()
	var failedID string
	for _, sum := range s.Entries() {
		if sum.Step == "userinfo" {
			failedID = sum.ID
		}
	}
	failed, err := s.Entry(failedID)
	if err != nil || failed.Status() != 500 {
		t.Fatalf("userinfo under server-error: %v, %v", failed.Status(), err)
	}

	path := filepath.Join(t.TempDir(), "ticket.zip")
	sum, err := WriteBundle(path, s, BundleInfo{ToolVersion: "1.2.3", Findings: []Finding{
		{CallID: failedID, Code: "linkedin.outage", Title: "LinkedIn answered 500", Fix: "retry later; if it persists, open a ticket with the x-li-uuid", Evidence: []string{"status 500"}},
		{Code: "session.note", Title: "one API call failed"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	files := readZip(t, path)
	for _, name := range []string{"report.md", "calls.har", "config.json", "diagnosis.json", "environment.json", "manifest.json"} {
		if len(files[name]) == 0 {
			t.Errorf("bundle lacks %s", name)
		}
	}

	var manifest struct {
		Files []BundleFile `json:"files"`
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest.Files) != len(files)-1 {
		t.Errorf("manifest lists %d files, the zip holds %d besides it", len(manifest.Files), len(files)-1)
	}
	for _, f := range manifest.Files {
		h := sha256.Sum256(files[f.Name])
		if got := hex.EncodeToString(h[:]); got != f.SHA256 || int64(len(files[f.Name])) != f.Size {
			t.Errorf("%s: manifest says %s (%d bytes), content hashes to %s (%d bytes)", f.Name, f.SHA256, f.Size, got, len(files[f.Name]))
		}
	}

	report := string(files["report.md"])
	for _, want := range []string{
		"Client ID | `" + canaryClientID + "`",
		"### " + failedID + ": GET " + srv.BaseURL() + "/v2/userinfo → 500 Internal Server Error",
		"Authorization: Bearer [redacted:access_token:" + Fingerprint(secrets["access_token"]) + "]",
		"x-li-uuid: " + failed.Response.Header.Get("X-Li-Uuid"),
		"x-li-fabric: " + failed.Response.Header.Get("X-Li-Fabric"),
		"x-li-request-id: " + failed.Response.Header.Get("X-Li-Request-Id"),
		failed.Started.UTC().Format(utcLayout),
		"LinkedIn answered 500", "retry later; if it persists",
		"one API call failed",
		`"status": 500`,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}

	var config map[string]any
	json.Unmarshal(files["config.json"], &config)
	if config["client_id"] != canaryClientID || config["redirect_uri"] != canaryRedirect || config["provider"] != "linkedin" {
		t.Errorf("config.json = %s", files["config.json"])
	}
	var env map[string]any
	json.Unmarshal(files["environment.json"], &env)
	skew, _ := env["clock_skew"].(map[string]any)
	if env["tool_version"] != "1.2.3" || env["go_version"] == nil || env["os"] == nil || skew == nil || skew["samples"].(float64) < 1 {
		t.Errorf("environment.json = %s", files["environment.json"])
	}
	var diag []Finding
	json.Unmarshal(files["diagnosis.json"], &diag)
	if len(diag) != 2 || diag[0].CallID != failedID {
		t.Errorf("diagnosis.json = %s", files["diagnosis.json"])
	}

	if len(sum.Failed) != 1 || sum.Failed[0].ID != failedID || sum.Calls != len(s.Entries()) {
		t.Errorf("summary: %d calls, failed %+v", sum.Calls, sum.Failed)
	}
	for _, kind := range []string{KindClientSecret, KindAccessToken, KindRefreshToken, KindCode, KindCodeVerifier, KindIDToken} {
		if sum.Redactions[kind] < 1 {
			t.Errorf("summary counts no redacted %s: %v", kind, sum.Redactions)
		}
	}
	if sum.Redactions[KindClientSecret] != 1 {
		t.Errorf("one client secret mentioned many times counts %d times", sum.Redactions[KindClientSecret])
	}
}

// TestBundleWriteIsAtomic makes the export fail half-way and checks that neither a
// half-written bundle nor a temporary file is left, and an older bundle survives.
func TestBundleWriteIsAtomic(t *testing.T) {
	s := startSession(t, openStore(t))
	dir := t.TempDir()
	path := filepath.Join(dir, "ticket.zip")
	if err := os.WriteFile(path, []byte("previous bundle"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := WriteBundle(path, s, BundleInfo{Config: map[string]any{"bad": make(chan int)}})
	var unsupported *json.UnsupportedTypeError
	if !errors.As(err, &unsupported) {
		t.Fatalf("WriteBundle with an unencodable config: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left behind: %v", entries)
	}
	if b, _ := os.ReadFile(path); string(b) != "previous bundle" {
		t.Errorf("the earlier bundle was overwritten by a failed export: %q", b)
	}
}
