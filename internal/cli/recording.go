package cli

import (
	"fmt"
	"net/http"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// recording is one recorded session of a command, plus the redactor everything shown must go through.
type recording struct {
	store *recorder.Store
	sess  *recorder.Session
	red   *recorder.Redactor
}

// openRecording starts a session under the state directory. Every HTTP call made through
// rec.client is written to it as it completes.
func openRecording(env *cliEnv, cfg oauthflow.Config, labels map[string]string) (*recording, error) {
	store, err := sessionStore(env)
	if err != nil {
		return nil, err
	}
	sess, err := store.NewSession(sessionMeta(cfg, labels))
	if err != nil {
		return nil, fmt.Errorf("starting a session log in %s: %w (set OAUTHDIAG_HOME to a writable directory)", store.Dir(), err)
	}
	red := sess.Redactor()
	red.AddSecret("client_secret", cfg.Client.Secret)
	return &recording{store: store, sess: sess, red: red}, nil
}

func sessionMeta(cfg oauthflow.Config, labels map[string]string) recorder.SessionMeta {
	ep := cfg.Provider.Endpoints
	endpoints := map[string]string{}
	for k, v := range map[string]string{
		"authorization": ep.Authorization, "token": ep.Token, "userinfo": ep.Userinfo, "introspection": ep.Introspection,
		"revocation": ep.Revocation, "jwks": ep.JWKS, "api": ep.API, "issuer": cfg.Provider.Issuer,
	} {
		if v != "" {
			endpoints[k] = v
		}
	}
	return recorder.SessionMeta{
		Provider: cfg.Provider.Name, ClientID: cfg.Client.ID, RedirectURI: cfg.Client.RedirectURI,
		Scopes: cfg.Client.Scopes, Endpoints: endpoints, ToolVersion: toolVersion(), Labels: labels,
	}
}

// client returns an HTTP client whose calls are recorded.
func (r *recording) client(timeout time.Duration) *http.Client {
	return newHTTPClient(timeout, r.sess.Transport(nil))
}

// observe records a browser leg (the authorization URL, the redirect) that the tool did not send
// itself; it fits oauthflow.FlowOptions.Observe.
func (r *recording) observe(step, leg, rawURL string) httplog.Exchange {
	return r.sess.Observe(step, leg, rawURL, "").Exchange
}

func (r *recording) sessionID() string { return r.sess.ID() }

// Close flushes and closes the session log, reporting a write failure that would lose calls.
func (r *recording) Close() error {
	if err := r.sess.Err(); err != nil {
		return fmt.Errorf("the session log %s could not be written completely: %w", r.sess.Path(), err)
	}
	return r.sess.Close()
}
