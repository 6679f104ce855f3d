package recorder

import (
	"slices"
	"testing"
)

func TestRedactionList(t *testing.T) {
	got := RedactionList(map[string]int{KindRefreshToken: 2, KindAccessToken: 1, KindClientSecret: 1})
	want := []string{"access_token ×1", "client_secret ×1", "refresh_token ×2"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := RedactionList(nil); len(got) != 0 {
		t.Errorf("nothing redacted lists %q", got)
	}
}
