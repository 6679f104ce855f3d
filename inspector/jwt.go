package inspector

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// Format is what kind of token a string is.
type Format string

const (
	FormatJWT    Format = "jwt"    // a signed JWT (JWS compact): readable by the client
	FormatJWE    Format = "jwe"    // an encrypted JWT: only the issuer can read it
	FormatOpaque Format = "opaque" // a reference the client cannot read; ask the server (introspection)
)

func (f Format) String() string { return string(f) }

// Describe says what the format means to a client.
func (f Format) Describe() string {
	switch f {
	case FormatJWT:
		return "signed JWT: header and claims are readable"
	case FormatJWE:
		return "encrypted (JWE): cannot be read by the client; use introspection"
	}
	return "opaque: not a JWT, cannot be read by the client; use introspection"
}

// DetectFormat tells a JWS compact JWT (three segments whose first two decode to JSON objects)
// from a JWE (five segments) from anything else.
func DetectFormat(raw string) Format {
	raw = strings.TrimSpace(raw)
	parts := strings.Split(raw, ".")
	switch len(parts) {
	case 3:
		if isJSONObjectSegment(parts[0]) && isJSONObjectSegment(parts[1]) {
			return FormatJWT
		}
	case 5:
		if isJSONObjectSegment(parts[0]) {
			return FormatJWE
		}
	}
	return FormatOpaque
}

func isJSONObjectSegment(seg string) bool {
	b, err := decodeSegment(seg)
	if err != nil {
		return false
	}
	var m map[string]any
	return json.Unmarshal(b, &m) == nil
}

// decodeSegment accepts base64url with or without padding, as some issuers pad.
func decodeSegment(seg string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
}

// Fingerprint identifies a token without revealing it: recorder.Fingerprint, so that a token
// shown by inspect can be matched with its placeholder in a recording.
func Fingerprint(token string) string { return recorder.Fingerprint(token) }

// JWT is a decoded token. Claims are as sent; Header of a JWE holds its protected header.
type JWT struct {
	Format Format         `json:"format"`
	Header map[string]any `json:"header,omitempty"`
	Claims map[string]any `json:"claims,omitempty"`
	// Segments are the compact serialization's parts (for a JWS: header, payload, signature).
	// They are the token itself: never show them.
	Segments []string `json:"-"`
	raw      string
}

// ErrNotJWT is returned (wrapped) by DecodeJWT for a token that is not a JWS JWT.
var ErrNotJWT = errors.New("not a JWT")

// DecodeJWT reads a JWT's header and claims without verifying anything. An opaque token or a
// JWE gives a *JWT with that Format (and the JWE's readable header) and no error: that is a
// fact to report, not a failure. Only a token that looks like a JWT yet does not decode is an
// error.
func DecodeJWT(raw string) (*JWT, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("empty token")
	}
	j := &JWT{Format: DetectFormat(raw), raw: raw, Segments: strings.Split(raw, ".")}
	switch j.Format {
	case FormatJWE:
		b, _ := decodeSegment(j.Segments[0])
		_ = json.Unmarshal(b, &j.Header)
		return j, nil
	case FormatOpaque:
		if len(j.Segments) == 3 && strings.HasPrefix(raw, "eyJ") {
			// It claims to be a JWT: say which part is broken.
			for i, name := range []string{"header", "payload"} {
				b, err := decodeSegment(j.Segments[i])
				if err != nil {
					return nil, fmt.Errorf("%w: the %s segment is not base64url: %v", ErrNotJWT, name, err)
				}
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					return nil, fmt.Errorf("%w: the %s segment is not a JSON object: %v", ErrNotJWT, name, err)
				}
			}
		}
		return j, nil
	}
	hb, _ := decodeSegment(j.Segments[0])
	pb, _ := decodeSegment(j.Segments[1])
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.UseNumber()
	if err := dec.Decode(&j.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrNotJWT, err)
	}
	dec = json.NewDecoder(bytes.NewReader(pb))
	dec.UseNumber()
	if err := dec.Decode(&j.Claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrNotJWT, err)
	}
	return j, nil
}

