package recorder

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Secret kinds used in placeholders, SecretRefs and curl variables.
const (
	KindAccessToken     = "access_token"
	KindRefreshToken    = "refresh_token"
	KindIDToken         = "id_token"
	KindClientSecret    = "client_secret"
	KindCode            = "code"
	KindCodeVerifier    = "code_verifier"
	KindState           = "state"
	KindCookie          = "cookie"
	KindJWT             = "jwt"
	KindAuthorization   = "authorization"
	KindPassword        = "password"
	KindClientAssertion = "client_assertion"
)

// secretNames maps form, query and JSON parameter names (lower case) to the secret kind they carry.
// LinkedIn also accepts the access token as the oauth2_access_token query parameter.
var secretNames = map[string]string{
	"client_secret":             KindClientSecret,
	"code":                      KindCode,
	"code_verifier":             KindCodeVerifier,
	"access_token":              KindAccessToken,
	"oauth2_access_token":       KindAccessToken,
	"refresh_token":             KindRefreshToken,
	"id_token":                  KindIDToken,
	"token":                     "token",
	"password":                  KindPassword,
	"assertion":                 "assertion",
	"client_assertion":          KindClientAssertion,
	"subject_token":             "subject_token",
	"actor_token":               "actor_token",
	"session_password":          "session_password",
	"device_code":               "device_code",
	"state":                     KindState,
	"api_key":                   "api_key",
	"apikey":                    "api_key",
	"logout_token":              "logout_token",
	"id_token_hint":             KindIDToken,
	"client_assertion_jwt":      KindClientAssertion,
	"registration_token":        "registration_token",
	"registration_access_token": "registration_access_token",
}

// secretHeaders are headers (canonical names) whose whole value is a credential.
var secretHeaders = map[string]string{
	"X-Api-Key":            "api_key",
	"Api-Key":              "api_key",
	"X-Auth-Token":         "auth_token",
	"X-Amz-Security-Token": "security_token",
	"X-Csrf-Token":         "csrf_token",
	"Dpop":                 "dpop_proof",
}

// metadataHeaders carry protocol metadata, never a parameter or credential, so only known
// secret values are looked for in them; the structural scans are skipped to keep
// recording cheap.
var metadataHeaders = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Age": true, "Cache-Control": true, "Connection": true,
	"Content-Encoding": true, "Content-Length": true, "Content-Type": true, "Date": true, "Etag": true,
	"Expires": true, "Last-Modified": true, "Linkedin-Version": true, "Pragma": true, "Referrer-Policy": true,
	"Retry-After": true, "Server": true, "Strict-Transport-Security": true, "Transfer-Encoding": true,
	"Vary": true, "X-Content-Type-Options": true, "X-Frame-Options": true, "X-Li-Fabric": true,
	"X-Li-Pop": true, "X-Li-Proto": true, "X-Li-Request-Id": true, "X-Li-Uuid": true,
	"X-Restli-Protocol-Version": true,
}

// headerClass says how a header's values are redacted.
type headerClass uint8

const (
	headerText          headerClass = iota // free text: every rule applies
	headerAuthorization                    // a scheme and a credential
	headerCookie                           // name=value pairs
	headerSetCookie                        // a name=value pair, then attributes
	headerURL                              // a URL
	headerSecret                           // the whole value is a credential (secretHeaders)
	headerMetadata                         // protocol metadata: only known values (metadataHeaders)
)

// headerClasses classifies canonical header names; absent names are headerText. One
// lookup decides, so the common headers need no canonicalisation and no second look.
var headerClasses = func() map[string]headerClass {
	m := map[string]headerClass{
		"Authorization": headerAuthorization, "Proxy-Authorization": headerAuthorization,
		"Cookie": headerCookie, "Set-Cookie": headerSetCookie,
		"Location": headerURL, "Content-Location": headerURL, "Referer": headerURL, "Link": headerURL,
	}
	for name := range secretHeaders {
		m[name] = headerSecret
	}
	for name := range metadataHeaders {
		m[name] = headerMetadata
	}
	return m
}()

