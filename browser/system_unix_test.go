//go:build unix

package browser_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
)

const systemAuthURL = "https://as.test/authorize?client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcb&state=s"

// recordingBrowser writes an executable named name into a new directory: it sends its arguments,
// one a line, through a FIFO to the function returned, which waits for them.
func recordingBrowser(t *testing.T, name string) (path string, args func() []string) {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "args")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, name)
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" + fifo + "'\n"
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		// Opening a FIFO waits for the writer; reading it ends when the browser exits.
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	return path, func() []string {
		t.Helper()
		select {
		case s := <-got:
			return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		case <-time.After(10 * time.Second):
			t.Fatalf("%s was not started", name)
			return nil
		}
	}
}

// browserEnv is an environment that holds only BROWSER=v.
func browserEnv(v string) func(string) string {
	return func(key string) string {
		if key == browser.BrowserEnv {
			return v
		}
		return ""
	}
}

func TestSystemOpensTheURLWithTheCommandsOfBROWSER(t *testing.T) {
	t.Parallel()
	sep := string(os.PathListSeparator)
	for _, tc := range []struct {
		name    string
		browser func(script string) string
		want    []string
	}{
		{"the URL is the last argument",
			func(s string) string { return s + " --new-window" },
			[]string{"--new-window", systemAuthURL}},
		{"%s stands for the URL, even inside an argument and quotes",
			func(s string) string { return s + ` --url='%s' --then "x y"` },
			[]string{"--url=" + systemAuthURL, "--then", "x y"}},
		{"a command that does not start is passed over for the next",
			func(s string) string {
				return "/nonexistent/firefox" + sep + "oauthdiag-no-such-browser-xyz %s" + sep + sep + s + " %s"
			},
			[]string{systemAuthURL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script, args := recordingBrowser(t, "my-browser")
			got, err := browser.System{Getenv: browserEnv(tc.browser(script))}.Authorize(t.Context(), systemAuthURL, "http://127.0.0.1:8765/cb")
			if err != nil || got != "" {
				t.Fatalf("Authorize = %q, %v; want the URL handed over", got, err)
			}
			if a := args(); !slices.Equal(a, tc.want) {
				t.Errorf("the $BROWSER command got %q, want %q", a, tc.want)
			}
		})
	}
}

func TestSystemOpensThePlatformBrowserWhenBROWSERNamesNoCommand(t *testing.T) {
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	}
	sep := string(os.PathListSeparator)
	for _, v := range []string{"", "  ", sep + sep} {
		script, args := recordingBrowser(t, opener)
		t.Setenv("PATH", filepath.Dir(script))
		if _, err := (browser.System{Getenv: browserEnv(v)}).Authorize(t.Context(), systemAuthURL, ""); err != nil {
			t.Fatalf("BROWSER=%q: %v", v, err)
		}
		if a := args(); !slices.Equal(a, []string{systemAuthURL}) {
			t.Errorf("BROWSER=%q: %s got %q, want the URL", v, opener, a)
		}
	}
}

func TestSystemReportsABROWSERWithNoCommandThatStarts(t *testing.T) {
	t.Parallel()
	sep := string(os.PathListSeparator)
	_, err := browser.System{Getenv: browserEnv("oauthdiag-no-such-a" + sep + "oauthdiag-no-such-b --private-window %s")}.
		Authorize(t.Context(), systemAuthURL, "")
	var le *browser.LaunchError
	if !errors.As(err, &le) || le.Env != "BROWSER" || le.Command != "oauthdiag-no-such-b" || !slices.Equal(le.Tried, []string{"oauthdiag-no-such-a"}) {
		t.Fatalf("Authorize = %#v; want a LaunchError naming both $BROWSER commands", err)
	}
	for _, m := range []string{`"oauthdiag-no-such-b" (from $BROWSER, after "oauthdiag-no-such-a")`, "executable file not found", "unset BROWSER", "--browser-cmd", "--paste"} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}
