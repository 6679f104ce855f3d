package recorder

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/sandbox"
)

// userinfoHandler answers like LinkedIn's /v2/userinfo: a small JSON body and the x-li-* ids.
func userinfoHandler() http.Handler {
	body := []byte(`{"sub":"782bbtaQ","name":"John Doe","given_name":"John","family_name":"Doe","picture":"https://media.licdn.com/dms/image/C5F03AQHqK8v7tB1HzQ/profile.jpg","locale":"en-US","email":"doe@email.com","email_verified":true}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-Li-Uuid", "AAYJ4F2GbW2hN6d5TfXXXQ==")
		h.Set("X-Li-Fabric", "prod-lva1")
		h.Set("X-Li-Request-Id", "0a1b2c3d")
		w.Write(body)
	})
}

func benchCalls(b *testing.B, client *http.Client, url string) {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer AQV8bench-token-0123456789abcdefghijklmnopqrstuvwxyz")
	benchRequest(b, client, req)
}

// BenchmarkPlainClient is the baseline for BenchmarkRecordedClient: one loopback call.
func BenchmarkPlainClient(b *testing.B) {
	srv := httptest.NewServer(userinfoHandler())
	defer srv.Close()
	benchCalls(b, &http.Client{Transport: srv.Client().Transport}, srv.URL+"/v2/userinfo")
}

// BenchmarkRecordedClient is the same call recorded to a session log.
func BenchmarkRecordedClient(b *testing.B) {
	srv := httptest.NewServer(userinfoHandler())
	defer srv.Close()
	st, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	s, err := st.NewSession(SessionMeta{Provider: "linkedin"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchCalls(b, &http.Client{Transport: s.Transport(srv.Client().Transport)}, srv.URL+"/v2/userinfo")
}

// sandboxUserinfo starts the sandbox and returns a userinfo request carrying a valid
// token, obtained without recording.
func sandboxUserinfo(b *testing.B) (*http.Request, *http.Client) {
	srv := canarySandbox(b, sandbox.Happy)
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := plain.Get(srv.BaseURL() + "/oauth/v2/authorization?" + url.Values{"response_type": {"code"},
		"client_id": {canaryClientID}, "redirect_uri": {canaryRedirect}, "state": {"s"}, "scope": {"openid profile email"}}.Encode())
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	resp, err = plain.PostForm(srv.BaseURL()+"/oauth/v2/accessToken", url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {canaryRedirect}, "client_id": {canaryClientID}, "client_secret": {canaryClientSecret}})
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.BaseURL()+"/v2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return req, &http.Client{}
}

func benchRequest(b *testing.B, client *http.Client, req *http.Request) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("userinfo answered %d", resp.StatusCode)
		}
	}
}

// BenchmarkSandboxPlain and BenchmarkSandboxRecorded compare the same userinfo call to
// the LinkedIn-like sandbox on loopback, a server that does real work per request.
func BenchmarkSandboxPlain(b *testing.B) {
	req, client := sandboxUserinfo(b)
	benchRequest(b, client, req)
}

func BenchmarkSandboxRecorded(b *testing.B) {
	req, client := sandboxUserinfo(b)
	s := startSession(b, openStore(b))
	client.Transport = s.Transport(nil)
	benchRequest(b, client, req)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// memoryTransport answers the userinfo call from memory, so benchmarks over it measure
// what the client and the recorder cost, with no network in the way.
func memoryTransport() http.RoundTripper {
	body := []byte(`{"sub":"782bbtaQ","name":"John Doe","given_name":"John","family_name":"Doe","picture":"https://media.licdn.com/dms/image/C5F03AQHqK8v7tB1HzQ/profile.jpg","locale":"en-US","email":"doe@email.com","email_verified":true}`)
	header := http.Header{"Content-Type": {"application/json"}, "X-Li-Uuid": {"AAYJ4F2GbW2hN6d5TfXXXQ=="},
		"X-Li-Fabric": {"prod-lva1"}, "X-Li-Request-Id": {"0a1b2c3d"}, "Date": {"Mon, 23 Nov 2026 04:57:05 GMT"}, "Content-Length": {"211"}}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Proto: "HTTP/1.1", Header: header, ContentLength: int64(len(body)),
			Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
	})
}

// BenchmarkMemoryTransport is the baseline of BenchmarkRecordingCPU: the same call with
// nothing recorded.
func BenchmarkMemoryTransport(b *testing.B) {
	cpu := startCPUClock(b)
	benchCalls(b, &http.Client{Transport: memoryTransport()}, "http://127.0.0.1:1/v2/userinfo")
	cpu.report(b)
}

// BenchmarkRecordingCPU isolates the recorder's own work per call: capture, redaction,
// encoding and the write, with no network to wait on. It reports the process's CPU time per
// call (cpu-µs/op) beside the wall time: with BenchmarkMemoryTransport's figures subtracted, that
// is what recording costs a call. The budget is 25 µs.
func BenchmarkRecordingCPU(b *testing.B) {
	s := startSession(b, openStore(b))
	cpu := startCPUClock(b)
	benchCalls(b, &http.Client{Transport: s.Transport(memoryTransport())}, "http://127.0.0.1:1/v2/userinfo")
	cpu.report(b)
}

// cpuClock measures the CPU time the process spends in a benchmark (user and system).
type cpuClock struct{ start time.Duration }

func startCPUClock(b *testing.B) *cpuClock { return &cpuClock{start: processCPU(b)} }

func (c *cpuClock) report(b *testing.B) {
	b.ReportMetric(float64((processCPU(b)-c.start).Microseconds())/float64(b.N), "cpu-µs/op")
}

// delayedUserinfo is userinfoHandler answering after 1 ms: a server a millisecond away, which is
// still much faster than any real provider.
func delayedUserinfo() http.Handler {
	h := userinfoHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		h.ServeHTTP(w, r)
	})
}

// BenchmarkServer1msPlain and BenchmarkServer1msRecorded compare one call to a server that
// answers after 1 ms, in a process of its own as providers are, without and with recording.
// The budget is 2%.
func BenchmarkServer1msPlain(b *testing.B) {
	u := startServerHelper(b, "bench-server-1ms")
	benchCalls(b, &http.Client{Transport: &http.Transport{}}, u)
}

// BenchmarkServer1msOverhead alternates a plain and a recorded call to the same 1 ms server, so
// that both meet the same machine at the same moment (the separate pair above drifts by several
// percent from run to run on a small VM), and reports what recording adds as overhead-%.
func BenchmarkServer1msOverhead(b *testing.B) {
	u := startServerHelper(b, "bench-server-1ms")
	s := startSession(b, openStore(b))
	plain := &http.Client{Transport: &http.Transport{}}
	recorded := &http.Client{Transport: s.Transport(&http.Transport{})}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer AQV8bench-token-0123456789abcdefghijklmnopqrstuvwxyz")
	call := func(c *http.Client) time.Duration {
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	call(plain)
	call(recorded)
	var tp, tr time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Which goes first alternates too, so neither always follows the other's work.
		if i%2 == 0 {
			tp += call(plain)
			tr += call(recorded)
		} else {
			tr += call(recorded)
			tp += call(plain)
		}
	}
	b.ReportMetric(float64(tp.Microseconds())/float64(b.N), "plain-µs/op")
	b.ReportMetric(float64(tr.Microseconds())/float64(b.N), "recorded-µs/op")
	b.ReportMetric(100*(float64(tr)/float64(tp)-1), "overhead-%")
}

func BenchmarkServer1msRecorded(b *testing.B) {
	u := startServerHelper(b, "bench-server-1ms")
	s := startSession(b, openStore(b))
	benchCalls(b, &http.Client{Transport: s.Transport(&http.Transport{})}, u)
}
