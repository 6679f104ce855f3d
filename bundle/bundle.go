package bundle

import (
	"archive/zip"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/internal/atomicfile"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// Options is what the bundle needs beyond the session log.
type Options struct {
	// Config is written to config.json; nil means the session's metadata (provider,
	// endpoints, client_id, redirect_uri, scopes). It is redacted like everything else.
	Config any
	// Diagnoses explain the session; nil means Diagnoses(session, now).
	Diagnoses   []inspector.Diagnosis
	ToolVersion string
	// Now stamps the bundle; nil means the session's clock.
	Now func() time.Time
}

// File is one file in the bundle.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ClockSkew compares the local clock with servers' Date headers: positive means the
// server clock is ahead.
type ClockSkew struct {
	Samples int           `json:"samples"`
	Median  time.Duration `json:"-"`
	Min     time.Duration `json:"-"`
	Max     time.Duration `json:"-"`
}

// MarshalJSON renders the durations in seconds.
func (c ClockSkew) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Samples int     `json:"samples"`
		Median  float64 `json:"median_seconds"`
		Min     float64 `json:"min_seconds"`
		Max     float64 `json:"max_seconds"`
		Note    string  `json:"note"`
	}{c.Samples, c.Median.Seconds(), c.Min.Seconds(), c.Max.Seconds(),
		"server Date minus local time at the middle of the wait, Date's 1s resolution included; ID token checks usually allow a few minutes"})
}

// Summary tells what went into a bundle.
type Summary struct {
	Path       string             `json:"path"`
	Files      []File             `json:"files"`
	Calls      int                `json:"calls"`
	Failed     []recorder.Summary `json:"failed"`
	Redactions map[string]int     `json:"redactions"` // distinct secrets redacted, per kind
	ClockSkew  *ClockSkew         `json:"clock_skew,omitempty"`
}

// maxDetailedFailures bounds the failed calls written out in full in report.md; the rest
// are listed, and calls.har holds them all.
const maxDetailedFailures = 200

// maxReportBody bounds each body quoted in report.md.
const maxReportBody = 16 << 10

// Write writes the support-ticket bundle of session s to the file path, atomically: a reader
// never sees half a zip, and a failed write leaves no file behind.
func Write(path string, s *recorder.Session, info Options) (Summary, error) {
	var sum Summary
	err := atomicfile.Write(path, 0o600, func(w io.Writer) error {
		var err error
		sum, err = WriteTo(w, s, info)
		return err
	})
	if err != nil {
		return Summary{}, err
	}
	sum.Path = path
	return sum, nil
}

