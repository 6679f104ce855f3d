package inspector

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

func parseIntrospection(t *testing.T, body string) *oauthflow.Introspection {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	in, err := oauthflow.ParseIntrospection(raw)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestNormalizeIntrospection(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		shape  oauthflow.IntrospectionShape
		want   IntrospectionView
		scopes []string
	}{
		{
			name:  "LinkedIn introspectToken, comma-separated scope",
			body:  `{"active":true,"client_id":"sandbox-client","authorized_at":1767225600,"created_at":1767225600,"status":"active","expires_at":1772409600,"scope":"openid,profile,email","auth_type":"3L"}`,
			shape: "",
			want: IntrospectionView{Shape: oauthflow.IntrospectionLinkedIn, Active: true, Status: "active", ClientID: "sandbox-client", AuthType: "3L",
				Expiry: time.Unix(1772409600, 0).UTC(), ExpirySource: SourceIntrospectionExpiresAt,
				IssuedAt: time.Unix(1767225600, 0).UTC(), AuthorizedAt: time.Unix(1767225600, 0).UTC()},
			scopes: []string{"openid", "profile", "email"},
		},
		{
			name:  "LinkedIn revoked, no active field",
			body:  `{"status":"revoked","client_id":"c","expires_at":1772409600}`,
			shape: oauthflow.IntrospectionLinkedIn,
			want:  IntrospectionView{Shape: oauthflow.IntrospectionLinkedIn, Status: "revoked", ClientID: "c", Expiry: time.Unix(1772409600, 0).UTC(), ExpirySource: SourceIntrospectionExpiresAt},
		},
		{
			name:  "oidc-provider active (peer transcript)",
			body:  `{"active":true,"sub":"alice","client_id":"diag-client","exp":1795394790,"iat":1795391190,"iss":"http://127.0.0.1:9101","scope":"openid profile email offline_access","token_type":"Bearer"}`,
			shape: oauthflow.IntrospectionRFC7662,
			want: IntrospectionView{Shape: oauthflow.IntrospectionRFC7662, Active: true, Status: "active", Subject: "alice", ClientID: "diag-client",
				Issuer: "http://127.0.0.1:9101", TokenType: "Bearer", Expiry: time.Unix(1795394790, 0).UTC(), ExpirySource: SourceIntrospectionExp, IssuedAt: time.Unix(1795391190, 0).UTC()},
			scopes: []string{"openid", "profile", "email", "offline_access"},
		},
		{
			name:  "inactive (oidc-provider and zitadel after revocation)",
			body:  `{"active":false}`,
			shape: oauthflow.IntrospectionRFC7662,
			want:  IntrospectionView{Shape: oauthflow.IntrospectionRFC7662, Status: "inactive"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NormalizeIntrospection(parseIntrospection(t, tt.body), tt.shape)
			if !slices.Equal(got.Scopes, tt.scopes) {
				t.Errorf("scopes %q, want %q", got.Scopes, tt.scopes)
			}
			got.Scopes, got.Other = nil, nil
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tt.want)
			if string(gj) != string(wj) {
				t.Errorf("view\n got %s\nwant %s", gj, wj)
			}
		})
	}
}

func TestNormalizeIntrospectionKeepsUnknownFields(t *testing.T) {
	// zitadel adds the user's profile claims to the introspection answer.
	v := NormalizeIntrospection(parseIntrospection(t, `{"active":true,"scope":"openid","client_id":"diag-client","exp":1795391494,"sub":"id1","username":"test-user@127.0.0.1","name":"Test User","email_verified":true}`), "")
	if v.Shape != oauthflow.IntrospectionRFC7662 || v.Username != "test-user@127.0.0.1" {
		t.Fatalf("view %+v", v)
	}
	if string(v.Other["name"]) != `"Test User"` || string(v.Other["email_verified"]) != "true" || v.Other["sub"] != nil {
		t.Errorf("other fields %v", v.Other)
	}
}

