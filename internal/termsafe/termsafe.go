// Package termsafe makes text that came from outside (a server's answer, a page, another
// program's output) safe to print on a terminal. A terminal acts on some characters instead of
// showing them: an escape sequence can write the clipboard (OSC 52), retitle the window (OSC 0),
// move the cursor over earlier output; a carriage return or backspace can hide what was printed;
// a bidirectional override reorders what is shown. Each of those is replaced by a visible escape
// (ESC becomes the four characters \x1b); everything else passes unchanged, so the text stays
// readable and the replacement is idempotent.
package termsafe

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Unsafe says whether a terminal acts on r rather than shows it: the C0 controls but newline and
// tab, DEL, the C1 controls (U+0080-U+009F, which some terminals take as CSI, OSC and friends),
// and the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
func Unsafe(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// String is s with every unsafe character shown as an escape: \xHH for a C0 control, DEL and a
// byte that is not UTF-8, \uHHHH for a C1 control or a bidirectional control. A carriage return
// right before a newline is dropped: CRLF line ends show as the lines they are.
func String(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// the newline that follows ends the line
		case r < 0x80 && Unsafe(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case Unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// clean says s needs no change: the common case, checked without allocating.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return cleanUnicode(s[i:])
		}
		if c == 0x7f || (c < 0x20 && c != '\n' && c != '\t') {
			return false
		}
	}
	return true
}

func cleanUnicode(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || Unsafe(r) {
			return false
		}
		i += size
	}
	return true
}

// Writer passes what is written to it through String. Each Write is made safe on its own, so a
// character split across two writes is shown as the bytes it was cut into; writers that print
// whole strings (fmt, text/tabwriter) never split one.
type Writer struct {
	w io.Writer
}

// NewWriter returns a Writer onto w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes String(p) and reports p as written, as io.Writer requires.
func (w *Writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap is the writer the text goes to once made safe.
func (w *Writer) Unwrap() io.Writer { return w.w }
