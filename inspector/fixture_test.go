package inspector

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// Fixtures are real exchanges captured from the sandbox and the peer servers by
// TestCaptureFixtures (go test ./inspector -run TestCaptureFixtures -update-fixtures), secrets
// replaced by [redacted]. Each case states the diagnosis its evidence must yield.

const fixtureDir = "testdata/diagnosis"

// fixtureNow is the local clock the fixtures are diagnosed at.
var fixtureNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type fixtureFile struct {
	Source string        `json:"source"`
	Cases  []fixtureCase `json:"cases"`
}

type fixtureCase struct {
	Name      string `json:"name"`
	Want      string `json:"want"`
	BestGuess bool   `json:"best_guess"`
	Step      string `json:"step"`
	// Exchange is the step's last HTTP exchange.
	Exchange *fixtureExchange `json:"exchange,omitempty"`
	// ClientError is a failure the client detected itself (transport, format, validation...).
	ClientError *fixtureClientError `json:"client_error,omitempty"`
	// Page is where a browser leg stopped.
	Page *fixturePage `json:"page,omitempty"`
	// Redirect is an authorization response (its state is fixtureState unless forged).
	Redirect string         `json:"redirect,omitempty"`
	Context  fixtureContext `json:"context"`
}

type fixtureExchange struct {
	Request  fixtureRequest   `json:"request"`
	Response *fixtureResponse `json:"response,omitempty"`
	// ReceivedAt is when the answer arrived on the capturing machine's clock; with the Date
	// header it measures the clock skew.
	ReceivedAt time.Time `json:"received_at,omitzero"`
}

type fixtureRequest struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"header,omitempty"`
	Body   string      `json:"body,omitempty"`
}

type fixtureResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header,omitempty"`
	Body   string      `json:"body"`
}

type fixtureClientError struct {
	Kind        string `json:"kind"`
	Code        string `json:"code"`
	Description string `json:"description,omitempty"`
	Hint        string `json:"hint,omitempty"`
	Status      int    `json:"status,omitempty"`
}

type fixturePage struct {
	Status int    `json:"status"`
	URL    string `json:"url"`
	Text   string `json:"text"`
	Reason int    `json:"reason"`
}

// fixtureContext is what the client knew: configuration, authorization request and token.
type fixtureContext struct {
	Provider         string   `json:"provider"`
	ConfiguredIssuer string   `json:"configured_issuer,omitempty"`
	ClaimedIssuer    string   `json:"claimed_issuer,omitempty"`
	RedirectURI      string   `json:"redirect_uri,omitempty"` // of the authorization request
	PKCE             bool     `json:"pkce"`
	Scopes           []string `json:"scopes,omitempty"` // requested
	// CodeAge is how long after the code arrived it was exchanged (Go duration).
	CodeAge string        `json:"code_age,omitempty"`
	Token   *fixtureToken `json:"token,omitempty"`
}

// fixtureToken describes the token held, times relative to fixtureNow (Go durations; negative
// means in the past).
type fixtureToken struct {
	Scope           string `json:"scope,omitempty"`
	ReceivedAgo     string `json:"received_ago"`
	ExpiresIn       string `json:"expires_in,omitempty"`
	Refresh         bool   `json:"refresh"`
	RefreshExpireIn string `json:"refresh_expires_in,omitempty"`
	// AccessRevoked: the client revoked the access token itself (and introspection agreed).
	AccessRevoked bool `json:"access_revoked,omitempty"`
}

const fixtureState = "fixture-state"

var kindByName = map[string]oauthflow.ErrorKind{
	"transport": oauthflow.KindTransport, "oauth": oauthflow.KindOAuth, "api": oauthflow.KindAPI, "http": oauthflow.KindHTTP,
	"format": oauthflow.KindFormat, "redirect": oauthflow.KindRedirect, "validation": oauthflow.KindValidation,
	"config": oauthflow.KindConfig, "unavailable": oauthflow.KindUnavailable, "browser": oauthflow.KindBrowser, "timeout": oauthflow.KindTimeout,
}

func mustDuration(t testing.TB, s string) time.Duration {
	t.Helper()
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("fixture duration %q: %v", s, err)
	}
	return d
}

