package recorder

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// A long session learns thousands of secrets. Whichever way the index scans, every known value
// must be found wherever it stands in a text, the longest first when one contains another.
func TestKnownSecretsAreFoundWhateverTheirNumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	token := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for _, n := range []int{1, linearScanLimit, linearScanLimit + 1, 3000} {
		t.Run(fmt.Sprintf("%d secrets", n), func(t *testing.T) {
			r := NewRedactor()
			var values []string
			for i := 0; i < n; i++ {
				v := token(6 + rng.IntN(120))
				values = append(values, v)
				r.AddSecret(KindAccessToken, v)
			}
			// A longer secret that contains a shorter known one is replaced whole.
			outer := "pre" + values[0] + "post"
			r.AddSecret(KindRefreshToken, outer)
			for _, pick := range []int{0, n / 2, n - 1} {
				v := values[pick]
				for _, text := range []string{v, "Bearer " + v, "x" + v + "y", `{"t":"` + v + `"}`, "token=" + v + "&a=" + v} {
					got := r.RedactString(text)
					if strings.Contains(got, v) {
						t.Errorf("secret %d of %d survives in %q", pick, n, got)
					}
				}
			}
			got := r.RedactString("a " + outer + " b")
			if strings.Contains(got, "post") || !strings.Contains(got, "redacted:"+KindRefreshToken) {
				t.Errorf("the containing secret was not replaced whole: %q", got)
			}
			if plain := "nothing secret here, just words and numbers 123456"; r.RedactString(plain) != plain {
				t.Errorf("text without secrets changed: %q", r.RedactString(plain))
			}
		})
	}
}

// Learning a secret from inside a redaction (the transport does this for codes in URLs) must not
// wait on the redaction itself.
func TestLearningWhileRedactingDoesNotDeadlock(t *testing.T) {
	r := NewRedactor()
	r.AddSecret(KindCode, "abcdefghijkl")
	out := r.redactText("code=abcdefghijkl", func(kind, value, fp string) { r.AddSecret(kind, value+"-more") })
	if strings.Contains(out, "abcdefghijkl") {
		t.Fatalf("code survived: %q", out)
	}
}

func BenchmarkRedactKnown3000(b *testing.B) {
	r := NewRedactor()
	for i := 0; i < 3000; i++ {
		r.AddSecret(KindAccessToken, fmt.Sprintf("AQ%060d", i))
	}
	text := strings.Repeat(`{"sub":"PbB2bGLgoc","name":"Ada Lovelace","token":"AQ`+fmt.Sprintf("%060d", 1500)+`"} `, 8)
	b.ResetTimer()
	for b.Loop() {
		r.RedactString(text)
	}
}