func TestCompareLocalAndServer(t *testing.T) {
	tok := linkedInToken(t)
	now := received.Add(time.Hour)
	local := TokenState(tok, now, StateOptions{})
	tests := []struct {
		name   string
		body   string
		fields []string
		detail string
	}{
		{"agree", `{"active":true,"status":"active","expires_at":` + unix(tok.Expiry) + `,"scope":"openid,profile,email"}`, nil, ""},
		{"server says revoked", `{"active":false,"status":"revoked","expires_at":` + unix(tok.Expiry) + `}`, []string{"status"}, "the server says revoked"},
		{"expiry differs", `{"active":true,"status":"active","expires_at":` + unix(tok.Expiry.Add(-24*time.Hour)) + `}`, []string{"expiry"}, "differs from the server's by 1d"},
		{"scopes differ", `{"active":true,"status":"active","scope":"openid,profile"}`, []string{"scope"}, "different scopes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := Compare(local, NormalizeIntrospection(parseIntrospection(t, tt.body), ""))
			var fields []string
			for _, m := range ms {
				fields = append(fields, m.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Fatalf("mismatches %+v, want fields %v", ms, tt.fields)
			}
			if tt.detail != "" && !strings.Contains(ms[0].Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", ms[0].Detail, tt.detail)
			}
		})
	}
	t.Run("local says expired, server active", func(t *testing.T) {
		expired := TokenState(tok, tok.Expiry.Add(time.Minute), StateOptions{})
		ms := Compare(expired, NormalizeIntrospection(parseIntrospection(t, `{"active":true,"status":"active"}`), ""))
		if len(ms) != 1 || ms[0].Field != "status" || !strings.Contains(ms[0].Detail, "check the local clock") {
			t.Fatalf("%+v", ms)
		}
	})
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestScopeDiff(t *testing.T) {
	tests := []struct {
		name                        string
		requested, granted          []string
		missing, extra, grantedNorm []string
	}{
		{"LinkedIn comma-separated grant", []string{"openid", "profile", "email"}, []string{"openid,profile,email"}, nil, nil, []string{"openid", "profile", "email"}},
		{"scope dropped", []string{"openid profile", "w_member_social"}, []string{"openid", "profile"}, []string{"w_member_social"}, nil, []string{"openid", "profile"}},
		{"extra granted", []string{"openid"}, []string{"openid offline_access"}, nil, []string{"offline_access"}, []string{"openid", "offline_access"}},
		{"case matters", []string{"OpenID"}, []string{"openid"}, []string{"OpenID"}, []string{"openid"}, []string{"openid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ScopeDiff(tt.requested, tt.granted)
			if !slices.Equal(d.Missing, tt.missing) || !slices.Equal(d.Extra, tt.extra) || !slices.Equal(d.Granted, tt.grantedNorm) {
				t.Fatalf("diff %+v", d)
			}
		})
	}
	if got := ScopeDiff([]string{"a", "b"}, []string{"a"}).Text(); got != "requested: a b; granted: a; missing: b" {
		t.Errorf("Text() = %q", got)
	}
}

func TestIntrospectionRows(t *testing.T) {
	in := parseIntrospection(t, `{"active":true,"scope":"openid profile","client_id":"c1","sub":"u1","token_type":"Bearer",
		"iss":"https://issuer","aud":["a","b"],"exp":1767229200,"iat":1767225600,"nbf":1767225600,
		"zeta":1,"name":"Test User"}`)
	v := NormalizeIntrospection(in, "")
	when := func(t time.Time) string { return t.Format(time.DateOnly) }
	var got []string
	for _, r := range v.Rows(when) {
		got = append(got, r.Label+"="+r.Value+"|"+r.Note)
	}
	want := []string{
		"scopes=openid profile|", "client_id=c1|", "sub=u1|", "token_type=Bearer|", "iss=https://issuer|", "aud=a b|",
		"expires=2026-01-01|from introspection-exp", "issued=2026-01-01|", "not_before=2026-01-01|",
		`name="Test User"|`, "zeta=1|",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n got %q\nwant %q", got, want)
	}

	if rows := (IntrospectionView{Status: "inactive"}).Rows(func(time.Time) string { t.Fatal("when called for a zero time"); return "" }); len(rows) != 0 {
		t.Errorf("an empty view has rows %v", rows)
	}
}

func TestRenderIntrospectionShowsEveryRow(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := IntrospectionView{Shape: oauthflow.IntrospectionLinkedIn, Active: true, Status: "active", TokenType: "Bearer",
		Expiry: now.Add(time.Hour), ExpirySource: SourceIntrospectionExpiresAt, AuthorizedAt: now,
		Other: map[string]json.RawMessage{"b": json.RawMessage(`2`), "a": json.RawMessage(`"x"`)}}
	want := strings.Join([]string{
		"status:         active (active=true, linkedin shape)",
		"token_type:     Bearer",
		"expires:        2026-01-01 01:00:00Z (in 1h), from introspection-expires_at",
		"authorized_at:  2026-01-01 00:00:00Z (now)",
		`a:              "x"`,
		"b:              2",
	}, "\n") + "\n"
	if got := RenderIntrospection(v, now); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
