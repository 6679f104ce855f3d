package browser

import (
	"net/url"
	"slices"
	"strings"
)

// isRedirectTo reports whether u is the client's redirect URI: it starts with the registered string, or it
// has the same scheme, host, port and path and carries the registered URI's query parameters.
func isRedirectTo(u, target *url.URL, redirectURI string) bool {
	if u == nil {
		return false
	}
	if strings.HasPrefix(u.String(), redirectURI) {
		return true
	}
	if !strings.EqualFold(u.Scheme, target.Scheme) || !strings.EqualFold(u.Hostname(), target.Hostname()) ||
		effectivePort(u) != effectivePort(target) || u.Opaque != target.Opaque {
		return false
	}
	if normalPath(u.EscapedPath()) != normalPath(target.EscapedPath()) {
		return false
	}
	got := u.Query()
	for k, want := range target.Query() {
		for _, v := range want {
			if !slices.Contains(got[k], v) {
				return false
			}
		}
	}
	return true
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

func normalPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// isSecretParam reports whether a URL parameter's value is redacted wherever the browser writes a
// URL (trace, errors).
func isSecretParam(name string) bool {
	switch name {
	case "code", "state", "access_token", "id_token", "refresh_token", "token", "client_secret", "code_verifier",
		"client_assertion", "assertion", "password", "passwd", "pwd", "pass", "session_password":
		return true
	}
	return false
}

// redactSecretsInURL renders u with the values of secret query and fragment parameters (and of the extra
// names, e.g. a form's password fields) replaced by REDACTED, and any userinfo password hidden.
func redactSecretsInURL(u *url.URL, extra map[string]bool) string {
	if u == nil {
		return ""
	}
	c := *u
	c.RawQuery = redactParams(c.RawQuery, extra)
	if c.Fragment != "" {
		c.Fragment = ""
		c.RawFragment = ""
		s := c.Redacted()
		return s + "#" + redactParams(u.EscapedFragment(), extra)
	}
	return c.Redacted()
}

func redactParams(raw string, extra map[string]bool) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(name)
		if err != nil {
			key = name
		}
		key = strings.ToLower(key)
		if hasValue && (isSecretParam(key) || extra[key]) {
			parts[i] = name + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}