// build turns a case into what a flow would have produced: the step's report and the context.
func (fc fixtureCase) build(t testing.TB) ([]Observation, Context) {
	t.Helper()
	fx := fc.Context
	ctx := Context{Now: fixtureNow, ClaimedIssuer: fx.ClaimedIssuer, Provider: oauthflow.Provider{Name: fx.Provider, Issuer: fx.ConfiguredIssuer}}
	if strings.HasPrefix(fx.Provider, "linkedin") {
		p := oauthflow.LinkedInAt("http://127.0.0.1:8766", "http://127.0.0.1:8766")
		p.Name = fx.Provider
		if fx.ConfiguredIssuer != "" {
			p.Issuer = fx.ConfiguredIssuer
		}
		ctx.Provider = p
	}
	if fx.RedirectURI != "" || len(fx.Scopes) > 0 {
		ctx.Authorization = &Authorization{RedirectURI: fx.RedirectURI, Scopes: fx.Scopes, PKCE: fx.PKCE}
	}
	started := fixtureNow.Add(-time.Second)
	if fx.CodeAge != "" {
		ctx.CodeIssuedAt = started.Add(-mustDuration(t, fx.CodeAge))
	}
	if tk := fx.Token; tk != nil {
		rec := fixtureNow.Add(-mustDuration(t, tk.ReceivedAgo))
		tok := &oauthflow.Token{AccessToken: "fixture-access-token", Scope: tk.Scope, ReceivedAt: rec}
		if tk.ExpiresIn != "" {
			tok.Expiry = fixtureNow.Add(mustDuration(t, tk.ExpiresIn))
		}
		if tk.Refresh {
			tok.RefreshToken = "fixture-refresh-token"
			if tk.RefreshExpireIn != "" {
				tok.RefreshExpiry = fixtureNow.Add(mustDuration(t, tk.RefreshExpireIn))
			}
		}
		ctx.Token = tok
		if tk.AccessRevoked {
			st := TokenState(tok, fixtureNow, StateOptions{AccessRevoked: true})
			ctx.State = &st
		}
	}

	step := oauthflow.StepReport{Name: fc.Step, Status: oauthflow.StatusFailed, Started: started}
	if ex := fc.Exchange; ex != nil {
		e := httplog.Exchange{Step: fc.Step, Started: started, Duration: 100 * time.Millisecond,
			Request: httplog.Request{Method: ex.Request.Method, URL: ex.Request.URL, Header: ex.Request.Header, Body: []byte(ex.Request.Body)}}
		if r := ex.Response; r != nil {
			e.Response = &httplog.Response{Status: r.Status, Header: r.Header, Body: []byte(r.Body)}
			if r.Status < 400 && fc.ClientError == nil {
				step.Status = oauthflow.StatusOK
			}
		}
		if !ex.ReceivedAt.IsZero() {
			e.Started = ex.ReceivedAt.Add(-e.Duration)
		}
		step.Exchanges = []httplog.Exchange{e}
	}
	if ce := fc.ClientError; ce != nil {
		kind, ok := kindByName[ce.Kind]
		if !ok {
			t.Fatalf("fixture %s: unknown error kind %q", fc.Name, ce.Kind)
		}
		step.Err = &oauthflow.Error{Step: fc.Step, Kind: kind, Code: ce.Code, Description: ce.Description, Hint: ce.Hint, Status: ce.Status}
	}
	if p := fc.Page; p != nil {
		step.Err = &browser.PageError{Status: p.Status, URL: p.URL, Text: p.Text, Reason: browser.PageReason(p.Reason)}
	}
	if fc.Redirect != "" {
		ar := &oauthflow.AuthRequest{State: fixtureState, RedirectURI: fx.RedirectURI, Scopes: fx.Scopes}
		cb, err := oauthflow.ParseRedirect(ar, ctx.Provider.Issuer, fc.Redirect)
		if err == nil {
			t.Fatalf("fixture %s: the redirect parses without error (code %q)", fc.Name, cb.Code)
		}
		step.Err = err
	}
	obs := []Observation{FromStep(step)}
	if fc.Step == oauthflow.StepDiscovery && step.Status == oauthflow.StatusOK && ctx.ClaimedIssuer == "" {
		var doc struct {
			Issuer string `json:"issuer"`
		}
		if json.Unmarshal([]byte(fc.Exchange.Response.Body), &doc) == nil {
			ctx.ClaimedIssuer = doc.Issuer
		}
	}
	return obs, ctx
}

func loadFixtures(t testing.TB) map[string]fixtureFile {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures in %s: run go test ./inspector -run TestCaptureFixtures -update-fixtures", fixtureDir)
	}
	out := map[string]fixtureFile{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ff fixtureFile
		if err := json.Unmarshal(b, &ff); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = ff
	}
	return out
}

// TestDiagnoseFixtures diagnoses every captured exchange and checks the code it must yield.
func TestDiagnoseFixtures(t *testing.T) {
	for file, ff := range loadFixtures(t) {
		for _, fc := range ff.Cases {
			t.Run(strings.TrimSuffix(file, ".json")+"/"+fc.Name, func(t *testing.T) {
				obs, ctx := fc.build(t)
				ds := Diagnose(obs, ctx)
				if len(ds) == 0 {
					t.Fatalf("no diagnosis, want %s", fc.Want)
				}
				d := ds[0]
				if d.Code != fc.Want || d.BestGuess != fc.BestGuess {
					t.Fatalf("got %s (best guess %v), want %s (best guess %v)\n%s", d.Code, d.BestGuess, fc.Want, fc.BestGuess, RenderDiagnoses(ds))
				}
				if d.Title == "" || d.Fix == "" || len(d.Evidence) == 0 {
					t.Errorf("diagnosis lacks title, fix or evidence: %+v", d)
				}
			})
		}
	}
}

// TestEveryCodeHasAFixture keeps the rule set honest: a code no captured exchange produces is
// a rule nobody has seen work.
func TestEveryCodeHasAFixture(t *testing.T) {
	seen := map[string][]string{}
	for file, ff := range loadFixtures(t) {
		for _, fc := range ff.Cases {
			seen[fc.Want] = append(seen[fc.Want], file)
		}
	}
	for _, c := range Codes() {
		if c.Code == CodeIDTokenInvalid {
			continue // covered by the JWT tests with generated keys
		}
		if len(seen[c.Code]) == 0 {
			t.Errorf("no fixture yields %s", c.Code)
		}
	}
	required := []string{CodeBadClientCredentials, CodeRedirectURIMismatch, CodeScopeNotAuthorized, CodeAccessDenied,
		CodeAccessTokenExpired, CodeRefreshTokenExpired, CodeReauthorizationRequired, CodeTokenRevoked, CodeAuthorizationCodeBad,
		CodePKCEMismatch, CodeStateMismatch, CodeUserCancelled, CodeRateLimited, CodeProviderOutage, CodeNetworkUnreachable,
		CodeTLSError, CodeTimeout, CodeClockSkew, CodeUnexpectedFormat, CodeIssuerMismatch, CodeMissingAPIVersion, CodeRefreshNotAvailable}
	for _, code := range required {
		if !slices.ContainsFunc(Codes(), func(c CodeInfo) bool { return c.Code == code }) {
			t.Errorf("code %s is not in the catalog", code)
		}
	}
}
