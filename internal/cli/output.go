package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/oauthdiag/oauthdiag/internal/termsafe"
)

// schemaVersion is the version of every JSON document oauthdiag prints (docs/json.md). It
// changes only when a field changes meaning or goes away; new fields do not change it.
const schemaVersion = 1

// writeJSON prints v, a JSON object, as one indented document whose first field is
// schema_version. Every --json output goes through here, so none can lack it.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	body := bytes.TrimSpace(buf.Bytes())
	if len(body) < 2 || body[0] != '{' {
		return fmt.Errorf("internal error: a JSON output must be an object, got %.20q", body)
	}
	doc := fmt.Appendf(nil, `{"schema_version":%d`, schemaVersion)
	if len(bytes.TrimSpace(body[1:len(body)-1])) > 0 {
		doc = append(doc, ',')
	}
	doc = append(doc, body[1:]...)
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(escapeControls(out.Bytes()))
	return err
}

// escapeControls escapes, inside the strings of a JSON document, what encoding/json leaves raw
// but a terminal acts on (DEL, C1 controls, bidirectional overrides; it escapes C0 controls
// itself), and replaces bytes that are not UTF-8 (a raw body can hold them) as a JSON decoder
// would, with U+FFFD. The
// document decodes to the same values, and printed on a terminal it can no longer drive it.
func escapeControls(doc []byte) []byte {
	var out []byte // nil until something needs escaping
	inString, escaped := false, false
	for i := 0; i < len(doc); {
		c := doc[i]
		if !inString || c >= 0x20 && c < 0x7f {
			switch {
			case !inString:
				inString = c == '"'
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			if out != nil {
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(doc[i:])
		invalid := r == utf8.RuneError && size == 1
		if !invalid && !termsafe.Unsafe(r) {
			if out != nil {
				out = append(out, doc[i:i+size]...)
			}
			i += size
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(doc)+16), doc[:i]...)
		}
		if invalid {
			r = utf8.RuneError
		}
		out = fmt.Appendf(out, `\u%04x`, r)
		escaped = false
		i += size
	}
	if out == nil {
		return doc
	}
	return out
}
