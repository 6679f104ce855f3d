package recorder

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// Curl renders a call as a curl command line. Redacted secrets become shell variables
// ($ACCESS_TOKEN, $CLIENT_SECRET, ...), named in a comment line so the reader knows what
// to set; the command itself holds no secret. Form parameters are URL-encoded by curl;
// a variable inside a URL is used as it is, which suits tokens (they are URL-safe).
func Curl(e Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s %s %s", e.ID, e.Request.Method, e.Request.URL)
	if e.Step != "" {
		fmt.Fprintf(&b, " (step %s)", e.Step)
	}
	if !e.Started.IsZero() {
		fmt.Fprintf(&b, ", recorded %s", e.Started.UTC().Format("2006-01-02T15:04:05Z"))
	}
	b.WriteString("\n")
	vars := newShellVars()
	if e.Kind == KindObserved {
		fmt.Fprintf(&b, "# a browser leg (%s) oauthdiag observed and did not send; to repeat it, open the URL in a browser:\n", e.Leg)
		fmt.Fprintf(&b, "echo %s\n", vars.word(e.Request.URL))
		return vars.prefix() + b.String()
	}

	first := []string{"curl", "-sS", "-i"}
	body, encoding := httplog.BodyText(e.Request.Body, e.Request.Truncated)
	hasBody := body != "" || e.Request.BodySize > 0
	if m := e.Request.Method; !(m == http.MethodGet && !hasBody) && !(m == http.MethodPost && hasBody) {
		first = append(first, "-X", vars.word(m))
	}
	first = append(first, vars.word(e.Request.URL))
	lines := []string{strings.Join(first, " ")}

	names := make([]string, 0, len(e.Request.Header))
	for k := range e.Request.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Host":
			continue
		}
		for _, v := range e.Request.Header[k] {
			if http.CanonicalHeaderKey(k) == "Authorization" {
				if user, pass, ok := basicPlaceholder(v); ok {
					lines = append(lines, "-u "+vars.word(user+":"+pass))
					continue
				}
			}
			lines = append(lines, "-H "+vars.word(k+": "+v))
		}
	}
	pipe := ""
	if hasBody {
		if encoding == httplog.BodyEncodingBase64 {
			b.WriteString("# the request body is binary: it is piped in, base64-decoded from the recording\n")
			pipe = "printf %s " + vars.word(body) + " | base64 -d | "
			lines = append(lines, "--data-binary @-")
		} else if mediaType(e.Request.Header.Get("Content-Type")) == "application/x-www-form-urlencoded" {
			lines = append(lines, formArgs(body, vars)...)
		} else {
			lines = append(lines, "--data-raw "+vars.word(body))
		}
		if e.Request.Truncated {
			fmt.Fprintf(&b, "# the recording kept only the first %d of %d body bytes; the body below is incomplete\n", len(e.Request.Body), e.Request.BodySize)
		}
	}
	b.WriteString(pipe)
	b.WriteString(strings.Join(lines, " \\\n  "))
	b.WriteString("\n")
	return vars.prefix() + b.String()
}

// formArgs passes a form body one parameter at a time, so that a secret standing for a
// whole value is URL-encoded by curl (--data-urlencode) as it was in the original; curl
// joins the parts with "&".
func formArgs(body string, vars *shellVars) []string {
	if !strings.Contains(body, placeholderPrefix) {
		return []string{"--data-raw " + vars.word(body)}
	}
	var out []string
	for _, pair := range strings.Split(body, "&") {
		name, value, _ := strings.Cut(pair, "=")
		if loc := placeholderPattern.FindStringIndex(value); loc != nil && loc[0] == 0 && loc[1] == len(value) {
			out = append(out, "--data-urlencode "+vars.word(name+"="+value))
			continue
		}
		out = append(out, "--data-raw "+vars.word(pair))
	}
	return out
}

// basicPlaceholder splits a redacted "Basic client_id:[redacted...]" header.
func basicPlaceholder(v string) (user, pass string, ok bool) {
	scheme, cred, found := strings.Cut(v, " ")
	if !found || !strings.EqualFold(scheme, "basic") || !strings.Contains(cred, ":"+placeholderPrefix) {
		return "", "", false
	}
	user, pass, _ = strings.Cut(cred, ":")
	return user, pass, true
}

// shellVars names the variables that stand for redacted secrets.
type shellVars struct {
	byPlaceholder map[string]string
	taken         map[string]bool
	order         []string // "NAME\tkind fingerprint"
}

func newShellVars() *shellVars {
	return &shellVars{byPlaceholder: map[string]string{}, taken: map[string]bool{}}
}

func (sv *shellVars) name(kind, fp, ph string) string {
	if n, ok := sv.byPlaceholder[ph]; ok {
		return n
	}
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, kind)
	n := base
	for i := 2; sv.taken[n]; i++ {
		n = base + "_" + strconv.Itoa(i)
	}
	sv.taken[n] = true
	sv.byPlaceholder[ph] = n
	sv.order = append(sv.order, n+" ("+kind+" "+fp+")")
	return n
}

// word quotes s for a POSIX shell, turning placeholders into "$VAR" expansions.
func (sv *shellVars) word(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range placeholderPattern.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			b.WriteString(singleQuote(s[last:m[0]]))
		}
		b.WriteString(`"$` + sv.name(s[m[2]:m[3]], s[m[4]:m[5]], s[m[0]:m[1]]) + `"`)
		last = m[1]
	}
	if last < len(s) || last == 0 {
		b.WriteString(singleQuote(s[last:]))
	}
	return b.String()
}

// prefix is the comment line naming the variables to set, if any.
func (sv *shellVars) prefix() string {
	if len(sv.order) == 0 {
		return ""
	}
	return "# set first (the recording keeps only fingerprints): " + strings.Join(sv.order, ", ") + "\n"
}

func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
