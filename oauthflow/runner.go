package oauthflow

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// Runner performs the steps of a flow for one Config. It is safe for concurrent use.
type Runner struct {
	cfg    Config
	client *http.Client // the caller's client, its transport capturing every exchange
	now    func() time.Time
	random io.Reader
}

// Option configures a Runner.
type Option func(*Runner)

// WithHTTPClient sets the client every request goes through (a recording one, say). A transport
// that does not capture exchanges (an *httplog.Transport) is wrapped in one, never replaced.
// Default: a client with a 30-second timeout.
func WithHTTPClient(c *http.Client) Option { return func(r *Runner) { r.client = c } }

// WithClock sets the clock used for expiry times; tests make it fixed.
func WithClock(now func() time.Time) Option { return func(r *Runner) { r.now = now } }

// WithRandom sets the source of state, nonce and PKCE verifier values; tests make it reproducible.
func WithRandom(rd io.Reader) Option { return func(r *Runner) { r.random = rd } }

// NewRunner returns a Runner for cfg.
func NewRunner(cfg Config, opts ...Option) *Runner {
	r := &Runner{cfg: cfg, now: time.Now, random: rand.Reader}
	for _, o := range opts {
		o(r)
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: 30 * time.Second}
	}
	if _, captures := r.client.Transport.(*httplog.Transport); !captures {
		c := *r.client
		c.Transport = &httplog.Transport{Base: r.client.Transport, Now: r.now}
		r.client = &c
	}
	return r
}

// Config returns the configuration the Runner was built with.
func (r *Runner) Config() Config { return r.cfg }

// SetProvider replaces the provider (after discovery filled it in).
func (r *Runner) SetProvider(p Provider) { r.cfg.Provider = p }

// Now is the Runner's clock.
func (r *Runner) Now() time.Time { return r.now() }

// Report runs one call of a step outside a Flow (logout's revocations, say) and reports it as a
// step: its timing, the exchanges it made and its error.
func (r *Runner) Report(ctx context.Context, step string, call func(ctx context.Context) error) StepReport {
	started := r.now()
	ctx, col := r.begin(ctx, step)
	err := call(ctx)
	rep := StepReport{Name: step, Status: StatusOK, Started: started, Duration: r.now().Sub(started), Exchanges: col.Exchanges(), Err: err}
	if err != nil {
		rep.Status = StatusFailed
	}
	return rep
}

// HTTPClient is the client the runner's requests go through.
func (r *Runner) HTTPClient() *http.Client { return r.client }

// begin labels ctx with the step and gathers the exchanges made under it.
func (r *Runner) begin(ctx context.Context, step string) (context.Context, *httplog.Collector) {
	return httplog.Collect(httplog.WithStep(ctx, step))
}

// do sends req and reads the whole answer; a transport failure becomes a classified *Error.
func (r *Runner) do(ctx context.Context, step string, req *http.Request) (*http.Response, []byte, error) {
	resp, err := r.client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, nil, transportError(step, req.URL.String(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		e := transportError(step, req.URL.String(), err)
		e.Status = resp.StatusCode
		e.Description = "the answer from " + HostOf(req.URL.String()) + " broke off mid-body: " + httplog.RootCause(err).Error()
		return resp, body, e
	}
	return resp, body, nil
}

// decodeJSONObject parses a body that must be a JSON object, with errors that say what came instead.
func decodeJSONObject(step, endpoint string, resp *http.Response, body []byte) (map[string]json.RawMessage, error) {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return nil, &Error{Step: step, Kind: KindFormat, Code: CodeEmptyBody, Status: resp.StatusCode, Header: resp.Header.Clone(),
			Description: "empty body where a JSON object was expected from " + endpoint,
			Hint:        "the endpoint URL is probably wrong, or a proxy swallowed the answer"}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		desc := fmt.Sprintf("%s answered %s, not a JSON object", endpoint, describeContent(ct, body))
		hint := "check the endpoint URL; it must be the API endpoint, not a web page"
		var syn *json.SyntaxError
		if errors.As(err, &syn) && strings.HasPrefix(trimmed, "{") {
			desc = fmt.Sprintf("%s answered truncated or malformed JSON (%v)", endpoint, err)
			hint = "the answer was cut off or corrupted on the way; retry, and check proxies between you and the server"
		}
		return nil, &Error{Step: step, Kind: KindFormat, Code: CodeNotJSON, Status: resp.StatusCode, Header: resp.Header.Clone(),
			Body: cut(body), Description: desc, Hint: hint, Err: err}
	}
	return m, nil
}

func describeContent(ct string, body []byte) string {
	if looksLikeHTML(http.Header{"Content-Type": {ct}}, body) {
		return "an HTML page"
	}
	if ct == "" {
		return "a body without Content-Type"
	}
	return "content of type " + ct
}

// newForm builds an endpoint request authenticated per the client's method.
func (r *Runner) newForm(ctx context.Context, endpoint string, form url.Values) (*http.Request, error) {
	c := r.cfg.Client
	method := c.AuthMethod
	if method == "" {
		method = r.cfg.Provider.AuthMethod
	}
	switch method {
	case AuthPost:
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	case AuthNone:
		form.Set("client_id", c.ID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &Error{Kind: KindConfig, Code: CodeBadURL, Description: fmt.Sprintf("bad endpoint URL %q", endpoint), Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method == AuthBasic || method == "" {
		// RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return req, nil
}

func (r *Runner) authMethod() AuthMethod { return r.cfg.AuthMethod() }

// AuthMethod is how the client authenticates: its own setting, else the provider's, else
// client_secret_basic.
func (c Config) AuthMethod() AuthMethod {
	if c.Client.AuthMethod != "" {
		return c.Client.AuthMethod
	}
	if c.Provider.AuthMethod != "" {
		return c.Provider.AuthMethod
	}
	return AuthBasic
}

func parseQuery(s string) (url.Values, error) { return url.ParseQuery(s) }