// placeholderPattern matches a rendered placeholder; group 1 is the kind, group 2 the fingerprint.
var placeholderPattern = regexp.MustCompile(`\[redacted:([a-z0-9_]+):(sha256:[0-9a-f]{8}:len=[0-9]+)\]`)

const placeholderPrefix = "[redacted:"

// minKnownSecret is the shortest exact value matched anywhere in text; shorter values
// would match innocent text, and structural rules still catch them by name.
const minKnownSecret = 6

// Fingerprint identifies a secret without revealing it: the first 8 hex digits of its
// SHA-256 and its length, so two mentions of one token can be matched.
func Fingerprint(value string) string {
	sum := sha256.Sum256([]byte(value))
	var b [8]byte
	hex.Encode(b[:], sum[:4])
	return "sha256:" + string(b[:]) + ":len=" + strconv.Itoa(len(value))
}

// Placeholder renders the text that stands in for a redacted value of the given kind.
func Placeholder(kind, value string) string {
	return placeholderPrefix + kind + ":" + Fingerprint(value) + "]"
}

// SecretRef names one redacted secret: its kind and fingerprint.
type SecretRef struct {
	Kind        string `json:"kind"`
	Fingerprint string `json:"fingerprint"`
}

// Placeholders lists the redacted secrets mentioned in text, in order of first appearance.
func Placeholders(text string) []SecretRef {
	var refs []SecretRef
	seen := map[string]bool{}
	for _, m := range placeholderPattern.FindAllStringSubmatch(text, -1) {
		if seen[m[0]] {
			continue
		}
		seen[m[0]] = true
		refs = append(refs, SecretRef{Kind: m[1], Fingerprint: m[2]})
	}
	return refs
}

type knownSecret struct {
	value       string // as it may appear in text (raw, or URL-escaped)
	kind        string
	placeholder string
	raw         string // the secret itself, for Resolve
}

// Redactor replaces secrets with fingerprinted placeholders. Exact values it has been told
// about (AddSecret) are caught anywhere; structural rules catch secrets by parameter,
// JSON key or header name, bearer credentials and JWTs. It is safe for concurrent use.
type Redactor struct {
	// mu guards everything below: redaction reads under RLock, AddSecret writes under Lock.
	mu      sync.RWMutex
	known   knownIndex
	secrets map[string]secretInfo // raw value -> how it was learned, so known values skip hashing
	byVal   map[string]string     // every form of every known value, to add each once
	byFP    map[string]string     // fingerprint -> raw value, for Resolve
}

type secretInfo struct {
	kind, placeholder string
}

// fingerprint is the fingerprint inside a placeholder of the given kind.
func placeholderFingerprint(kind, placeholder string) string {
	return placeholder[len(placeholderPrefix)+len(kind)+1 : len(placeholder)-1]
}

// NewRedactor returns a Redactor with the structural rules and no known values.
func NewRedactor() *Redactor {
	return &Redactor{secrets: map[string]secretInfo{}, byVal: map[string]string{}, byFP: map[string]string{}}
}

// AddSecret registers an exact value to redact wherever it appears, labelled with kind.
// Values shorter than 6 bytes are only redacted by the structural rules.
func (r *Redactor) AddSecret(kind, value string) {
	if len(value) < minKnownSecret || strings.HasPrefix(value, placeholderPrefix) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.secrets[value]; ok {
		return
	}
	fp := Fingerprint(value)
	ph := placeholderPrefix + kind + ":" + fp + "]"
	r.secrets[value] = secretInfo{kind: kind, placeholder: ph}
	r.byFP[fp] = value
	add := func(v string) {
		if _, ok := r.byVal[v]; ok || len(v) < minKnownSecret {
			return
		}
		r.byVal[v] = kind
		r.known.add(&knownSecret{value: v, kind: kind, placeholder: ph, raw: value})
	}
	add(value)
	if esc := url.QueryEscape(value); esc != value {
		add(esc)
	}
	if esc, err := json.Marshal(value); err == nil && string(esc[1:len(esc)-1]) != value {
		add(string(esc[1 : len(esc)-1]))
	}
	if strings.Contains(value, "/") {
		add(strings.ReplaceAll(value, "/", `\/`)) // JSON as PHP writes it by default
	}
}

