package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ErrNotLoopback is wrapped by Start's error when the address is not a loopback
// address: the sandbox hands out tokens for a fake member and must never be
// reachable from another machine.
var ErrNotLoopback = errors.New("sandbox listens on loopback addresses only")

// ErrAlreadyStarted is returned by a second Start.
var ErrAlreadyStarted = errors.New("sandbox server already started")

// ErrClosed is returned by Start after Close.
var ErrClosed = errors.New("sandbox server closed")

// Stats counts what the server has seen since New. Tests use it to assert, for
// example, that a client refreshed instead of starting a new authorization.
type Stats struct {
	DiscoveryRequests     int // OIDC discovery and RFC 8414 metadata documents served
	JWKSRequests          int
	AuthorizationRequests int // GET /oauth/v2/authorization, valid or not
	Logins                int // login forms accepted
	Consents              int // consent forms answered with Allow
	Cancellations         int // authorization requests answered with user_cancelled_*
	CodesIssued           int

	TokenRequests           int // every request to /oauth/v2/accessToken
	TokenErrors             int // token requests answered with an error
	AuthorizationCodeGrants int // successful authorization_code grants
	RefreshGrants           int // successful refresh_token grants
	ClientCredentialsGrants int // successful client_credentials grants

	Introspections int // every request to /oauth/v2/introspectToken
	Revocations    int // every request to /oauth/v2/revoke

	APICalls  int // every request under /v2/ and /rest/
	APIErrors int // API calls answered with an error status
}

// Server is an in-process LinkedIn-like authorization and API server. One host
// serves both of LinkedIn's hosts (www.linkedin.com and api.linkedin.com) on
// LinkedIn's paths. All methods are safe for concurrent use.
type Server struct {
	cfg      config
	clients  map[string]*client
	key      *rsa.PrivateKey
	kid      string
	jwksJSON []byte
	handler  http.Handler
	log      *slog.Logger
	initErr  error // a signing-key problem found by New; Start returns it, requests get 500

	randMu sync.Mutex // the injected reader need not be safe for concurrent use

	mu            sync.Mutex
	scenario      Scenario
	scenarioCalls int // API calls since the scenario was chosen (rate-limited, flaky)
	stats         Stats
	codes         map[string]*authCode
	pending       map[string]*pendingAuthorization
	access        map[string]*accessToken
	refresh       map[string]*refreshToken
	epochs        map[string]*scopeEpoch // by client id
	lastPrune     time.Time
	baseURL       string
	httpServer    *http.Server
	closed        bool
	closing       chan struct{} // closed by Close; ends slow-scenario waits
}

// New builds a server. It generates an RSA-2048 signing key unless
// WithSigningKey gives one. A key that cannot be used makes Start return the
// error and every request answer 500 naming it.
func New(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.random == nil {
		cfg.random = rand.Reader
	}
	if !knownScenario(cfg.scenario) {
		cfg.scenario = Happy
	}
	if !knownCompliance(cfg.compliance) {
		cfg.compliance = ComplianceLinkedIn
	}
	if len(cfg.clients) == 0 {
		cfg.clients = []client{{id: DefaultClientID, secret: DefaultClientSecret, redirectURIs: []string{DefaultRedirectURI}}}
	}
	s := &Server{
		cfg:      cfg,
		clients:  make(map[string]*client, len(cfg.clients)),
		log:      cfg.logger,
		scenario: cfg.scenario,
		codes:    make(map[string]*authCode),
		pending:  make(map[string]*pendingAuthorization),
		access:   make(map[string]*accessToken),
		refresh:  make(map[string]*refreshToken),
		epochs:   make(map[string]*scopeEpoch),
		closing:  make(chan struct{}),
	}
	for i := range cfg.clients {
		c := cfg.clients[i]
		s.clients[c.id] = &c
	}
	key := cfg.signingKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			s.initErr = fmt.Errorf("sandbox: generate RSA signing key: %w", err)
		}
	}
	if s.initErr == nil {
		if err := s.setSigningKey(key); err != nil {
			s.initErr = fmt.Errorf("sandbox: signing key: %w", err)
		}
	}
	s.handler = s.routes()
	return s
}

func knownScenario(sc Scenario) bool {
	for _, k := range Scenarios() {
		if k == sc {
			return true
		}
	}
	return false
}

func knownCompliance(c Compliance) bool {
	for _, k := range Compliances() {
		if k == c {
			return true
		}
	}
	return false
}

// Handler returns the server's HTTP handler, for httptest.NewServer or an
// existing server. Served this way (without Start), URLs in responses are built
// from each request's Host header.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (a loopback address such as "127.0.0.1:0" or
// "localhost:8766") and serves in the background. It returns the base URL.
func (s *Server) Start(addr string) (string, error) {
	if err := checkLoopback(addr); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	if s.httpServer != nil {
		return "", ErrAlreadyStarted
	}
	if s.initErr != nil {
		return "", s.initErr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	s.baseURL = "http://" + ln.Addr().String()
	s.httpServer = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	srv := s.httpServer
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox server stopped", "err", err)
		}
	}()
	s.log.Info("sandbox listening", "base_url", s.baseURL, "scenario", string(s.scenario), "compliance", string(s.cfg.compliance))
	return s.baseURL, nil
}

