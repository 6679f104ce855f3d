package recorder

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/oauthdiag/oauthdiag/sandbox"
)

// harSession records a flow against the sandbox plus the awkward cases: a transport
// failure, a binary body, a truncated body and an early server error.
func harSession(t *testing.T) *Session {
	t.Helper()
	srv := canarySandbox(t, sandbox.Happy)
	s := startSession(t, openStore(t, WithBodyLimit(4096)))
	runFlow(t, s, srv.BaseURL())

	odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/binary":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte{0x89, 'P', 'N', 'G', 0xff, 0x00})
		case "/big":
			w.Write(bytes.Repeat([]byte("z"), 10000))
		default:
			w.Header().Set("X-Li-Uuid", "AAYJ4F2GbW2hN6d5TfXXXQ==")
			http.Error(w, `{"message":"Internal Server Error","status":500}`, http.StatusInternalServerError)
		}
	}))
	defer odd.Close()
	client := &http.Client{Transport: s.Transport(nil)}
	for _, p := range []string{"/binary", "/big", "/v2/me"} {
		resp, err := client.Get(odd.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if _, err := client.Post("http://"+addr+"/oauth/v2/accessToken", "application/x-www-form-urlencoded", bytes.NewBufferString("grant_type=client_credentials")); err == nil {
		t.Fatal("a call to a closed port succeeded")
	}
	return s
}

func exportHAR(t *testing.T, s *Session) []byte {
	t.Helper()
	var entries []Entry
	if err := s.Each(func(e Entry) error { entries = append(entries, e); return nil }); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHAR(&buf, entries, Creator{Name: "oauthdiag", Version: "test"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHARHasWhatViewersNeed checks the export against the HAR 1.2 rules that Chrome
// DevTools and HAR viewers rely on, independently of our own structs.
func TestHARHasWhatViewersNeed(t *testing.T) {
	s := harSession(t)
	var doc struct {
		Log struct {
			Version string           `json:"version"`
			Creator map[string]any   `json:"creator"`
			Entries []map[string]any `json:"entries"`
		} `json:"log"`
	}
	data := exportHAR(t, s)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("HAR is not JSON: %v", err)
	}
	if doc.Log.Version != "1.2" || doc.Log.Creator["name"] != "oauthdiag" {
		t.Errorf("log version %q creator %v", doc.Log.Version, doc.Log.Creator)
	}
	observed := 0
	for _, sum := range s.Entries() {
		if sum.Kind == KindObserved {
			observed++
		}
	}
	if want := len(s.Entries()) - observed; len(doc.Log.Entries) != want {
		t.Fatalf("%d HAR entries, want %d (every HTTP call, no observed browser legs)", len(doc.Log.Entries), want)
	}
	isNumber := func(v any) bool { _, ok := v.(float64); return ok }
	var sawFailure, sawBase64, sawTruncated bool
	for i, e := range doc.Log.Entries {
		for _, k := range []string{"startedDateTime", "time", "request", "response", "cache", "timings"} {
			if _, ok := e[k]; !ok {
				t.Fatalf("entry %d lacks %s", i, k)
			}
		}
		req, resp, timings := e["request"].(map[string]any), e["response"].(map[string]any), e["timings"].(map[string]any)
		for _, k := range []string{"headersSize", "bodySize"} {
			if !isNumber(req[k]) || !isNumber(resp[k]) {
				t.Errorf("entry %d: %s is not a number", i, k)
			}
		}
		var sum float64
		for _, k := range []string{"blocked", "dns", "connect", "ssl", "send", "wait", "receive"} {
			v, ok := timings[k].(float64)
			if !ok || v < -1 {
				t.Errorf("entry %d: timings.%s = %v", i, k, timings[k])
			}
			if v > 0 {
				sum += v
			}
		}
		if total := e["time"].(float64); total < sum-0.01 || total > sum+0.01 {
			t.Errorf("entry %d: time %v is not the sum of its timings %v", i, total, sum)
		}
		content := resp["content"].(map[string]any)
		if !isNumber(content["size"]) || content["mimeType"] == nil {
			t.Errorf("entry %d: content %v", i, content)
		}
		if resp["status"].(float64) == 0 {
			sawFailure = true
			if e["_error"] == nil || resp["_error"] == nil {
				t.Errorf("entry %d: a transport failure without _error", i)
			}
		}
		if content["encoding"] == "base64" {
			sawBase64 = true
		}
		if content["_truncated"] == true {
			sawTruncated = true
		}
	}
	if !sawFailure || !sawBase64 || !sawTruncated {
		t.Errorf("cases not exported: failure %v, base64 %v, truncated %v", sawFailure, sawBase64, sawTruncated)
	}
}

// TestHARValidatesAgainstSchema runs the npm har-validator package (the HAR 1.2 JSON
// schema) over an export. CI installs it with
// `npm install --prefix "$HAR_VALIDATOR_DIR" har-validator`.
// CI sets OAUTHDIAG_REQUIRE_HAR_VALIDATOR=1, turning the skip into a failure.
func TestHARValidatesAgainstSchema(t *testing.T) {
	skip := t.Skip
	if os.Getenv("OAUTHDIAG_REQUIRE_HAR_VALIDATOR") != "" {
		skip = t.Fatal
	}
	dir := os.Getenv("HAR_VALIDATOR_DIR")
	if dir == "" {
		skip("HAR_VALIDATOR_DIR is not set: install the validator with `npm install --prefix DIR har-validator` and set HAR_VALIDATOR_DIR=DIR")
		return
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "har-validator")); err != nil {
		skip("HAR_VALIDATOR_DIR=" + dir + " has no node_modules/har-validator: run `npm install --prefix " + dir + " har-validator`")
		return
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not installed; the HAR schema check needs Node.js and the har-validator package")
		return
	}
	file := filepath.Join(t.TempDir(), "calls.har")
	if err := os.WriteFile(file, exportHAR(t, harSession(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
const path = require('path'), fs = require('fs');
const validate = require(path.join(process.argv[1], 'node_modules', 'har-validator'));
validate.har(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')))
  .then(() => console.log('valid'))
  .catch(e => { console.error(JSON.stringify(e.errors || e.message, null, 2)); process.exit(1); });`
	out, err := exec.Command(node, "-e", script, dir, file).CombinedOutput()
	if err != nil {
		t.Fatalf("har-validator rejected the export: %v\n%s", err, out)
	}
}
