package recorder

import (
	"math/bits"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendEntryJSON renders e as encoding/json would (same field names and omitempty
// rules, so json.Unmarshal reads it back), without reflection: encoding a record is on
// the recording path of every call.
func appendEntryJSON(b []byte, e *Entry) []byte {
	reqHeader, _ := snapshotHeader(nil, nil, e.Request.Header)
	reqHeader.sort()
	var respHeader headerSnapshot
	if e.Response != nil {
		respHeader, _ = snapshotHeader(nil, nil, e.Response.Header)
		respHeader.sort()
	}
	refs := make([]SecretRef, 0, len(e.SecretRefs))
	for _, k := range sortedKeys(e.SecretRefs) {
		refs = append(refs, SecretRef{Kind: k, Fingerprint: e.SecretRefs[k]})
	}
	return appendCallJSON(b, e, reqHeader, respHeader, refs)
}

// appendCallJSON is appendEntryJSON with the headers and secret references given apart,
// in the order encoding/json writes map keys; e's own are ignored. The writer keeps them
// as sorted slices and never builds the maps.
func appendCallJSON(b []byte, e *Entry, reqHeader, respHeader headerSnapshot, refs []SecretRef) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"session_id":`...)
	b = appendJSONString(b, e.SessionID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(e.Seq), 10)
	b = appendStringField(b, "step", e.Step)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(e.Kind))
	b = appendStringField(b, "leg", e.Leg)
	b = appendStringField(b, "note", e.Note)
	b = append(b, `,"started":`...)
	b = appendJSONTime(b, e.Started)
	b = append(b, `,"duration_ns":`...)
	b = strconv.AppendInt(b, int64(e.Duration), 10)
	if e.Wait != 0 {
		b = append(b, `,"wait_ns":`...)
		b = strconv.AppendInt(b, int64(e.Wait), 10)
	}
	b = append(b, `,"request":{"method":`...)
	r := &e.Request
	b = appendJSONString(b, r.Method)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, r.URL)
	b = appendStringField(b, "proto", r.Proto)
	b = appendHeaderField(b, reqHeader)
	b = appendStringField(b, "body", r.Body)
	b = appendStringField(b, "body_encoding", r.BodyEncoding)
	b = append(b, `,"body_size":`...)
	b = strconv.AppendInt(b, r.BodySize, 10)
	if r.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	b = append(b, '}')
	if p := e.Response; p != nil {
		b = append(b, `,"response":{"status":`...)
		b = strconv.AppendInt(b, int64(p.Status), 10)
		b = appendStringField(b, "proto", p.Proto)
		b = appendHeaderField(b, respHeader)
		b = appendStringField(b, "body", p.Body)
		b = appendStringField(b, "body_encoding", p.BodyEncoding)
		b = append(b, `,"body_size":`...)
		b = strconv.AppendInt(b, p.BodySize, 10)
		if p.Truncated {
			b = append(b, `,"truncated":true`...)
		}
		if p.Uncompressed {
			b = append(b, `,"uncompressed":true`...)
		}
		b = append(b, '}')
	}
	b = appendStringField(b, "error", e.Error)
	b = appendStringField(b, "error_kind", string(e.ErrorKind))
	if !e.ServerDate.IsZero() {
		b = append(b, `,"server_date":`...)
		b = appendJSONTime(b, e.ServerDate)
	}
	b = appendStringField(b, "replay_of", e.ReplayOf)
	if e.Attempt != 0 {
		b = append(b, `,"attempt":`...)
		b = strconv.AppendInt(b, int64(e.Attempt), 10)
	}
	if len(refs) > 0 {
		b = append(b, `,"secret_refs":{`...)
		for i, r := range refs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, r.Kind)
			b = append(b, ':')
			b = appendJSONString(b, r.Fingerprint)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendStringField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

func appendHeaderField(b []byte, h headerSnapshot) []byte {
	if len(h) == 0 {
		return b
	}
	b = append(b, `,"header":{`...)
	for i, f := range h {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.name)
		vs := f.values
		if vs == nil {
			b = append(b, `:null`...)
			continue
		}
		b = append(b, ':', '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, 16)
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the bytes that need no escaping in a JSON string.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// special8 marks the bytes packed in x (little-endian) that need a closer look: control
// characters, quotes, backslashes and non-ASCII. The lowest mark is exact (borrows only
// spoil the bytes above a marked one), which is all the encoder uses. Bodies and headers
// are mostly plain bytes, so it copies them a word at a time.
func special8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	control := (x - ones*0x20) & ^x & highs // a byte below 0x20
	q := x ^ ones*'"'
	quote := (q - ones) & ^q & highs
	bs := x ^ ones*'\\'
	backslash := (bs - ones) & ^bs & highs
	return control | quote | backslash | x&highs
}

// load64 reads 8 bytes of s from i, little-endian (one load once compiled).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// appendJSONString quotes s as JSON. Invalid UTF-8 becomes U+FFFD, as in encoding/json.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			if m := special8(load64(s, i)); m == 0 {
				i += 8
				continue
			} else if skip := bits.TrailingZeros64(m) / 8; skip > 0 {
				i += skip
			}
		}
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
