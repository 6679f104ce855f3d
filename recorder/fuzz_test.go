package recorder

import (
	"strings"
	"testing"
)

// FuzzRedactNeverLeaksAKnownSecret: whatever surrounds a known secret, in any body type,
// the redacted output never contains it, and redaction never panics.
func FuzzRedactNeverLeaksAKnownSecret(f *testing.F) {
	for _, seed := range []string{
		`{"access_token":"%s","nested":{"token":["%s"]}}`,
		`grant_type=refresh_token&refresh_token=%s&x=%s`,
		`Bearer %s`, `{"code":"\`, `"code":"%s\u00`, `[{"a":1},%s]`, `%s%s`, `eyJ%s.%s.`,
		`code="%s`, `{"password":"%s"`,
	} {
		f.Add(seed, "application/json")
		f.Add(seed, "application/x-www-form-urlencoded")
		f.Add(seed, "text/html")
	}
	const secret = "S3CR3T-value-0042"
	f.Fuzz(func(t *testing.T, template, contentType string) {
		in := strings.ReplaceAll(template, "%s", secret)
		r := NewRedactor()
		r.AddSecret(KindAccessToken, secret)
		for _, out := range []string{
			string(r.RedactBody(contentType, []byte(in))),
			r.RedactString(in),
			r.RedactURL("https://h/p?" + in),
			r.RedactHeaderValue("X-Anything", in),
		} {
			if strings.Contains(out, secret) {
				t.Fatalf("secret survived redaction of %q: %q", in, out)
			}
		}
	})
}
