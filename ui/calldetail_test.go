package ui

import (
	"testing"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// The editor sends only what was changed. A body that is not UTF-8 text (binary) cannot be
// edited: it is resent unchanged, whatever else is edited.
func TestEditorSendsOnlyWhatChanged(t *testing.T) {
	text := recorder.Entry{Exchange: httplog.Exchange{ID: "c1"}, Kind: recorder.KindHTTP}
	text.Request.Method, text.Request.URL, text.Request.Body = "POST", "https://x.test/token", []byte("grant_type=refresh_token")
	text.Request.BodySize = int64(len(text.Request.Body))
	binary := text
	binary.Request.Body = []byte{0x00, 0x01, 0x02, 0xff} // not UTF-8: the editor treats it as binary
	binary.Request.BodySize = int64(len(binary.Request.Body))
	tests := []struct {
		name     string
		entry    recorder.Entry
		keys     []string
		method   string
		body     *string
		bodySeen bool // whether the body field can be reached with tab
	}{
		{name: "text body untouched", entry: text, bodySeen: true},
		{name: "text body edited", entry: text, keys: []string{"tab", "tab", "tab", "x"}, body: ptr("grant_type=refresh_tokenx"), bodySeen: true},
		{name: "binary body untouched", entry: binary},
		{name: "binary body, method edited", entry: binary, keys: []string{"backspace", "backspace", "backspace", "backspace", "P", "U", "T"}, method: "PUT"},
		{name: "binary body, tab passes over it", entry: binary, keys: []string{"tab", "tab", "tab", "x"}, method: "POSTX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewStyles(true)
			ed := newRequestEditor(&st, tt.entry, 100, 30)
			ed.focus()
			seen := false
			for _, k := range tt.keys {
				ed, _, _, _ = ed.Update(keyPress(k))
				seen = seen || ed.focused == fieldBody
			}
			edit, err := ed.edit()
			if err != nil {
				t.Fatal(err)
			}
			if edit.Method != tt.method {
				t.Errorf("method %q, want %q", edit.Method, tt.method)
			}
			switch {
			case tt.body == nil && edit.Body != nil:
				t.Errorf("the body is replaced with %q, want it sent unchanged", *edit.Body)
			case tt.body != nil && (edit.Body == nil || *edit.Body != *tt.body):
				t.Errorf("body %v, want %q", edit.Body, *tt.body)
			}
			if len(tt.keys) > 2 && tt.keys[0] == "tab" && seen != tt.bodySeen {
				t.Errorf("the body field gets the focus: %v, want %v", seen, tt.bodySeen)
			}
		})
	}
}

func ptr(s string) *string { return &s }
