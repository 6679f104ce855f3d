package recorder

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestSmoke(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-li-uuid", "abc")
		fmt.Fprintf(w, `{"access_token":"AQVtokentokentoken123","got":%q}`, b)
	}))
	defer srv.Close()
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.NewSession(SessionMeta{Provider: "linkedin", ClientID: "cid"})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: s.Transport(nil)}
	resp, err := c.Post(srv.URL+"/oauth/v2/accessToken?x=1", "application/x-www-form-urlencoded", strings.NewReader("grant_type=authorization_code&code=SECRETCODE123&client_secret=shh-secret"))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer AQVtokentokentoken123")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	b, _ := os.ReadFile(s.Path())
	t.Logf("%s", b)
	s2, err := st.Load("latest")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", s2.Entries())
	e, err := s2.Entry("2")
	t.Logf("%+v %v", e, err)
	t.Log(Curl(e))
	var sb strings.Builder
	WriteHAR(&sb, []Entry{e}, Creator{"oauthdiag", "dev"})
	t.Log(sb.String())
	sum, err := WriteBundle(t.TempDir()+"/b.zip", s2, BundleInfo{ToolVersion: "dev"})
	t.Logf("%+v %v", sum, err)
}
