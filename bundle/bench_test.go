package bundle_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oauthdiag/oauthdiag/bundle"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// BenchmarkBundle10k exports the support bundle of a 10,000-call session (one call in
// ten failed, so report.md carries full details too). The target is under a second.
func BenchmarkBundle10k(b *testing.B) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n%10 == 0 {
			w.Header().Set("X-Li-Uuid", "AAYJ4F2GbW2hN6d5TfXXXQ==")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"message":"Internal Server Error","status":500}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"sub":"782bbtaQ","name":"John Doe","email":"doe@email.com"}`))
	}))
	defer srv.Close()
	st, err := recorder.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	s, err := st.NewSession(recorder.SessionMeta{Provider: "linkedin", ClientID: "bench-client"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{Transport: s.Transport(srv.Client().Transport)}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer AQV8bench-token-0123456789abcdefghijklmnopqrstuvwxyz")
	for range 10000 {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	path := b.TempDir() + "/bundle.zip"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sum, err := bundle.Write(path, s, bundle.Options{ToolVersion: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if sum.Calls != 10000 {
			b.Fatalf("bundled %d calls", sum.Calls)
		}
	}
}
