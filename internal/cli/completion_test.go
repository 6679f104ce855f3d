package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recordedHome is an OAUTHDIAG_HOME with one profile and one recorded session, and its id.
func recordedHome(t *testing.T) (vars map[string]string, sessionID string) {
	t.Helper()
	home := t.TempDir()
	vars = map[string]string{"OAUTHDIAG_HOME": home}
	add := runIn(t.Context(), vars, "profiles", "add", "corp", "--issuer", "https://login.example.com", "--client-id", "diag", "--secret", "prompt")
	if add.code != 0 {
		t.Fatalf("profiles add: %s", add)
	}
	flow := runIn(t.Context(), vars, "flow", "--sandbox", "happy", "--json")
	var doc struct {
		Session string `json:"session"`
	}
	if err := json.Unmarshal([]byte(flow.stdout), &doc); flow.code != 0 || err != nil || doc.Session == "" {
		t.Fatalf("flow --sandbox happy: %v %s", err, flow)
	}
	return vars, doc.Session
}

// completions asks the command line what it offers after args (cobra's __complete entry point,
// which every generated shell script calls).
func completions(t *testing.T, vars map[string]string, args ...string) []string {
	t.Helper()
	r := runIn(t.Context(), vars, append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %v: %s", args, r)
	}
	var values []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if strings.HasPrefix(line, ":") { // the directive
			continue
		}
		v, _, _ := strings.Cut(line, "\t")
		values = append(values, v)
	}
	return values
}

// TestCompletionOffersWhatExists: session ids, call ids and profile names come from the real
// state; scenarios and presets from the code.
func TestCompletionOffersWhatExists(t *testing.T) {
	vars, session := recordedHome(t)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"calls", "--session", ""}, []string{session, "latest"}},
		{[]string{"bundle", "--session", ""}, []string{session}},
		{[]string{"call", "--profile", ""}, []string{"corp"}},
		{[]string{"profiles", "set-secret", ""}, []string{"corp"}},
		{[]string{"replay", ""}, []string{"c1", "c2"}},
		{[]string{"export", "curl", "--session", session, ""}, []string{"c1"}},
		{[]string{"flow", "--sandbox", ""}, []string{"happy", "server-error", "rate-limited"}},
		{[]string{"demo", "--scenario", ""}, []string{"expired-token"}},
		{[]string{"flow", "--provider", ""}, []string{"linkedin"}},
		{[]string{"fl"}, []string{"flow"}},
	}
	for _, tc := range cases {
		got := completions(t, vars, tc.args...)
		for _, w := range tc.want {
			if !contains(got, w) {
				t.Errorf("completing %q offers %v, not %q", tc.args, got, w)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// buildBinary builds oauthdiag with its VCS stamp into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	bin := filepath.Join(t.TempDir(), "oauthdiag")
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, "../..")
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building oauthdiag: %v\n%s", err, out)
	}
	return bin
}

// TestBashCompletesRecordedSessions types `oauthdiag calls --session ` into an interactive bash
// (in tmux) that sourced the generated script, presses TAB twice, and reads the offers.
func TestBashCompletesRecordedSessions(t *testing.T) {
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	requireTmux(t, bashCompletion)
	bin := buildBinary(t)
	vars, session := recordedHome(t)
	tm := startTmux(t, filepath.Dir(bin), vars["OAUTHDIAG_HOME"])
	tm.sendLiteral(`export PATH="$PWD:$PATH"; source ` + bashCompletion + `; source <(oauthdiag completion bash); clear`)
	tm.sendKey("Enter")
	tm.sendLiteral("oauthdiag calls --session ")
	tm.sendKey("Tab")
	tm.sendKey("Tab")
	tm.waitUntil("the recorded session offered", 10*time.Second, func(scr string) bool {
		return strings.Contains(scr, session) && strings.Contains(scr, "latest")
	})
}

// TestVersionNamesTheBuild: a binary built from a checkout reports the module path, a version
// and the revision it was built from, and sends that version as its User-Agent.
func TestVersionNamesTheBuild(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("oauthdiag version --json: %v", err)
	}
	var v struct {
		SchemaVersion int    `json:"schema_version"`
		Module        string `json:"module"`
		Version       string `json:"version"`
		Revision      string `json:"revision"`
		GoVersion     string `json:"go_version"`
		Platform      string `json:"platform"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if v.Module != "github.com/oauthdiag/oauthdiag" || v.Version == "" || v.GoVersion == "" || v.Platform == "" {
		t.Errorf("version --json = %+v", v)
	}
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		if want := strings.TrimSpace(string(head)); v.Revision != want {
			t.Errorf("revision %q, want the checkout's HEAD %s", v.Revision, want)
		}
	}
	line, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(line), "oauthdiag "+v.Version) {
		t.Errorf("oauthdiag --version = %q (%v), want it to start with %q", line, err, "oauthdiag "+v.Version)
	}
}

// TestRequestsNameOauthdiag: every request carries User-Agent oauthdiag/VERSION, and the
// recorded request (what the HAR and the bundle show) is the one sent.
func TestRequestsNameOauthdiag(t *testing.T) {
	vars, _ := recordedHome(t)
	har := runIn(t.Context(), vars, "export", "har", "-o", "-")
	if har.code != 0 {
		t.Fatalf("export har: %s", har)
	}
	var doc struct {
		Log struct {
			Creator struct {
				Version string `json:"version"`
			} `json:"creator"`
			Entries []struct {
				Request struct {
					URL     string `json:"url"`
					Headers []struct {
						Name, Value string
					} `json:"headers"`
				} `json:"request"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal([]byte(har.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	want := userAgent()
	if strings.ContainsAny(want, "() ") {
		t.Fatalf("User-Agent %q is not a product token", want)
	}
	if doc.Log.Creator.Version != toolVersion() || doc.Log.Creator.Version == "0.1.0" {
		t.Errorf("HAR creator version %q, want %q", doc.Log.Creator.Version, toolVersion())
	}
	sent := 0
	for _, e := range doc.Log.Entries {
		for _, h := range e.Request.Headers {
			if strings.EqualFold(h.Name, "User-Agent") {
				sent++
				if h.Value != want {
					t.Errorf("%s sent User-Agent %q, want %q", e.Request.URL, h.Value, want)
				}
			}
		}
	}
	if sent < 5 {
		t.Errorf("only %d of %d recorded requests carry a User-Agent", sent, len(doc.Log.Entries))
	}
}