// Time returns a NumericDate claim (exp, iat, nbf, auth_time) as a UTC time.
func (j *JWT) Time(name string) (time.Time, bool) {
	if j == nil {
		return time.Time{}, false
	}
	f, ok := numberClaim(j.Claims[name])
	if !ok {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// String returns a string claim ("" when absent or not a string).
func (j *JWT) String(name string) string {
	if j == nil {
		return ""
	}
	s, _ := j.Claims[name].(string)
	return s
}

// Audience returns aud as a list, whether it was sent as a string or an array.
func (j *JWT) Audience() []string {
	if j == nil {
		return nil
	}
	switch v := j.Claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func numberClaim(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case string:
		// Some issuers send NumericDate as a string; accept it, the checks will say so.
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// Check is the verdict of one verification check.
type Check struct {
	Name   string `json:"name"` // signature, iss, aud, exp, iat, nbf, nonce
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Skipped marks a check that could not run (no JWKS, no expected value); OK is then false.
	Skipped bool `json:"skipped,omitempty"`
}

// Verification is the result of VerifyJWT: one check per property, in a fixed order.
type Verification struct {
	Format Format `json:"format"`
	// JWT is the decoded token (left out of JSON: the inspection shows it once).
	JWT    *JWT    `json:"-"`
	Checks []Check `json:"checks"`
}

// OK reports whether every check that ran passed and the signature was verified.
func (v Verification) OK() bool {
	if v.Format != FormatJWT {
		return false
	}
	for _, c := range v.Checks {
		if !c.OK && (!c.Skipped || c.Name == "signature") {
			return false
		}
	}
	return true
}

// Check returns the named check.
func (v Verification) Check(name string) (Check, bool) {
	for _, c := range v.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Failed lists the checks that ran and failed.
func (v Verification) Failed() []Check {
	var out []Check
	for _, c := range v.Checks {
		if !c.OK && !c.Skipped {
			out = append(out, c)
		}
	}
	return out
}

// VerifyOptions say what a token must be.
type VerifyOptions struct {
	// JWKSURL is fetched with HTTPClient when KeySet is nil.
	JWKSURL    string
	KeySet     *jose.JSONWebKeySet
	HTTPClient *http.Client
	// Issuer, Audience and Nonce are the expected values; an empty one skips its check.
	Issuer   string
	Audience string
	Nonce    string
	// Now is the local clock (zero means time.Now); Skew (server minus local) is added before
	// time checks.
	Now  time.Time
	Skew time.Duration
	// Leeway tolerated on exp, iat and nbf; 0 means DefaultLeeway.
	Leeway time.Duration
}

// DefaultLeeway matches go-jose's default.
const DefaultLeeway = time.Minute

// supportedAlgs are the asymmetric algorithms ID tokens and JWT access tokens are signed with.
// HMAC (signed with the client secret) and "none" are not accepted.
var supportedAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// VerifyJWT decodes raw, verifies its signature against the provider's keys and checks iss,
// aud, exp, iat, nbf and nonce, each with its own verdict. An opaque or encrypted token gives
// a Verification with that Format and no checks, not an error; the error is for a token that
// cannot be decoded at all.
func VerifyJWT(ctx context.Context, raw string, opts VerifyOptions) (Verification, error) {
	j, err := DecodeJWT(raw)
	if err != nil {
		return Verification{}, err
	}
	v := Verification{Format: j.Format, JWT: j}
	if j.Format != FormatJWT {
		return v, nil
	}
	v.Checks = append(v.Checks, verifySignature(ctx, j, opts))
	v.Checks = append(v.Checks, CheckClaims(j, opts)...)
	return v, nil
}

// CheckClaims runs the claim checks (iss, aud, exp, iat, nbf, nonce) without the signature,
// for callers that have no keys at hand.
func CheckClaims(j *JWT, opts VerifyOptions) []Check {
	leeway := opts.Leeway
	if leeway <= 0 {
		leeway = DefaultLeeway
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	serverNow := now.Add(opts.Skew)
	var checks []Check

	iss := j.String("iss")
	switch {
	case opts.Issuer == "":
		checks = append(checks, Check{Name: "iss", Skipped: true, Detail: fmt.Sprintf("iss is %q; no expected issuer given", iss)})
	case iss == opts.Issuer:
		checks = append(checks, Check{Name: "iss", OK: true, Detail: fmt.Sprintf("iss is %q as expected", iss)})
	default:
		d := fmt.Sprintf("iss is %q, expected %q", iss, opts.Issuer)
		if strings.TrimRight(iss, "/") == strings.TrimRight(opts.Issuer, "/") {
			d += " (they differ only in the trailing slash, which the comparison does not forgive)"
		}
		checks = append(checks, Check{Name: "iss", Detail: d})
	}

	aud := j.Audience()
	switch {
	case opts.Audience == "":
		checks = append(checks, Check{Name: "aud", Skipped: true, Detail: fmt.Sprintf("aud is %q; no expected audience given", aud)})
	case slices.Contains(aud, opts.Audience):
		checks = append(checks, Check{Name: "aud", OK: true, Detail: fmt.Sprintf("aud %q includes %q", aud, opts.Audience)})
	default:
		checks = append(checks, Check{Name: "aud", Detail: fmt.Sprintf("aud %q does not include %q", aud, opts.Audience)})
	}

	checks = append(checks, timeCheck(j, "exp", serverNow, leeway, true))
	checks = append(checks, timeCheck(j, "iat", serverNow, leeway, false))
	checks = append(checks, timeCheck(j, "nbf", serverNow, leeway, false))

	nonce := j.String("nonce")
	switch {
	case opts.Nonce == "" && nonce == "":
		checks = append(checks, Check{Name: "nonce", Skipped: true, Detail: "no nonce sent, none in the token"})
	case opts.Nonce == "":
		checks = append(checks, Check{Name: "nonce", Skipped: true, Detail: "the token has a nonce; no expected nonce given"})
	case nonce == opts.Nonce:
		checks = append(checks, Check{Name: "nonce", OK: true, Detail: "nonce matches the one sent"})
	case nonce == "":
		checks = append(checks, Check{Name: "nonce", Detail: "a nonce was sent but the token has none"})
	default:
		checks = append(checks, Check{Name: "nonce", Detail: "nonce differs from the one sent (a token from another login, or a replay)"})
	}
	return checks
}

// timeCheck checks exp (must be in the future) or iat/nbf (must not be in the future).
func timeCheck(j *JWT, name string, serverNow time.Time, leeway time.Duration, required bool) Check {
	t, ok := j.Time(name)
	if !ok {
		if _, present := j.Claims[name]; present {
			return Check{Name: name, Detail: fmt.Sprintf("%s is not a NumericDate: %v", name, j.Claims[name])}
		}
		if required {
			return Check{Name: name, Detail: name + " is missing (an ID token must have one)"}
		}
		return Check{Name: name, OK: true, Skipped: true, Detail: name + " not present"}
	}
	when := oauthflow.FormatUTC(t) + " (" + oauthflow.Relative(t, serverNow) + ")"
	if name == "exp" {
		if serverNow.After(t.Add(leeway)) {
			return Check{Name: name, Detail: "expired at " + when}
		}
		return Check{Name: name, OK: true, Detail: "expires at " + when}
	}
	if t.After(serverNow.Add(leeway)) {
		what := map[string]string{"iat": "issued in the future", "nbf": "not valid yet"}[name]
		return Check{Name: name, Detail: what + ": " + when + "; a clock is wrong if the token is fresh"}
	}
	label := map[string]string{"iat": "issued at ", "nbf": "valid from "}[name]
	return Check{Name: name, OK: true, Detail: label + when}
}

func verifySignature(ctx context.Context, j *JWT, opts VerifyOptions) Check {
	alg, _ := j.Header["alg"].(string)
	kid, _ := j.Header["kid"].(string)
	if alg == "" || strings.EqualFold(alg, "none") {
		return Check{Name: "signature", Detail: "the token is unsigned (alg " + strconv.Quote(alg) + "): never accept it"}
	}
	if strings.HasPrefix(alg, "HS") {
		return Check{Name: "signature", Skipped: true, Detail: "signed with " + alg + " (a shared secret): verify with the client secret, not with the JWKS"}
	}
	keys := opts.KeySet
	if keys == nil {
		if opts.JWKSURL == "" {
			return Check{Name: "signature", Skipped: true, Detail: "not verified: no JWKS URL known (--jwks-url or discovery)"}
		}
		var err error
		if keys, err = FetchJWKS(ctx, opts.HTTPClient, opts.JWKSURL); err != nil {
			return Check{Name: "signature", Skipped: true, Detail: "not verified: " + err.Error()}
		}
	}
	jws, err := jose.ParseSignedCompact(j.raw, supportedAlgs)
	if err != nil {
		return Check{Name: "signature", Detail: "cannot parse the signature (" + alg + "): " + err.Error()}
	}
	candidates := keys.Keys
	if kid != "" {
		candidates = keys.Key(kid)
		if len(candidates) == 0 {
			return Check{Name: "signature", Detail: fmt.Sprintf("no key with kid %q in the JWKS (it has %s): the keys rotated, or the token comes from another issuer", kid, kidList(keys))}
		}
	}
	for _, k := range candidates {
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if _, err := jws.Verify(k); err == nil {
			return Check{Name: "signature", OK: true, Detail: fmt.Sprintf("%s signature verified with key %q", alg, k.KeyID)}
		}
	}
	return Check{Name: "signature", Detail: fmt.Sprintf("the %s signature does not verify with any key in the JWKS (%s): the token was altered or signed by another key", alg, kidList(keys))}
}

func kidList(ks *jose.JSONWebKeySet) string {
	if len(ks.Keys) == 0 {
		return "no keys"
	}
	var ids []string
	for _, k := range ks.Keys {
		ids = append(ids, strconv.Quote(k.KeyID))
	}
	return "kids " + strings.Join(ids, ", ")
}

// FetchJWKS reads a JSON Web Key Set. client may be a recording client; nil means a client
// with a 30-second timeout.
func FetchJWKS(ctx context.Context, client *http.Client, jwksURL string) (*jose.JSONWebKeySet, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("bad JWKS URL %q: %w", jwksURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the JWKS from %s: %w", jwksURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the JWKS from %s: %w", jwksURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the JWKS URL %s answered HTTP %d", jwksURL, resp.StatusCode)
	}
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(body, &ks); err != nil {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		_, summary := summariseBody(ct, body)
		return nil, fmt.Errorf("the JWKS URL %s did not answer a key set (%s): %w", jwksURL, summary, err)
	}
	return &ks, nil
}

// RenderJWT renders a decoded token's header and claims with times in UTC and relative to now.
// The token itself is never part of the output.
func RenderJWT(j *JWT, now time.Time) string {
	var b strings.Builder
	if j == nil {
		return ""
	}
	fmt.Fprintf(&b, "format: %s\n", j.Format.Describe())
	if len(j.Header) > 0 {
		b.WriteString("header:\n")
		writeClaims(&b, j.Header, now, false)
	}
	if len(j.Claims) > 0 {
		b.WriteString("claims:\n")
		writeClaims(&b, j.Claims, now, true)
	}
	return b.String()
}

func writeClaims(b *strings.Builder, m map[string]any, now time.Time, times bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, c string) int {
		if d := claimOrder(a) - claimOrder(c); d != 0 {
			return d
		}
		return strings.Compare(a, c)
	})
	for _, k := range keys {
		v := m[k]
		text := claimText(v)
		if times && isTimeClaim(k) {
			if f, ok := numberClaim(v); ok {
				t := time.Unix(int64(f), 0).UTC()
				text = fmt.Sprintf("%s  %s (%s)", text, oauthflow.FormatUTC(t), oauthflow.Relative(t, now))
			}
		}
		fmt.Fprintf(b, "  %-10s %s\n", k, text)
	}
}

// claimOrder puts the registered claims first, in the order people read them.
func claimOrder(k string) int {
	order := []string{"alg", "kid", "typ", "iss", "sub", "aud", "azp", "exp", "iat", "nbf", "auth_time", "nonce"}
	if i := slices.Index(order, k); i >= 0 {
		return i
	}
	return len(order)
}

func isTimeClaim(k string) bool {
	return k == "exp" || k == "iat" || k == "nbf" || k == "auth_time" || k == "updated_at"
}

func claimText(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case json.Number:
		return t.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// RenderVerification renders the per-check verdicts.
func RenderVerification(v Verification) string {
	var b strings.Builder
	if v.Format != FormatJWT {
		fmt.Fprintf(&b, "not verified: %s\n", v.Format.Describe())
		return b.String()
	}
	for _, c := range v.Checks {
		mark := "ok  "
		switch {
		case c.Skipped && !c.OK:
			mark = "skip"
		case c.Skipped:
			mark = "--  "
		case !c.OK:
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %-9s %s\n", mark, c.Name, c.Detail)
	}
	return b.String()
}
