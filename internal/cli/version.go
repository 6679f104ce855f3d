package cli

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// versionInfo is what `oauthdiag version` reports, read from the build information the Go
// toolchain stamps into the binary: `go install …@v1.2.3` gives the module version, a build in
// a clone gives the VCS revision and time.
type versionInfo struct {
	Module    string `json:"module"`
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// buildVersion reads the version of this binary.
func buildVersion() versionInfo {
	v := versionInfo{Module: "github.com/oauthdiag/oauthdiag", Version: "(devel)",
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Path != "" {
		v.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one line of `oauthdiag --version` and the User-Agent's version.
func (v versionInfo) String() string {
	s := v.Version
	rev := v.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	// A pseudo-version (v0.0.0-20261207221500-8e64ec5b7424) already names the revision.
	if rev != "" && !strings.Contains(v.Version, rev) {
		s += " (" + rev
		if v.Modified {
			s += ", modified"
		}
		if t, err := time.Parse(time.RFC3339, v.Time); err == nil {
			s += ", " + t.UTC().Format("2006-01-02")
		}
		s += ")"
	}
	return s
}

// userAgent is what every request oauthdiag sends says it comes from.
func userAgent() string {
	// A product version is an HTTP token (RFC 9110 §10.1.5), which "(devel)" is not.
	return "oauthdiag/" + strings.Trim(buildVersion().Version, "()")
}

// toolVersion is the version stamped into sessions, HAR files and bundles.
func toolVersion() string { return buildVersion().String() }

func versionCommand() command {
	return command{
		name:    "version",
		summary: "print the version, the revision it was built from, the Go version and the platform",
		example: "  oauthdiag version\n  oauthdiag version --json",
		setup: func(env *cliEnv, fs *pflag.FlagSet) runFunc {
			jsonOut := fs.Bool("json", false, "print one JSON document")
			return func(ctx context.Context, args []string) error {
				v := buildVersion()
				if *jsonOut {
					return writeJSON(env.stdout, v)
				}
				fmt.Fprintf(env.stdout, "oauthdiag %s\n  module   %s\n", v.Version, v.Module)
				if v.Revision != "" {
					modified := ""
					if v.Modified {
						modified = " (modified)"
					}
					fmt.Fprintf(env.stdout, "  revision %s%s\n  built    %s\n", v.Revision, modified, v.Time)
				}
				fmt.Fprintf(env.stdout, "  go       %s\n  platform %s\n", v.GoVersion, v.Platform)
				return nil
			}
		},
	}
}

// userAgentTransport names oauthdiag in the User-Agent of requests that carry none. It sits in
// front of the recording transport so that the recorded request is the one sent.
type userAgentTransport struct {
	base http.RoundTripper
	ua   string
}

func (t userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") != "" {
		return t.base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.ua)
	return t.base.RoundTrip(r)
}

// newHTTPClient is every client oauthdiag sends with: base (nil for the default transport)
// behind the User-Agent.
func newHTTPClient(timeout time.Duration, base http.RoundTripper) *http.Client {
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{Timeout: timeout, Transport: userAgentTransport{base: base, ua: userAgent()}}
}
