package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// LinkedIn's token-endpoint messages, word for word.
const (
	msgCodeNotFound  = "Unable to retrieve access token: authorization code not found"
	msgCodeMismatch  = "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists"
	msgGrantInvalid  = "The provided authorization grant or refresh token is invalid, expired or revoked"
	msgClientAuth    = "Client authentication failed"
	msgInvalidClient = "Invalid client id or token"
	msgInvalidSecret = "Invalid client secret"
)

// oauthError is an error answer of the token, introspection or revocation
// endpoint: JSON {"error","error_description"}.
type oauthError struct {
	status int
	code   string
	desc   string
	// basic: the client authenticated with HTTP Basic; a strict 401 then carries
	// WWW-Authenticate as RFC 6749 section 5.2 requires.
	basic bool
}

func (e *oauthError) Error() string { return e.code + ": " + e.desc }

func missingParam(name string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request",
		desc: fmt.Sprintf("A required parameter %q is missing", name)}
}

func invalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: desc}
}

// vocabulary turns a failure into the compliance mode's code and message.
type vocabulary struct{ c Compliance }

func (v vocabulary) strict() bool { return v.c == ComplianceStrict }

func (v vocabulary) badClient(basic bool) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: msgClientAuth, basic: basic}
}

// missingSecret: LinkedIn names the missing parameter; RFC 6749 calls a
// confidential client without credentials an authentication failure.
func (v vocabulary) missingSecret(basic bool) *oauthError {
	if v.strict() {
		return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: "client authentication required: client_secret is missing", basic: basic}
	}
	return missingParam("client_secret")
}

func (v vocabulary) codeNotFound() *oauthError {
	if v.strict() {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", desc: "authorization code not found"}
	}
	return invalidRequest(msgCodeNotFound)
}

// codeReused: LinkedIn forgets a redeemed code, so reuse reads as "not found".
func (v vocabulary) codeReused() *oauthError {
	if v.strict() {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", desc: "authorization code has already been used"}
	}
	return invalidRequest(msgCodeNotFound)
}

// codeMismatch covers an expired code, a code of another client, a different
// redirect_uri and a failed PKCE check: LinkedIn lumps them into one
// invalid_redirect_uri answer; strict mode says which.
func (v vocabulary) codeMismatch(detail string) *oauthError {
	if v.strict() {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", desc: detail}
	}
	return &oauthError{status: http.StatusBadRequest, code: "invalid_redirect_uri", desc: msgCodeMismatch}
}

func (v vocabulary) badRefresh(detail string) *oauthError {
	if v.strict() {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", desc: detail}
	}
	return invalidRequest(msgGrantInvalid)
}

func (v vocabulary) refreshNotAllowed() *oauthError {
	if v.strict() {
		return &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", desc: "the client is not authorized to use the refresh_token grant"}
	}
	return invalidRequest(msgGrantInvalid)
}

func (s *Server) writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized && e.basic && s.cfg.compliance == ComplianceStrict {
		w.Header().Set("WWW-Authenticate", `Basic realm="sandbox", charset="UTF-8"`)
	}
	writeJSON(w, e.status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{e.code, e.desc})
}

// writeJSON writes v with the no-store headers RFC 6749 asks of token responses;
// they do no harm elsewhere.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "sandbox: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// apiError is LinkedIn's API error body.
type apiError struct {
	Status           int    `json:"status"`
	ServiceErrorCode int    `json:"serviceErrorCode,omitempty"`
	Code             string `json:"code,omitempty"`
	Message          string `json:"message"`
}

// API error values. serviceErrorCode 65600, 65601 and 100 are observed at
// LinkedIn; 65602 for expiry is the sandbox's choice; clients should branch on
// status and code.
func errEmptyToken() apiError {
	return apiError{Status: 401, ServiceErrorCode: 401, Code: "EMPTY_ACCESS_TOKEN", Message: "Empty oauth2_access_token"}
}

func errUnknownSchema() apiError {
	return apiError{Status: 401, ServiceErrorCode: 401, Code: "UNKNOWN_AUTHENTICATION_SCHEMA", Message: "Unknown authentication schema"}
}

func errInvalidToken() apiError {
	return apiError{Status: 401, ServiceErrorCode: 65600, Code: "INVALID_ACCESS_TOKEN", Message: "Invalid access token"}
}

func errExpiredToken() apiError {
	return apiError{Status: 401, ServiceErrorCode: 65602, Code: "EXPIRED_ACCESS_TOKEN", Message: "Expired access token"}
}

func errRevokedToken() apiError {
	return apiError{Status: 401, ServiceErrorCode: 65601, Code: "REVOKED_ACCESS_TOKEN", Message: "The token has been revoked"}
}

func errAccessDenied(resource string) apiError {
	return apiError{Status: 403, ServiceErrorCode: 100, Code: "ACCESS_DENIED", Message: "Not enough permissions to access: " + resource}
}

func errThrottled() apiError {
	return apiError{Status: 429, Code: "TOO_MANY_REQUESTS", Message: "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}
}

func errInternal() apiError {
	return apiError{Status: 500, Code: "INTERNAL_SERVER_ERROR", Message: "Internal Server Error"}
}

func errUnavailable() apiError {
	return apiError{Status: 503, Code: "SERVICE_UNAVAILABLE", Message: "Service Unavailable"}
}

func errVersionMissing() apiError {
	return apiError{Status: 400, Code: "VERSION_MISSING", Message: "A version must be present. Please specify a version by adding the LinkedIn-Version header."}
}

func errVersionInactive(v string) apiError {
	return apiError{Status: 426, Code: "NONEXISTENT_VERSION", Message: fmt.Sprintf("Requested version %s is not active", v)}
}

func errNotFound() apiError {
	return apiError{Status: 404, Code: "RESOURCE_NOT_FOUND", Message: "No virtual resource found"}
}

func errMethodNotAllowed() apiError {
	return apiError{Status: 405, Code: "METHOD_NOT_ALLOWED", Message: "Method not allowed"}
}
