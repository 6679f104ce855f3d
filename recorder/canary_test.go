package recorder

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/sandbox"
)

// TestCanaryNeverReachesOutput records a whole flow against the sandbox and checks that
// no secret it handled appears in any byte of the log, the HAR, the curl commands, the
// bundle or the live summaries, while their fingerprints do, so mentions can be matched.
func TestCanaryNeverReachesOutput(t *testing.T) {
	srv := canarySandbox(t, sandbox.Happy)
	st := openStore(t)
	s := startSession(t, st)
	secrets := runFlow(t, s, srv.BaseURL()).all()
	if secrets["refresh_token"] == "" {
		t.Fatal("the sandbox issued no refresh token; the refresh leg was not exercised")
	}

	logBytes, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, "session log", logBytes, secrets)
	for kind, v := range secrets {
		if !bytes.Contains(logBytes, []byte(Fingerprint(v))) {
			t.Errorf("session log lacks the fingerprint of the %s, so its mentions cannot be matched", kind)
		}
	}

	// Read back in a fresh store, as another process would.
	st2, err := Open(st.Dir())
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := st2.Load("latest")
	if err != nil {
		t.Fatal(err)
	}
	// A later process knows the secrets in its configuration and token store, and
	// registers them so that free text (a diagnosis quoting a token) is caught too.
	for kind, v := range secrets {
		loaded.Redactor().AddSecret(kind, v)
	}
	var entries []Entry
	if err := loaded.Each(func(e Entry) error { entries = append(entries, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(s.Entries()) {
		t.Fatalf("loaded %d calls, recorded %d", len(entries), len(s.Entries()))
	}

	var har bytes.Buffer
	if err := WriteHAR(&har, entries, Creator{Name: "oauthdiag", Version: "test"}); err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, "HAR", har.Bytes(), secrets)

	var curls strings.Builder
	for _, e := range entries {
		curls.WriteString(Curl(e))
	}
	assertNoCanary(t, "curl commands", []byte(curls.String()), secrets)
	for _, v := range []string{"$ACCESS_TOKEN", "$CLIENT_SECRET", "$CODE", "$CODE_VERIFIER", "$REFRESH_TOKEN"} {
		if !strings.Contains(curls.String(), v) {
			t.Errorf("curl commands lack the %s placeholder", v)
		}
	}

	summaries, _ := json.Marshal(s.Entries())
	assertNoCanary(t, "live summaries", summaries, secrets)

	// The fingerprints tie mentions together: the code in the observed redirect is the
	// code the exchange sent, and the userinfo call's reference names the access token.
	var redirect, exchange, userinfo Entry
	for _, e := range entries {
		switch e.Step {
		case "callback":
			redirect = e
		case "exchange":
			exchange = e
		case "userinfo":
			userinfo = e
		}
	}
	codeFP := Fingerprint(secrets["code"])
	if !strings.Contains(redirect.Request.URL, codeFP) || exchange.SecretRefs[KindCode] != codeFP {
		t.Errorf("code fingerprint %s not matched between redirect %q and exchange refs %v", codeFP, redirect.Request.URL, exchange.SecretRefs)
	}
	if got := userinfo.SecretRefs[KindAccessToken]; got != Fingerprint(secrets["access_token"]) {
		t.Errorf("userinfo SecretRefs[access_token] = %q, want the access token's fingerprint", got)
	}
}
