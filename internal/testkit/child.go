package testkit

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// HelperEnv is the environment variable that names the helper a child process runs. A test
// sets it only through Child or ChildCommandLine.
const HelperEnv = "OAUTHDIAG_TESTKIT_HELPER"

// matchNoTest is the -test.run of a child: should its TestMain not call RunHelpers, the child
// runs no test instead of the whole suite again.
const matchNoTest = "-test.run=^$"

// RunHelpers is the body of a TestMain. In a child started by Child it runs the helper the
// child was started for and exits with its status; otherwise it runs the tests. A child asked
// for a helper the map does not have exits with status 2.
func RunHelpers(m *testing.M, helpers map[string]func() int) {
	name := os.Getenv(HelperEnv)
	if name == "" {
		os.Exit(m.Run())
	}
	h, ok := helpers[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "testkit: this test binary has no helper %q\n", name)
		os.Exit(2)
	}
	os.Exit(h())
}

// Child returns a command, not yet started, that runs this test binary again as a child
// executing the helper registered as name with RunHelpers. env entries ("KEY=value") are added
// to the child's environment, which is otherwise this process's. The caller sets up pipes and
// starts, signals and waits for it as it likes; a child still running when the test ends is
// killed, so a failed test leaves no process behind.
func Child(t testing.TB, name string, env ...string) *exec.Cmd {
	t.Helper()
	exe := executable(t)
	cmd := exec.Command(exe, matchNoTest)
	cmd.Env = append(append(os.Environ(), env...), HelperEnv+"="+name)
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// ChildCommandLine is Child for a child that the code under test starts itself from a command
// line (a --browser-cmd): it returns that command line, each word single-quoted, and sets
// HelperEnv in this process's environment for the rest of the test (t.Setenv, so the test cannot
// be parallel) for the child to inherit. Arguments the code appends reach the helper in os.Args.
func ChildCommandLine(t testing.TB, name string) string {
	t.Helper()
	exe := executable(t)
	t.Setenv(HelperEnv, name)
	return quote(exe) + " " + quote(matchNoTest)
}

func executable(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("finding the test binary: %v", err)
	}
	return exe
}

// quote single-quotes a word for a POSIX shell and for simple quote-aware splitters alike: a
// quote inside the word is closed, given in double quotes, and reopened.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// ChildServer starts the helper registered as name, a server that prints one line (where it
// listens) and then serves until its stdin closes, and returns that line. The child stops when
// the test ends.
func ChildServer(t testing.TB, name string) string {
	t.Helper()
	cmd := Child(t, name)
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
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the %s process said nothing: %v", name, err)
	}
	return strings.TrimSpace(line)
}
