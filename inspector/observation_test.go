package inspector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/oauthdiag/oauthdiag/httplog"
)

func TestClassifyTransport(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: err}}
	}
	tests := []struct {
		name string
		err  error
		want httplog.ErrorKind
		code string
	}{
		{"DNS", fmt.Errorf("get: %w", &net.DNSError{Err: "no such host", Name: "www.linkedln.com", IsNotFound: true}), httplog.ErrorDNS, CodeNetworkUnreachable},
		{"refused", opErr(syscall.ECONNREFUSED), httplog.ErrorConnectionRefused, CodeNetworkUnreachable},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}, httplog.ErrorReset, CodeNetworkUnreachable},
		{"deadline", fmt.Errorf("request: %w", context.DeadlineExceeded), httplog.ErrorTimeout, CodeTimeout},
		{"untrusted certificate", fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), httplog.ErrorTLS, CodeTLSError},
		{"canceled", fmt.Errorf("request: %w", context.Canceled), httplog.ErrorCanceled, ""},
		// The recorder's classification is the one of record: these are what it knows beyond the above.
		{"closed mid-answer", fmt.Errorf("reading the response: %w", io.ErrUnexpectedEOF), httplog.ErrorReset, CodeNetworkUnreachable},
		{"closed without an answer", fmt.Errorf("Post: %w", io.EOF), httplog.ErrorReset, CodeNetworkUnreachable},
		{"TLS alert", &net.OpError{Op: "remote error", Err: tls.AlertError(42)}, httplog.ErrorTLS, CodeTLSError},
		{"expired certificate", fmt.Errorf("tls: %w", x509.CertificateInvalidError{Reason: x509.Expired}), httplog.ErrorTLS, CodeTLSError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := FromError(tt.err)
			if o.Transport != tt.want {
				t.Fatalf("transport = %q, want %q", o.Transport, tt.want)
			}
			ds := Diagnose([]Observation{o}, Context{})
			if tt.code == "" {
				if len(ds) != 0 {
					t.Fatalf("a cancelled run is not a fault: %v", codes(ds))
				}
				return
			}
			if len(ds) != 1 || ds[0].Code != tt.code {
				t.Fatalf("diagnoses %v, want %s", codes(ds), tt.code)
			}
		})
	}
	if d := Diagnose([]Observation{FromError(tests[0].err)}, Context{}); !strings.Contains(d[0].Fix, "does not resolve") {
		t.Errorf("a DNS failure's fix should say the name does not resolve: %q", d[0].Fix)
	}
}

func TestSummariseBody(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>Sign In | Corp SSO</title><style>body{color:red}</style>
<script>var token = "do-not-show";</script></head><body><h1>Please sign in</h1><p>Your session &amp; cookies expired.</p></body></html>`
	tests := []struct {
		ct, body, kind, summary string
	}{
		{"text/html", page, BodyHTML, `HTML page titled "Sign In | Corp SSO": Please sign in Your session & cookies expired.`},
		{"application/json", `{"error":"invalid_grant"}`, BodyJSON, "JSON, 25 bytes"},
		{"text/html", `<html><head><title>Connexion&nbsp;&ndash; SSO</title></head><body><p>L&rsquo;application n&#x27;est pas autoris&eacute;e.</p></body></html>`, BodyHTML,
			`HTML page titled "Connexion – SSO": L’application n'est pas autorisée.`},
		{"", "  ", BodyEmpty, "empty body"},
		{"text/plain", "The requested redirect_uri is missing in the client configuration.", BodyText, "non-JSON body (text/plain), 66 bytes: The requested redirect_uri is missing in the client configuration."},
		{"application/x-www-form-urlencoded", "error=invalid_client", BodyForm, "form-encoded, 20 bytes"},
	}
	for _, tt := range tests {
		kind, summary := summariseBody(tt.ct, []byte(tt.body))
		if kind != tt.kind || summary != tt.summary {
			t.Errorf("summariseBody(%q) = %s %q, want %s %q", tt.ct, kind, summary, tt.kind, tt.summary)
		}
	}
	if _, s := summariseBody("text/html", []byte(page)); strings.Contains(s, "do-not-show") {
		t.Error("script content leaked into the summary")
	}
}

func TestFromResponseReadsEveryErrorShape(t *testing.T) {
	tests := []struct {
		name             string
		status           int
		header           http.Header
		body             string
		oauth, desc, api string
		service          int
	}{
		{"RFC 6749 JSON", 400, http.Header{"Content-Type": {"application/json"}}, `{"error":"invalid_grant","error_description":"grant request is invalid"}`, "invalid_grant", "grant request is invalid", "", 0},
		{"LinkedIn API, serviceErrorCode as number", 401, http.Header{"Content-Type": {"application/json"}}, `{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token has been revoked"}`, "", "", "REVOKED_ACCESS_TOKEN", 65601},
		{"serviceErrorCode as string", 403, nil, `{"serviceErrorCode":"100","message":"Not enough permissions"}`, "", "", "", 100},
		{"form-encoded OAuth error", 400, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, `error=invalid_client&error_description=bad`, "invalid_client", "bad", "", 0},
		{"RFC 6750 challenge", 401, http.Header{"Www-Authenticate": {`Bearer realm="api", error="invalid_token", error_description="invalid token provided"`}}, ``, "invalid_token", "invalid token provided", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := FromResponse("userinfo", tt.status, tt.header, []byte(tt.body))
			if o.OAuthError != tt.oauth || o.ErrorDescription != tt.desc || o.APICode != tt.api || o.ServiceErrorCode != tt.service || !o.Failed {
				t.Fatalf("%+v", o)
			}
		})
	}
}
