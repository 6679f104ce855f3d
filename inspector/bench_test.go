package inspector

import (
	"context"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Benchmarks, to compare as ratios: a diagnosis of one captured case costs about a third of
// decoding one JWT, and verifying a JWT (RS256) about five decodings.

// BenchmarkDiagnoseFixtures diagnoses every captured case once per iteration: the cost of the
// rule set on real answers.
func BenchmarkDiagnoseFixtures(b *testing.B) {
	type built struct {
		obs []Observation
		ctx Context
	}
	var cases []built
	for _, ff := range loadFixtures(b) {
		for _, fc := range ff.Cases {
			obs, ctx := fc.build(b)
			cases = append(cases, built{obs, ctx})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cases {
			ctx := c.ctx
			ctx.State = nil
			_ = Diagnose(c.obs, ctx)
		}
	}
	b.ReportMetric(float64(len(cases)), "cases/op")
}

func BenchmarkDecodeJWT(b *testing.B) {
	raw := sign(b, newRSAKey(b, "k1"), idClaims(nil))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeJWT(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyJWT(b *testing.B) {
	key := newRSAKey(b, "k1")
	raw := sign(b, key, idClaims(nil))
	opts := VerifyOptions{KeySet: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.jwk}}, Issuer: "https://www.linkedin.com/oauth", Audience: "client-1", Nonce: "n-123", Now: jwtNow}
	b.ReportAllocs()
	for b.Loop() {
		if v, err := VerifyJWT(context.Background(), raw, opts); err != nil || !v.OK() {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenState(b *testing.B) {
	tok := linkedInToken(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = TokenState(tok, received, StateOptions{})
	}
}
