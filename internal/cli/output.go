package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
	_, err := w.Write(out.Bytes())
	return err
}
