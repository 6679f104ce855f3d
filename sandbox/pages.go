package sandbox

import (
	"bytes"
	"html/template"
	"net/http"
)

// pages are parsed once; html/template escapes every value, including the
// client id and redirect_uri a caller controls.
var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} | LinkedIn Sandbox</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f2ee;color:#191919;margin:0}
main{max-width:28rem;margin:3rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;box-shadow:0 2px 6px rgba(0,0,0,.15)}
h1{font-size:1.6rem;margin-top:0}
label{display:block;margin:.8rem 0}
input[type=text],input[type=password]{display:block;width:100%;box-sizing:border-box;padding:.6rem;margin-top:.3rem;font-size:1rem}
button{font-size:1rem;padding:.6rem 1.4rem;border-radius:2rem;border:1px solid #0a66c2;cursor:pointer;margin:.4rem .4rem 0 0}
button.primary{background:#0a66c2;color:#fff}
button.secondary{background:#fff;color:#0a66c2}
.error{color:#b24020;font-weight:600}
.hint,.small{color:#666;font-size:.9rem}
code{word-break:break-all}
.banner{font-size:.8rem;color:#666;text-transform:uppercase;letter-spacing:.05em}
</style>
</head>
<body>
<main>
<p class="banner">LinkedIn sandbox &middot; not the real LinkedIn</p>
{{end}}

{{define "foot"}}</main>
</body>
</html>
{{end}}

{{define "login"}}{{template "head" .}}
<h1>Sign in</h1>
<p><strong>{{.ClientID}}</strong> wants you to sign in with LinkedIn.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/v2/login">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<label>Email or phone
<input type="text" name="session_key" autocomplete="username" value="{{.SessionKey}}"></label>
<label>Password
<input type="password" name="session_password" autocomplete="current-password"></label>
<p class="hint">Any non-empty email and password sign in as the sandbox member Ada Lovelace.</p>
<button type="submit" class="primary" name="action" value="login">Sign in</button>
<button type="submit" class="secondary" name="action" value="cancel">Cancel</button>
</form>
{{template "foot" .}}{{end}}

{{define "consent"}}{{template "head" .}}
<h1>Allow access?</h1>
<p><strong>{{.ClientID}}</strong> would like to:</p>
<ul>
{{range .Scopes}}<li>{{.Text}} <span class="small">({{.Name}})</span></li>
{{end}}</ul>
<p class="small">You will be sent back to <code>{{.RedirectURI}}</code>.</p>
<form method="post" action="/oauth/v2/consent">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<button type="submit" class="primary" name="action" value="allow">Allow</button>
<button type="submit" class="secondary" name="action" value="cancel">Cancel</button>
</form>
{{template "foot" .}}{{end}}

{{define "error"}}{{template "head" .}}
<h1>{{.Title}}</h1>
<p class="error" role="alert">{{.Message}}</p>
{{range .Details}}<p class="small">{{.}}</p>
{{end}}{{template "foot" .}}{{end}}

{{define "index"}}{{template "head" .}}
<h1>LinkedIn sandbox</h1>
<p>Scenario: <strong>{{.Scenario}}</strong> &middot; compliance: <strong>{{.Compliance}}</strong></p>
<ul>
<li>Issuer: <code>{{.Base}}/oauth</code></li>
<li>Discovery: <code>{{.Base}}/oauth/.well-known/openid-configuration</code></li>
<li>Authorization: <code>{{.Base}}/oauth/v2/authorization</code></li>
<li>Token: <code>{{.Base}}/oauth/v2/accessToken</code></li>
<li>Introspection: <code>{{.Base}}/oauth/v2/introspectToken</code></li>
<li>Revocation: <code>{{.Base}}/oauth/v2/revoke</code></li>
<li>JWKS: <code>{{.Base}}/oauth/openid/jwks</code></li>
<li>Userinfo: <code>{{.Base}}/v2/userinfo</code></li>
<li>Legacy profile: <code>{{.Base}}/v2/me</code></li>
</ul>
<p class="small">Clients: {{range .Clients}}<code>{{.}}</code> {{end}}</p>
{{template "foot" .}}{{end}}
`))

type scopeLine struct{ Name, Text string }

type loginPage struct {
	Title, ClientID, RequestID, SessionKey, Error string
}

type consentPage struct {
	Title, ClientID, RequestID, RedirectURI string
	Scopes                                  []scopeLine
}

type errorPage struct {
	Title, Message string
	Details        []string
}

type indexPage struct {
	Title, Base, Scenario, Compliance string
	Clients                           []string
}

// renderPage writes a page, rendering into a buffer first so a template error
// becomes a clean 500 instead of half a page.
func renderPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "sandbox: render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func renderError(w http.ResponseWriter, status int, title, message string, details ...string) {
	renderPage(w, status, "error", errorPage{Title: title, Message: message, Details: details})
}

// handlePicture serves the member's profile picture, a small SVG, so the
// picture claim points somewhere real without leaving the machine.
func (s *Server) handlePicture(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">` +
		`<rect width="100" height="100" fill="#0a66c2"/>` +
		`<text x="50" y="62" font-size="40" text-anchor="middle" fill="#fff" font-family="sans-serif">AL</text></svg>`))
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	ids := make([]string, 0, len(s.cfg.clients))
	for _, c := range s.cfg.clients {
		ids = append(ids, c.id)
	}
	renderPage(w, http.StatusOK, "index", indexPage{
		Title: "Sandbox", Base: s.baseFor(r), Scenario: string(s.Scenario()),
		Compliance: string(s.cfg.compliance), Clients: ids,
	})
}
