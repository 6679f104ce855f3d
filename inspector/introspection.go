package inspector

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// IntrospectionView is one shape for RFC 7662 answers and LinkedIn's introspectToken.
type IntrospectionView struct {
	Shape  oauthflow.IntrospectionShape `json:"shape"`
	Active bool                         `json:"active"`
	// Status is LinkedIn's status (active, expired, revoked) or, for RFC 7662, "active" or
	// "inactive" (RFC 7662 does not say why a token is inactive).
	Status    string   `json:"status"`
	Scopes    []string `json:"scopes,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	// AuthType is LinkedIn's auth_type: 3L (member), 2L (application), Enterprise_User.
	AuthType string `json:"auth_type,omitempty"`
	// Expiry is exp (RFC 7662) or expires_at (LinkedIn); ExpirySource says which.
	Expiry       time.Time    `json:"expiry,omitzero"`
	ExpirySource ExpirySource `json:"expiry_source,omitempty"`
	// IssuedAt is iat or LinkedIn's created_at; AuthorizedAt is LinkedIn's authorized_at, the
	// start of the member's grant (the refresh token's lifetime runs from it).
	IssuedAt     time.Time `json:"issued_at,omitzero"`
	AuthorizedAt time.Time `json:"authorized_at,omitzero"`
	NotBefore    time.Time `json:"not_before,omitzero"`
	// Other are the fields neither shape defines, as sent.
	Other map[string]json.RawMessage `json:"other,omitempty"`
}

var knownIntrospectionFields = []string{"active", "status", "scope", "client_id", "username", "token_type", "sub",
	"aud", "iss", "exp", "iat", "nbf", "jti", "expires_at", "created_at", "authorized_at", "auth_type"}

// NormalizeIntrospection turns an introspection answer into the common view. LinkedIn's
// fields (status, expires_at, auth_type) make it LinkedIn's shape; otherwise shape applies
// ("" meaning RFC 7662).
func NormalizeIntrospection(in *oauthflow.Introspection, shape oauthflow.IntrospectionShape) IntrospectionView {
	if in == nil {
		return IntrospectionView{}
	}
	// LinkedIn's fields tell the shape whatever was configured (a LinkedIn-like server found
	// through discovery is configured as RFC 7662).
	if in.Status != "" || in.ExpiresAt != 0 || in.AuthType != "" {
		shape = oauthflow.IntrospectionLinkedIn
	} else if shape == "" {
		shape = oauthflow.IntrospectionRFC7662
	}
	v := IntrospectionView{
		Shape: shape, Active: in.Active, Scopes: oauthflow.SplitScopes(in.Scope), ClientID: in.ClientID,
		Subject: in.Sub, Username: in.Username, TokenType: in.TokenType, Issuer: in.Iss, AuthType: in.AuthType,
	}
	v.Status = strings.ToLower(in.Status)
	if v.Status == "active" {
		v.Active = true
	}
	if v.Status == "" {
		v.Status = map[bool]string{true: "active", false: "inactive"}[in.Active]
	}
	switch a := in.Aud.(type) {
	case string:
		v.Audience = []string{a}
	case []any:
		for _, x := range a {
			v.Audience = append(v.Audience, fmt.Sprint(x))
		}
	}
	// LinkedIn's expires_at is the field it documents; exp is the RFC's. Prefer the shape's own.
	switch {
	case in.ExpiresAt != 0 && (shape == oauthflow.IntrospectionLinkedIn || in.Exp == 0):
		v.Expiry, v.ExpirySource = epoch(in.ExpiresAt), SourceIntrospectionExpiresAt
	case in.Exp != 0:
		v.Expiry, v.ExpirySource = epoch(in.Exp), SourceIntrospectionExp
	}
	switch {
	case in.Iat != 0:
		v.IssuedAt = epoch(in.Iat)
	case in.CreatedAt != 0:
		v.IssuedAt = epoch(in.CreatedAt)
	}
	if in.AuthorizedAt != 0 {
		v.AuthorizedAt = epoch(in.AuthorizedAt)
	}
	if in.Nbf != 0 {
		v.NotBefore = epoch(in.Nbf)
	}
	for k, raw := range in.Raw {
		if !slices.Contains(knownIntrospectionFields, k) {
			if v.Other == nil {
				v.Other = map[string]json.RawMessage{}
			}
			v.Other[k] = raw
		}
	}
	return v
}

// epoch reads seconds or, for values too large to be seconds, milliseconds: some servers send
// Java timestamps.
func epoch(n int64) time.Time {
	if n > 100_000_000_000 {
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

// Mismatch is a point where the client's belief and the server's answer disagree.
type Mismatch struct {
	Field  string `json:"field"` // status, expiry, scope, client_id
	Local  string `json:"local"`
	Server string `json:"server"`
	Detail string `json:"detail"`
}

// Compare lines up the local token state with the server's introspection of the access token.
// The state should be computed without the introspection, or the two agree by construction.
func Compare(local State, view IntrospectionView) []Mismatch {
	var out []Mismatch
	a := local.Access
	server := view.Status
	switch {
	case a.Status.usable() && a.Status != StatusUnknown && !view.Active:
		out = append(out, Mismatch{Field: "status", Local: string(a.Status), Server: server,
			Detail: "the client believes the access token is usable, the server says " + server + ": the next call will fail with 401"})
	case (a.Status == StatusExpired || a.Status == StatusRevoked) && view.Active:
		out = append(out, Mismatch{Field: "status", Local: string(a.Status), Server: server,
			Detail: "the client believes the access token is " + string(a.Status) + ", the server says active: check the local clock and the stored expiry"})
	}
	if !a.Expiry.IsZero() && !view.Expiry.IsZero() {
		serverLocal := view.Expiry.Add(-local.Skew)
		if d := a.Expiry.Sub(serverLocal); d > DisagreementTolerance || d < -DisagreementTolerance {
			out = append(out, Mismatch{Field: "expiry", Local: oauthflow.FormatUTC(a.Expiry) + " (" + string(a.Source) + ")",
				Server: oauthflow.FormatUTC(serverLocal) + " (" + string(view.ExpirySource) + ")",
				Detail: "the expiry the client computed differs from the server's by " + oauthflow.HumanDuration(oauthflow.AbsDuration(d))})
		}
	}
	if len(local.GrantedScopes) > 0 && len(view.Scopes) > 0 {
		d := ScopeDiff(local.GrantedScopes, view.Scopes)
		if len(d.Missing) > 0 || len(d.Extra) > 0 {
			out = append(out, Mismatch{Field: "scope", Local: strings.Join(local.GrantedScopes, " "), Server: strings.Join(view.Scopes, " "),
				Detail: "the token response and the introspection grant different scopes"})
		}
	}
	return out
}

// IntrospectionRow is one line of an introspection view: a label, the value and, for the
// expiry, a note saying which field it came from.
type IntrospectionRow struct {
	Label, Value, Note string
}

// Rows lays out the view below its status line (which each view styles itself): the fields in
// one order, empty ones left out, then the fields neither shape defines, sorted by name. when
// formats an instant and is only called with non-zero ones.
func (v IntrospectionView) Rows(when func(time.Time) string) []IntrospectionRow {
	var out []IntrospectionRow
	add := func(label, val, note string) {
		if val != "" {
			out = append(out, IntrospectionRow{Label: label, Value: val, Note: note})
		}
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return when(t)
	}
	add("scopes", strings.Join(v.Scopes, " "), "")
	add("client_id", v.ClientID, "")
	add("sub", v.Subject, "")
	add("username", v.Username, "")
	add("token_type", v.TokenType, "")
	add("auth_type", v.AuthType, "")
	add("iss", v.Issuer, "")
	add("aud", strings.Join(v.Audience, " "), "")
	note := ""
	if v.ExpirySource != "" {
		note = "from " + string(v.ExpirySource)
	}
	add("expires", at(v.Expiry), note)
	add("issued", at(v.IssuedAt), "")
	add("authorized_at", at(v.AuthorizedAt), "")
	add("not_before", at(v.NotBefore), "")
	for _, k := range slices.Sorted(maps.Keys(v.Other)) {
		add(k, string(v.Other[k]), "")
	}
	return out
}

// RenderIntrospection renders the view as plain text with times in UTC and relative to now.
func RenderIntrospection(v IntrospectionView, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s %s (active=%t, %s shape)\n", "status:", v.Status, v.Active, v.Shape)
	when := func(t time.Time) string { return oauthflow.FormatUTC(t) + " (" + oauthflow.Relative(t, now) + ")" }
	for _, r := range v.Rows(when) {
		val := r.Value
		if r.Note != "" {
			val += ", " + r.Note
		}
		fmt.Fprintf(&b, "%-15s %s\n", r.Label+":", val)
	}
	return b.String()
}