// Resolve returns the raw value of a secret this Redactor has seen, by fingerprint, so a
// replay in the same process can resend it. It satisfies SecretResolver.
func (r *Redactor) Resolve(kind, fingerprint string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.byFP[fingerprint]
	return v, ok
}

// placeholderFor redacts one structurally found value and reports it to note (may be
// nil). A value already known keeps the kind it was first learned as: the token= of an
// introspection call is the access_token the token endpoint handed out.
func (r *Redactor) placeholderFor(kind, value string, note func(kind, value, fp string)) string {
	var fp string
	r.mu.RLock()
	info, ok := r.secrets[value]
	r.mu.RUnlock()
	ph := info.placeholder
	if ok {
		kind = info.kind
		fp = placeholderFingerprint(kind, ph)
	} else {
		fp = Fingerprint(value)
		ph = placeholderPrefix + kind + ":" + fp + "]"
	}
	if note != nil {
		note(kind, value, fp)
	}
	return ph
}

// RedactString redacts free text: known values, name=value and "name":"value" pairs with
// secret names, bearer credentials and JWTs.
func (r *Redactor) RedactString(s string) string {
	return r.redactText(s, nil)
}

func (r *Redactor) redactText(s string, note func(kind, value, fp string)) string {
	if s == "" {
		return s
	}
	s = r.redactKnown(s, note)
	s = r.redactPairs(s, note)
	s = r.redactBearer(s, note)
	s = r.redactJWTs(s, note)
	return s
}

// redactKnown replaces exact known values.
func (r *Redactor) redactKnown(s string, note func(kind, value, fp string)) string {
	var found []*knownSecret
	r.mu.RLock()
	s = r.known.replace(s, func(k *knownSecret) { found = append(found, k) })
	r.mu.RUnlock()
	// note may learn secrets (AddSecret takes the write lock), so it runs unlocked.
	if note != nil {
		for _, k := range found {
			note(k.kind, k.raw, placeholderFingerprint(k.kind, k.placeholder))
		}
	}
	return s
}

// isWordByte reports whether c can be part of a parameter name.
func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// secretKind returns the kind for a parameter name, case-insensitively.
func secretKind(name string) (string, bool) {
	if !maybeSecretName(name) {
		return "", false
	}
	if k, ok := secretNames[name]; ok {
		return k, true
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			k, ok := secretNames[strings.ToLower(name)]
			return k, ok
		}
	}
	return "", false
}

// secretNameShape[c] has bit n set when a secret name of n bytes starts with c.
var secretNameShape = func() (t [utf8.RuneSelf]uint32) {
	for name := range secretNames {
		t[name[0]] |= 1 << len(name)
	}
	return t
}()

