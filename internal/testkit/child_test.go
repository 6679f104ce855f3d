package testkit_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunHelpers(m, map[string]func() int{
		// exit returns the status in TESTKIT_EXIT.
		"exit": func() int {
			n, _ := strconv.Atoi(os.Getenv("TESTKIT_EXIT"))
			return n
		},
		// echo copies each line of stdin to stdout in upper case until stdin closes.
		"echo": func() int {
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				fmt.Println(strings.ToUpper(sc.Text()))
			}
			return 0
		},
		// args prints its command-line arguments, one a line.
		"args": func() int {
			for _, a := range os.Args[1:] {
				fmt.Println(a)
			}
			return 0
		},
	})
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the child did not run: %v", err)
	}
	return ee.ExitCode()
}

func TestChildReturnsTheHelpersExitCode(t *testing.T) {
	for _, want := range []int{0, 3, 42} {
		out, err := testkit.Child(t, "exit", "TESTKIT_EXIT="+strconv.Itoa(want)).CombinedOutput()
		if got := exitCode(t, err); got != want {
			t.Errorf("exit code %d, want %d; output %q", got, want, out)
		}
		if len(out) != 0 {
			t.Errorf("the helper printed nothing but the child said %q: tests ran in it", out)
		}
	}
}

func TestChildOfAnUnknownHelperFails(t *testing.T) {
	out, err := testkit.Child(t, "no-such-helper").CombinedOutput()
	if got := exitCode(t, err); got != 2 || !strings.Contains(string(out), `no helper "no-such-helper"`) {
		t.Fatalf("exit code %d, output %q; want 2 and the missing name", got, out)
	}
}

func TestChildTalksOverPipes(t *testing.T) {
	cmd := testkit.Child(t, "echo")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	for _, w := range []string{"ping", "pong"} {
		io.WriteString(stdin, w+"\n")
		if line, err := r.ReadString('\n'); err != nil || line != strings.ToUpper(w)+"\n" {
			t.Fatalf("child answered %q, %v", line, err)
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the child did not end when its stdin closed: %v", err)
	}
}

// TestChildStillRunningIsKilledAfterTheTest: a child the test neither waited for nor stopped
// is killed and reaped when the test ends.
func TestChildStillRunningIsKilledAfterTheTest(t *testing.T) {
	var cmd *exec.Cmd
	t.Run("leaves a child behind", func(t *testing.T) {
		cmd = testkit.Child(t, "echo")
		if _, err := cmd.StdinPipe(); err != nil { // never closed: the child waits forever
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	})
	if cmd.ProcessState == nil {
		t.Fatal("the child was not reaped at the end of its test")
	}
	if cmd.ProcessState.Success() {
		t.Fatalf("the child ended by itself (%v), want it killed", cmd.ProcessState)
	}
}

// TestChildCommandLine: the command line, split as a shell splits it and given extra
// arguments, runs the helper with those arguments.
func TestChildCommandLine(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs the command line through /bin/sh")
	}
	line := testkit.ChildCommandLine(t, "args")
	if os.Getenv(testkit.HelperEnv) != "args" {
		t.Fatalf("%s is not set for the child to inherit", testkit.HelperEnv)
	}
	out, err := exec.Command("/bin/sh", "-c", line+" 'https://as.example.test/authorize?a=1&b=2'").Output()
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); lines[len(lines)-1] != "https://as.example.test/authorize?a=1&b=2" {
		t.Fatalf("the helper got the arguments %q", lines)
	}
}
