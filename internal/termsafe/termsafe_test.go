package termsafe

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStringShowsWhatATerminalWouldActOn: every character a terminal acts on instead of showing
// becomes a visible escape; the text around it is kept.
func TestStringShowsWhatATerminalWouldActOn(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"OSC 52 clipboard write", "a\x1b]52;c;cHduZWQ=\x07b", `a\x1b]52;c;cHduZWQ=\x07b`},
		{"OSC 0 window title ended by ST", "\x1b]0;owned\x1b\\", `\x1b]0;owned\x1b\`},
		{"CSI clear screen and colour", "\x1b[2J\x1b[31mred", `\x1b[2J\x1b[31mred`},
		{"BEL", "ding\a", `ding\x07`},
		{"backspace over earlier text", "ok\b\bNO", `ok\x08\x08NO`},
		{"a lone carriage return", "HTTP 200\rHTTP 500", `HTTP 200\x0dHTTP 500`},
		{"NUL", "a\x00b", `a\x00b`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"C1 OSC", "\u009d0;t\u009c", `\u009d0;t\u009c`},
		{"right-to-left override", "user\u202egnp.exe", `user\u202egnp.exe`},
		{"every bidi embedding, override and isolate", "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069",
			`\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`},
		{"a byte that is not UTF-8", "a\x9bb\xffc", `a\x9bb\xffc`},
		{"a character cut short", "\xe2\x80", `\xe2\x80`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := String(tc.in); got != tc.want {
				t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestStringKeepsText: what a terminal shows as it is passes unchanged, newlines and tabs
// included, and CRLF line ends show as the lines they end.
func TestStringKeepsText(t *testing.T) {
	for _, s := range []string{
		"",
		"plain ASCII, with punctuation: {\"error\":\"invalid_grant\"}",
		"line one\nline two\n\tindented",
		"✔ exchange HTTP 200 · 12ms … déjà vu, 日本語, emoji 👩‍💻",
		`already escaped: \x1b]52 and \u202e stay as they are`,
		"U+FFFD itself is text: \ufffd",
		"left-to-right mark U+200E is a mark, not an override: a\u200eb",
	} {
		if got := String(s); got != s {
			t.Errorf("String(%q) = %q, want it unchanged", s, got)
		}
	}
	if got := String("HTTP/1.1 400\r\nContent-Type: text/plain\r\n"); got != "HTTP/1.1 400\nContent-Type: text/plain\n" {
		t.Errorf("CRLF lines: got %q", got)
	}
}

// FuzzString: whatever comes in, what goes out is valid UTF-8 with nothing a terminal acts on,
// and making it safe again changes nothing.
func FuzzString(f *testing.F) {
	for _, s := range []string{"\x1b]52;c;eA==\x07", "\u009b\u202e", "\xff\xfe", "a\r\nb\rc", "\x1b[?1049h", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !utf8.ValidString(out) {
			t.Fatalf("String(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if Unsafe(r) {
				t.Fatalf("String(%q) = %q still holds %U", s, out, r)
			}
		}
		if again := String(out); again != out {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
	})
}

// TestWriterMakesEveryWriteSafe: a Writer reports what it was given as written (so fmt and
// io.Copy see no short write) and passes on the safe form.
func TestWriterMakesEveryWriteSafe(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	in := []byte("error_description: \x1b]0;owned\x07\n")
	n, err := w.Write(in)
	if err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(in))
	}
	if got, want := out.String(), `error_description: \x1b]0;owned\x07`+"\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
	if w.Unwrap() != &out {
		t.Error("Unwrap must return the writer the safe text goes to")
	}
}

func TestWriterReportsAFailedWrite(t *testing.T) {
	w := NewWriter(failingWriter{})
	if n, err := w.Write([]byte("x")); err == nil || n != 0 {
		t.Errorf("Write onto a failing writer = %d, %v; want 0 and the error", n, err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestUnsafeNamesTheControls(t *testing.T) {
	var unsafe []rune
	for r := rune(0); r < 0x2100; r++ {
		if Unsafe(r) {
			unsafe = append(unsafe, r)
		}
	}
	// 30 C0 controls (all but \t and \n), DEL, 32 C1 controls, 5 + 4 bidirectional controls.
	if len(unsafe) != 30+1+32+5+4 {
		t.Errorf("%d unsafe characters below U+2100, want 72: %q", len(unsafe), string(unsafe))
	}
	if strings.ContainsAny(string(unsafe), "\n\t ") {
		t.Error("newline, tab and space must be safe")
	}
}