// maybeSecretName rules out most names without hashing them: an ASCII name, lower-cased,
// keeps its length and first letter, and no secret name has both. Other names are left
// to the full comparison.
func maybeSecretName[T string | []byte](name T) bool {
	if len(name) == 0 || len(name) >= 32 {
		return len(name) != 0
	}
	c := name[0]
	if c >= utf8.RuneSelf {
		return true
	}
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	if secretNameShape[c]&(1<<len(name)) != 0 {
		return true
	}
	for i := 1; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// redactPairs finds name=value (query strings, form bodies, error messages) and
// "name":"value" (JSON embedded in text) with secret names and redacts the values.
func (r *Redactor) redactPairs(s string, note func(kind, value, fp string)) string {
	var out strings.Builder
	last := 0
	// The next '=' and ':' at or after i, found with IndexByte rather than byte by byte.
	eq, colon := -1, -1
	for i := 0; i < len(s); i++ {
		if eq < i {
			eq = indexByteFrom(s, i, '=')
		}
		if colon < i {
			colon = indexByteFrom(s, i, ':')
		}
		if i = min(eq, colon); i == len(s) {
			break
		}
		c := s[i]
		nameEnd := i
		quoted := false
		if c == ':' {
			// Only "name": "value" (JSON style), not URLs or header lines.
			j := i - 1
			for j >= 0 && (s[j] == ' ' || s[j] == '\t') {
				j--
			}
			if j < 0 || s[j] != '"' {
				continue
			}
			nameEnd = j
			quoted = true
		}
		nameStart := nameEnd
		for nameStart > 0 && isWordByte(s[nameStart-1]) {
			nameStart--
		}
		if nameStart == nameEnd {
			continue
		}
		if quoted && (nameStart == 0 || s[nameStart-1] != '"') {
			continue
		}
		kind, ok := secretKind(s[nameStart:nameEnd])
		if !ok {
			continue
		}
		// The value.
		vs := i + 1
		var ve int
		if quoted {
			for vs < len(s) && (s[vs] == ' ' || s[vs] == '\t') {
				vs++
			}
			if vs >= len(s) || s[vs] != '"' {
				continue
			}
			vs++
			ve = vs
			for ve < len(s) && s[ve] != '"' {
				if s[ve] == '\\' {
					ve++
				}
				ve++
			}
			if ve > len(s) {
				ve = len(s)
			}
		} else {
			if vs < len(s) && s[vs] == '"' {
				vs++
			}
			ve = vs
			for ve < len(s) && !isValueEnd(s[ve]) {
				ve++
			}
		}
		value := s[vs:ve]
		if value == "" || strings.HasPrefix(value, placeholderPrefix) || kind == KindCode && (quoted && looksLikeErrorCode(value) || isUpperSnake(value)) {
			continue
		}
		raw := value
		if !quoted {
			if u, err := url.QueryUnescape(value); err == nil {
				raw = u
			}
		} else if strings.IndexByte(value, '\\') >= 0 {
			var u string
			if json.Unmarshal([]byte(`"`+value+`"`), &u) == nil {
				raw = u
			}
		}
		out.WriteString(s[last:vs])
		out.WriteString(r.placeholderFor(kind, raw, note))
		last = ve
		i = ve - 1
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// indexByteFrom is the index of the first c in s at or after from, or len(s).
func indexByteFrom(s string, from int, c byte) int {
	if k := strings.IndexByte(s[from:], c); k >= 0 {
		return from + k
	}
	return len(s)
}

func isValueEnd(c byte) bool {
	switch c {
	case '&', ' ', '\t', '\r', '\n', '"', '\'', ';', ',', '<', '>', '#', ')', '}', ']', '\\':
		return true
	}
	return false
}

// redactBearer replaces the credential after "Bearer " in text, leaving auth-params
// such as `Bearer realm="api"` (a WWW-Authenticate challenge) alone.
func (r *Redactor) redactBearer(s string, note func(kind, value, fp string)) string {
	var out strings.Builder
	last := 0
	for from := 0; ; {
		i := strings.Index(s[from:], "earer ")
		if i < 0 {
			break
		}
		i += from
		from = i + 6
		if i == 0 || (s[i-1] != 'B' && s[i-1] != 'b') {
			continue
		}
		vs := i + 6
		ve := vs
		for ve < len(s) && isToken68(s[ve]) {
			ve++
		}
		base := ve
		for ve < len(s) && s[ve] == '=' {
			ve++
		}
		if ve == vs || strings.HasPrefix(s[vs:], placeholderPrefix) {
			continue
		}
		if ve > base && ve < len(s) && (s[ve] == '"' || isWordByte(s[ve])) {
			continue // an auth-param, not a credential
		}
		if !looksLikeCredential(s[vs:ve]) {
			continue // prose such as "a Bearer token", not a credential
		}
		out.WriteString(s[last:vs])
		out.WriteString(r.placeholderFor(KindAccessToken, s[vs:ve], note))
		last = ve
		from = ve
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// looksLikeCredential tells a token from a word: long enough and not only lower-case letters.
func looksLikeCredential(v string) bool {
	if len(v) < 12 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 'a' || c > 'z' {
			return true
		}
	}
	return false
}

func isToken68(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

func isB64URL(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '-' || c == '_'
}

// redactJWTs replaces anything shaped like a compact JWS/JWE ("eyJ" header, dot-separated
// base64url segments) that no other rule caught.
func (r *Redactor) redactJWTs(s string, note func(kind, value, fp string)) string {
	var out strings.Builder
	last := 0
	for from := 0; ; {
		// Look for the rarer 'J' of "eyJ": text is full of e's.
		j := strings.IndexByte(s[from:], 'J')
		if j < 0 {
			break
		}
		j += from
		i := j - 2
		from = j + 1
		if i < 0 || s[i] != 'e' || s[i+1] != 'y' || i < last {
			continue
		}
		if i > 0 && isB64URL(s[i-1]) {
			continue
		}
		end, dots := i, 0
		for end < len(s) && (isB64URL(s[end]) || s[end] == '.') {
			if s[end] == '.' {
				dots++
			}
			end++
		}
		if dots < 2 || end-i < 20 {
			continue
		}
		out.WriteString(s[last:i])
		out.WriteString(r.placeholderFor(KindJWT, s[i:end], note))
		last = end
		from = end
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// RedactURL redacts a URL: secret query and fragment parameters by name, user-info
// passwords, and known values anywhere.
func (r *Redactor) RedactURL(raw string) string {
	return r.redactURL(raw, nil)
}

func (r *Redactor) redactURL(raw string, note func(kind, value, fp string)) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		hostEnd := strings.IndexAny(rest, "/?#")
		if hostEnd < 0 {
			hostEnd = len(rest)
		}
		if at := strings.LastIndexByte(rest[:hostEnd], '@'); at >= 0 {
			if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
				pw := rest[colon+1 : at]
				if u, err := url.PathUnescape(pw); err == nil {
					pw = u
				}
				raw = raw[:i+3] + rest[:colon+1] + r.placeholderFor(KindPassword, pw, note) + rest[at:]
			}
		}
	}
	// redactPairs handles ?a=b&c=d and #access_token=...; the other rules cover the path.
	return r.redactText(raw, note)
}

// RedactHeader returns a redacted copy of h.
func (r *Redactor) RedactHeader(h http.Header) http.Header { return redactHeader(r, h, nil) }

// RedactHeaderValue redacts one header value given its name.
func (r *Redactor) RedactHeaderValue(name, value string) string {
	return r.redactHeaderValue(name, value, nil)
}

func (r *Redactor) redactHeaderValue(name, v string, note func(kind, value, fp string)) string {
	if v == "" {
		return v
	}
	class, ok := headerClasses[name]
	if !ok {
		name = textproto.CanonicalMIMEHeaderKey(name)
		class = headerClasses[name]
	}
	switch class {
	case headerAuthorization:
		return r.redactAuthorization(v, note)
	case headerCookie:
		return r.redactCookiePairs(v, note)
	case headerSetCookie:
		pair, attrs, _ := strings.Cut(v, ";")
		red := r.redactCookiePairs(pair, note)
		if attrs != "" || strings.Contains(v, ";") {
			return red + ";" + attrs
		}
		return red
	case headerURL:
		return r.redactURL(v, note)
	case headerSecret:
		return r.placeholderFor(secretHeaders[name], v, note)
	case headerMetadata:
		return r.redactKnown(v, note)
	default:
		return r.redactText(v, note)
	}
}

// redactAuthorization keeps the scheme. Basic credentials keep the client_id visible,
// because support needs it: "Basic my-client:[redacted:client_secret:...]".
func (r *Redactor) redactAuthorization(v string, note func(kind, value, fp string)) string {
	scheme, cred, found := strings.Cut(strings.TrimSpace(v), " ")
	if !found {
		if v == "" || strings.HasPrefix(v, placeholderPrefix) {
			return v
		}
		return r.placeholderFor(KindAuthorization, v, note)
	}
	cred = strings.TrimSpace(cred)
	if cred == "" || strings.HasPrefix(cred, placeholderPrefix) || strings.Contains(cred, ":"+placeholderPrefix) {
		return v
	}
	switch {
	case strings.EqualFold(scheme, "bearer"), strings.EqualFold(scheme, "dpop"):
		return scheme + " " + r.placeholderFor(KindAccessToken, cred, note)
	case strings.EqualFold(scheme, "basic"):
		if dec, err := base64.StdEncoding.DecodeString(cred); err == nil && utf8.Valid(dec) {
			if user, pass, ok := strings.Cut(string(dec), ":"); ok {
				// RFC 6749 2.3.1: both parts are form-encoded before base64.
				if u, err := url.QueryUnescape(pass); err == nil {
					pass = u
				}
				return scheme + " " + user + ":" + r.placeholderFor(KindClientSecret, pass, note)
			}
		}
		return scheme + " " + r.placeholderFor(KindAuthorization, cred, note)
	default:
		return scheme + " " + r.placeholderFor(KindAuthorization, cred, note)
	}
}

// redactCookiePairs keeps cookie names and redacts their values.
func (r *Redactor) redactCookiePairs(v string, note func(kind, value, fp string)) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		name, val, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(val) == "" || strings.HasPrefix(strings.TrimSpace(val), placeholderPrefix) {
			continue
		}
		parts[i] = name + "=" + r.placeholderFor(KindCookie, strings.TrimSpace(val), note)
	}
	return strings.Join(parts, ";")
}

// RedactBody redacts a body according to its content type: form bodies by parameter
// name, JSON bodies by key at any depth (keeping the original layout), everything else
// as free text. Invalid JSON falls back to the free-text rules.
func (r *Redactor) RedactBody(contentType string, body []byte) []byte {
	return r.redactBody(contentType, body, nil)
}

func (r *Redactor) redactBody(contentType string, body []byte, note func(kind, value, fp string)) []byte {
	if len(body) == 0 {
		return body
	}
	return []byte(r.redactBodyText(contentType, body, note))
}

// redactBodyText is redactBody returning text, as the log stores it: the body is copied
// once, not once per conversion.
func (r *Redactor) redactBodyText(contentType string, body []byte, note func(kind, value, fp string)) string {
	if len(body) == 0 {
		return ""
	}
	mt := mediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return r.redactText(string(body), note)
	case mt == "application/jwt":
		return r.placeholderFor(KindJWT, strings.TrimSpace(string(body)), note)
	case isJSONType(mt) || (mt == "" || mt == "text/plain") && looksLikeJSON(body):
		if out, ok := r.redactJSON(body, note); ok {
			return r.redactText(string(out), note)
		}
	}
	return r.redactText(string(body), note)
}

func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func isJSONType(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json"
}

func looksLikeJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// redactJSON walks JSON text and replaces string values under secret keys, leaving
// every other byte as it was. ok is false when the text is not JSON (unbalanced brackets
// or an unterminated string); the caller then falls back to the free-text rules, which
// it applies to the result anyway.
func (r *Redactor) redactJSON(in []byte, note func(kind, value, fp string)) (out []byte, ok bool) {
	// Stack of containers: true for an object. In an object, key holds the last key read
	// and expectKey says whether the next string is a key.
	type frame struct {
		object     bool
		expectKey  bool
		keyEscaped bool
		key        []byte // the last key, quoted, as it appears in the input
	}
	var stackSpace [16]frame
	stack := stackSpace[:0]
	var buf []byte
	last := 0
	for i := 0; i < len(in); i++ {
		switch c := in[i]; c {
		case '{':
			stack = append(stack, frame{object: true, expectKey: true})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			if len(stack) == 0 {
				return nil, false
			}
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].expectKey = true
			}
		case '"':
			start := i
			j := i + 1
			escaped := false
			if k := bytes.IndexByte(in[j:], '"'); k >= 0 && bytes.IndexByte(in[j:j+k], '\\') < 0 {
				j += k // no escapes: the next quote ends the string
			} else {
				for ; j < len(in); j++ {
					if in[j] == '\\' {
						escaped = true
						j++
						continue
					}
					if in[j] == '"' {
						break
					}
				}
			}
			if j >= len(in) {
				return nil, false // unterminated string
			}
			tok := in[start : j+1]
			i = j
			n := len(stack)
			if n == 0 {
				continue
			}
			top := &stack[n-1]
			if top.object && top.expectKey {
				top.key, top.keyEscaped = tok, escaped
				top.expectKey = false
				continue
			}
			if !top.object {
				continue
			}
			kind, secret := secretKeyKind(top.key, top.keyEscaped)
			if !secret {
				continue
			}
			value := unquoteJSON(tok, escaped)
			if value == "" || strings.HasPrefix(value, placeholderPrefix) {
				continue
			}
			if kind == KindCode && looksLikeErrorCode(value) {
				continue // LinkedIn's API errors say "code": "REVOKED_ACCESS_TOKEN"
			}
			if buf == nil {
				buf = make([]byte, 0, len(in)+64)
			}
			buf = append(buf, in[last:start]...)
			buf = append(buf, '"')
			buf = append(buf, r.placeholderFor(kind, value, note)...)
			buf = append(buf, '"')
			last = j + 1
		}
	}
	if len(stack) != 0 {
		return nil, false
	}
	if buf == nil {
		return in, true
	}
	return append(buf, in[last:]...), true
}

