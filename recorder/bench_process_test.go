package recorder

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
)

// benchServer, the bench-server helper, serves userinfoHandler on loopback until its stdin
// closes: a local server in its own process, as the providers oauthdiag talks to are.
func benchServer(h http.Handler) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Printf("http://%s\n", ln.Addr())
	go http.Serve(ln, h)
	// The parent closes our stdin when it is done (or dies): then we go too.
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

func startServerProcess(b *testing.B) string { return startServerHelper(b, "bench-server") }

func startServerHelper(b *testing.B, helper string) string {
	b.Helper()
	return testkit.ChildServer(b, helper) + "/v2/userinfo"
}

// BenchmarkServerProcessPlain and BenchmarkServerProcessRecorded are the loopback call of
// BenchmarkPlainClient/BenchmarkRecordedClient with the server in another process.
func BenchmarkServerProcessPlain(b *testing.B) {
	u := startServerProcess(b)
	benchCalls(b, &http.Client{Transport: &http.Transport{}}, u)
}

func BenchmarkServerProcessRecorded(b *testing.B) {
	u := startServerProcess(b)
	s := startSession(b, openStore(b))
	benchCalls(b, &http.Client{Transport: s.Transport(&http.Transport{})}, u)
}

// The floor of any recorder that puts each call on disk as it completes: a plain client
// that, after each call, appends a ready-made record of the size the recorder writes
// (no snapshot, redaction or encoding), either on the caller's goroutine or handed to
// a writer goroutine. Recording can cost no less than the cheaper of the two.

// floorRecord is the size of the log record of benchCalls's userinfo call.
var floorRecord = append(bytes.Repeat([]byte{'x'}, 1400), '\n')

func openFloorLog(b *testing.B) *os.File {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "floor.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// writeOnClose appends a record when a response body is closed, before Close returns.
type writeOnClose struct {
	io.ReadCloser
	write func()
}

func (w writeOnClose) Close() error {
	err := w.ReadCloser.Close()
	w.write()
	return err
}

func floorTransport(base http.RoundTripper, write func()) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if err == nil {
			resp.Body = writeOnClose{resp.Body, write}
		}
		return resp, err
	})
}

func BenchmarkServerProcessFloorWriteInline(b *testing.B) {
	u := startServerProcess(b)
	f := openFloorLog(b)
	benchCalls(b, &http.Client{Transport: floorTransport(&http.Transport{}, func() { f.Write(floorRecord) })}, u)
}

func BenchmarkServerProcessFloorWriteAsync(b *testing.B) {
	u := startServerProcess(b)
	f := openFloorLog(b)
	records := make(chan []byte, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for rec := range records {
			f.Write(rec)
		}
	}()
	defer func() { close(records); <-done }()
	benchCalls(b, &http.Client{Transport: floorTransport(&http.Transport{}, func() { records <- floorRecord })}, u)
}