// WriteTo writes the support-ticket bundle of session s to w: a zip of report.md, calls.har,
// config.json, diagnosis.json, environment.json and manifest.json (the SHA-256 of every
// other file).
func WriteTo(w io.Writer, s *recorder.Session, info Options) (Summary, error) {
	now := info.Now
	if now == nil {
		now = s.Now
	}
	generated := now().UTC()
	diagnoses := info.Diagnoses
	if diagnoses == nil {
		diagnoses = Diagnoses(s, generated)
	}
	sum := Summary{Failed: []recorder.Summary{}, Redactions: map[string]int{}}
	red := s.Redactor()
	err := func() error {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		add := func(name string, write func(io.Writer) error) error {
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: generated})
			if err != nil {
				return err
			}
			h := sha256.New()
			cw := &countWriter{w: io.MultiWriter(fw, h)}
			if err := write(cw); err != nil {
				return fmt.Errorf("bundle %s: %w", name, err)
			}
			sum.Files = append(sum.Files, File{Name: name, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))})
			return nil
		}

		// One pass over the log: calls.har streams out while the report's material is gathered.
		var failed []recorder.Entry
		var rows []recorder.Summary
		var skews []time.Duration
		secrets := map[string]map[string]bool{}
		creator := recorder.Creator{Name: "oauthdiag", Version: info.ToolVersion}
		err := add("calls.har", func(w io.Writer) error {
			return recorder.StreamHAR(w, creator, "session "+s.ID(), func(fn func(recorder.Entry) error) error {
				return s.Each(func(e recorder.Entry) error {
					rows = append(rows, e.Summary())
					countSecrets(&e, secrets)
					if skew, ok := httplog.ClockSkew(&e.Exchange); ok {
						skews = append(skews, skew)
					}
					if e.Failed() {
						sum.Failed = append(sum.Failed, e.Summary())
						if len(failed) < maxDetailedFailures {
							failed = append(failed, e)
						}
					}
					return fn(e)
				})
			})
		})
		if err != nil {
			return err
		}
		sum.Calls = len(rows)
		for kind, fps := range secrets {
			sum.Redactions[kind] = len(fps)
		}
		sum.ClockSkew = clockSkew(skews)
		findings := make([]inspector.Diagnosis, len(diagnoses))
		for i, d := range diagnoses {
			findings[i] = d.Redacted(red.RedactString)
		}

		if err := add("report.md", func(w io.Writer) error {
			return writeReport(w, s, generated, info.ToolVersion, rows, failed, len(sum.Failed), findings, sum.Redactions, sum.ClockSkew)
		}); err != nil {
			return err
		}
		if err := add("config.json", func(w io.Writer) error { return writeConfig(w, s, info.Config) }); err != nil {
			return err
		}
		if err := add("diagnosis.json", func(w io.Writer) error { return writeJSON(w, findings) }); err != nil {
			return err
		}
		if err := add("environment.json", func(w io.Writer) error {
			return writeJSON(w, map[string]any{
				"tool_version":          info.ToolVersion,
				"os":                    runtime.GOOS,
				"arch":                  runtime.GOARCH,
				"go_version":            runtime.Version(),
				"generated_at":          generated,
				"session_id":            s.ID(),
				"recorded_on":           s.Host(),
				"recorded_tool_version": s.Meta().ToolVersion,
				"clock_skew":            sum.ClockSkew,
			})
		}); err != nil {
			return err
		}
		files := append([]File(nil), sum.Files...)
		if err := add("manifest.json", func(w io.Writer) error {
			return writeJSON(w, map[string]any{"session_id": s.ID(), "generated_at": generated, "files": files})
		}); err != nil {
			return err
		}
		return zw.Close()
	}()
	if err != nil {
		return Summary{}, err
	}
	return sum, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func writeConfig(w io.Writer, s *recorder.Session, cfg any) error {
	if cfg == nil {
		m := s.Meta()
		cfg = struct {
			Provider    string            `json:"provider"`
			ClientID    string            `json:"client_id"`
			RedirectURI string            `json:"redirect_uri"`
			Scopes      []string          `json:"scopes"`
			Endpoints   map[string]string `json:"endpoints"`
		}{m.Provider, m.ClientID, m.RedirectURI, m.Scopes, m.Endpoints}
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	// The configuration comes from the caller: redact it like a body, so a client secret
	// handed in by mistake is still caught.
	b = s.Redactor().RedactBody("application/json", b)
	_, err = w.Write(append(b, '\n'))
	return err
}

// countSecrets notes every distinct placeholder in an entry.
func countSecrets(e *recorder.Entry, into map[string]map[string]bool) {
	scan := func(s string) {
		if !strings.Contains(s, "[redacted:") {
			return
		}
		for _, ref := range recorder.Placeholders(s) {
			if into[ref.Kind] == nil {
				into[ref.Kind] = map[string]bool{}
			}
			into[ref.Kind][ref.Fingerprint] = true
		}
	}
	scanHeader := func(h http.Header) {
		for _, vs := range h {
			for _, v := range vs {
				scan(v)
			}
		}
	}
	scan(e.Request.URL)
	scanHeader(e.Request.Header)
	scan(string(e.Request.Body))
	if e.Response != nil {
		scanHeader(e.Response.Header)
		scan(string(e.Response.Body))
	}
	scan(e.Error)
}

func clockSkew(samples []time.Duration) *ClockSkew {
	if len(samples) == 0 {
		return nil
	}
	sorted := append([]time.Duration(nil), samples...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return &ClockSkew{Samples: len(sorted), Median: sorted[len(sorted)/2], Min: sorted[0], Max: sorted[len(sorted)-1]}
}