// looksLikeErrorCode tells an error code ("REVOKED_ACCESS_TOKEN", "userinfo.GET.NO_VERSION",
// "invalid_grant") from an authorization code, which is random and has digits. A code
// seen before is redacted anyway, since the exact value is known.
func looksLikeErrorCode(v string) bool {
	if len(v) > 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isUpperSnake matches API error codes written as code=REVOKED_ACCESS_TOKEN in free text.
// Random authorization codes are mixed-case, so they never match.
func isUpperSnake(v string) bool {
	if len(v) < 3 || len(v) > 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// secretKeyKind is secretKind for a quoted JSON key, without copying a plain ASCII key.
func secretKeyKind(tok []byte, escaped bool) (string, bool) {
	name := tok[1 : len(tok)-1]
	if escaped {
		return secretKind(unquoteJSON(tok, true))
	}
	if !maybeSecretName(name) {
		return "", false
	}
	if k, ok := secretNames[string(name)]; ok {
		return k, true
	}
	var lower [32]byte
	if len(name) > len(lower) {
		return secretKind(string(name))
	}
	upper := false
	for i, c := range name {
		switch {
		case c >= utf8.RuneSelf:
			return secretKind(string(name)) // let strings.ToLower fold it
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
			upper = true
		}
		lower[i] = c
	}
	if !upper {
		return "", false
	}
	k, ok := secretNames[string(lower[:len(name)])]
	return k, ok
}

func unquoteJSON(tok []byte, escaped bool) string {
	if !escaped {
		return string(tok[1 : len(tok)-1])
	}
	var s string
	if json.Unmarshal(tok, &s) != nil {
		return string(tok[1 : len(tok)-1])
	}
	return s
}
