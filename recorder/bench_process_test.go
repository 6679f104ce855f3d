package recorder

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// benchServerEnv makes the test binary serve userinfoHandler on loopback until its stdin closes:
// a local server in its own process, as the providers oauthdiag talks to are.
const benchServerEnv = "RECORDER_BENCH_SERVER"

func benchServer() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Printf("http://%s\n", ln.Addr())
	go http.Serve(ln, userinfoHandler())
	// The parent closes our stdin when it is done (or dies): then we go too.
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

func startServerProcess(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("the server process said nothing: %v", err)
	}
	return strings.TrimSpace(line) + "/v2/userinfo"
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