// checkLoopback accepts "host:port" where host is "localhost" or a loopback IP.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("sandbox: address %q: %w (use host:port, e.g. 127.0.0.1:0)", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if host == "" {
		return fmt.Errorf("%w: %q has no host and would listen on every interface; use 127.0.0.1%s", ErrNotLoopback, addr, addr)
	}
	return fmt.Errorf("%w: %q is not loopback; use 127.0.0.1, [::1] or localhost", ErrNotLoopback, addr)
}

// Close stops the server started by Start, drops open connections and ends
// waits in the slow scenario. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.closing)
	if s.httpServer == nil {
		return nil
	}
	if err := s.httpServer.Close(); err != nil {
		return fmt.Errorf("sandbox: close: %w", err)
	}
	return nil
}

// BaseURL is the URL Start listens on, e.g. "http://127.0.0.1:8766"; "" before Start.
func (s *Server) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// Issuer is BaseURL + "/oauth", as LinkedIn's issuer is https://www.linkedin.com/oauth;
// "" before Start.
func (s *Server) Issuer() string {
	if b := s.BaseURL(); b != "" {
		return b + "/oauth"
	}
	return ""
}

// SetScenario switches the scenario for the requests that follow and restarts
// the API call count that rate-limited and flaky use. An unknown scenario is
// ignored (and logged).
func (s *Server) SetScenario(sc Scenario) {
	if !knownScenario(sc) {
		s.log.Warn("sandbox: unknown scenario ignored", "scenario", string(sc))
		return
	}
	s.mu.Lock()
	s.scenario = sc
	s.scenarioCalls = 0
	s.mu.Unlock()
	s.log.Info("sandbox scenario changed", "scenario", string(sc))
}

// Scenario returns the current scenario.
func (s *Server) Scenario() Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scenario
}

// Compliance returns the compliance mode chosen at New.
func (s *Server) Compliance() Compliance { return s.cfg.compliance }

// RedirectURIs returns the redirect URIs registered for clientID (nil when the
// client is unknown).
func (s *Server) RedirectURIs(clientID string) []string {
	c, ok := s.clients[clientID]
	if !ok {
		return nil
	}
	return append([]string(nil), c.redirectURIs...)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Server) now() time.Time { return s.cfg.clock() }

// randomBytes reads n bytes from the injected source.
func (s *Server) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	s.randMu.Lock()
	defer s.randMu.Unlock()
	if _, err := io.ReadFull(s.cfg.random, b); err != nil {
		return nil, fmt.Errorf("sandbox: read random: %w", err)
	}
	return b, nil
}

// newOpaque returns a LinkedIn-like opaque value: "AQ" and n random bytes in
// unpadded base64url.
func (s *Server) newOpaque(n int) (string, error) {
	b, err := s.randomBytes(n)
	if err != nil {
		return "", err
	}
	return "AQ" + base64.RawURLEncoding.EncodeToString(b), nil
}

// baseFor is the base URL for links in a response: the listening URL after
// Start, otherwise the one the request was addressed to.
func (s *Server) baseFor(r *http.Request) string {
	if b := s.BaseURL(); b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) issuerFor(r *http.Request) string { return s.baseFor(r) + "/oauth" }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /oauth/v2/authorization", s.handleAuthorize)
	mux.HandleFunc("POST /oauth/v2/login", s.handleLogin)
	mux.HandleFunc("POST /oauth/v2/consent", s.handleConsent)
	mux.HandleFunc("POST /oauth/v2/accessToken", s.handleToken)
	mux.HandleFunc("POST /oauth/v2/introspectToken", s.handleIntrospect)
	mux.HandleFunc("POST /oauth/v2/revoke", s.handleRevoke)
	mux.HandleFunc("GET /oauth/.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server/oauth", s.handleASMetadata)
	mux.HandleFunc("GET /oauth/openid/jwks", s.handleJWKS)
	mux.HandleFunc("GET /media/profile-picture", s.handlePicture)
	mux.HandleFunc("/v2/", s.handleAPI)
	mux.HandleFunc("/rest/", s.handleAPI)
	return s.withLinkedInHeaders(mux)
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// withLinkedInHeaders adds the headers LinkedIn support asks for (x-li-uuid,
// x-li-fabric, x-li-request-id, x-li-pop, x-li-proto) and a Date from the
// injected clock to every response, and logs the request without its query.
func (s *Server) withLinkedInHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.initErr != nil {
			http.Error(w, s.initErr.Error(), http.StatusInternalServerError)
			return
		}
		ids, err := s.randomBytes(32)
		if err != nil {
			s.log.Error("sandbox: no randomness for response ids", "err", err)
			http.Error(w, "sandbox: randomness source failed", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		requestID := hex.EncodeToString(ids[16:])
		h.Set("X-Li-Uuid", base64.StdEncoding.EncodeToString(ids[:16]))
		h.Set("X-Li-Fabric", "prod-ltx1")
		h.Set("X-Li-Request-Id", requestID)
		h.Set("X-Li-Pop", "prod-ltx1-x")
		h.Set("X-Li-Proto", strings.ToLower(r.Proto))
		h.Set("Date", s.now().UTC().Format(http.TimeFormat))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.log.Info("sandbox request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "x_li_request_id", requestID)
	})
}
