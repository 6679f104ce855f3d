package recorder

import (
	"encoding/json"
	"math/bits"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// TestEncoderMatchesEncodingJSON: the hand-written record encoder must read back exactly
// as encoding/json's output does, for awkward strings too.
func TestEncoderMatchesEncodingJSON(t *testing.T) {
	awkward := "quote\" backslash\\ nl\n cr\r tab\t nul\x00 bell\x07 del\x7f <html>&amp; é 日本 \u2028\u2029 bad\xff\xfe end"
	entries := []Entry{
		{ID: "c1", SessionID: "s", Seq: 1, Kind: KindHTTP, Started: time.Date(2025, 3, 14, 9, 26, 53, 123456789, time.FixedZone("x", 3600)),
			Duration: 1500 * time.Microsecond, Wait: time.Millisecond, Step: awkward, Note: awkward,
			Request: Request{Method: "POST", URL: "http://h/p?q=" + awkward, Proto: "HTTP/1.1",
				Header: http.Header{"A": {awkward, ""}, "B": {}, awkward: {"v"}}, Body: awkward, BodySize: 9, Truncated: true},
			Response: &Response{Status: 503, Proto: "HTTP/2.0", Header: http.Header{"Retry-After": {"1"}}, Body: "aGk=",
				BodyEncoding: BodyEncodingBase64, BodySize: 2, Truncated: true, Uncompressed: true},
			Error: awkward, ErrorKind: ErrorReset, ServerDate: time.Date(2025, 3, 14, 9, 27, 0, 0, time.UTC),
			ReplayOf: "c0", Attempt: 2, SecretRefs: map[string]string{"access_token": "sha256:00000000:len=1", "b": awkward}},
		{ID: "c2", Kind: KindObserved, Leg: LegBrowserRedirect, Request: Request{Method: "GET", URL: "http://h/cb"}},
	}
	for _, e := range entries {
		var fromStd, fromOurs Entry
		std, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(std, &fromStd); err != nil {
			t.Fatal(err)
		}
		ours := appendEntryJSON(nil, &e)
		if !json.Valid(ours) {
			t.Fatalf("%s: encoder output is not JSON: %s", e.ID, ours)
		}
		if err := json.Unmarshal(ours, &fromOurs); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromStd, fromOurs) {
			t.Errorf("%s: read back differently\nencoding/json: %+v\nours:          %+v", e.ID, fromStd, fromOurs)
		}
	}
}

// TestSpecialWordsMatchTheByteTable: the word-at-a-time test finds the first byte the
// byte table says needs escaping, for every byte value in every position, after plain
// bytes and before any bytes at all.
func TestSpecialWordsMatchTheByteTable(t *testing.T) {
	for _, after := range []byte{'a', '"', 0x00, 0xff} {
		for c := 0; c < 256; c++ {
			for pos := range 8 {
				word := []byte("abcdefgh")
				word[pos] = byte(c)
				for i := pos + 1; i < 8; i++ {
					word[i] = after
				}
				first := 8 // no byte needs a look
				for i, b := range word {
					if !plainASCII[b] {
						first = i
						break
					}
				}
				got := 8
				if m := special8(load64(string(word), 0)); m != 0 {
					got = bits.TrailingZeros64(m) / 8
				}
				if got != first {
					t.Errorf("%q: first special byte found at %d, the byte table says %d", word, got, first)
				}
			}
		}
	}
}

// TestSnapshotKeepsEmptyApartFromNil: a header field with no values and one that is nil
// read back as encoding/json writes them, [] and null, whatever order the map gives.
func TestSnapshotKeepsEmptyApartFromNil(t *testing.T) {
	for range 50 {
		hs, _ := snapshotHeader(nil, nil, http.Header{"Empty": {}, "Nil": nil, "Full": {"v"}})
		for _, f := range hs {
			switch f.name {
			case "Empty":
				if f.values == nil || len(f.values) != 0 {
					t.Fatalf("Empty snapshot as %#v, want an empty non-nil slice", f.values)
				}
			case "Nil":
				if f.values != nil {
					t.Fatalf("Nil snapshot as %#v, want nil", f.values)
				}
			}
		}
	}
}
