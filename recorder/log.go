package recorder

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
)

// The session log is a text file of records, one per line:
//
//	<crc32c of the JSON, 8 hex digits> <JSON>\n
//
// json.Marshal never emits a raw newline, so a line is a record. A record is written with
// one write(2) on a file opened O_APPEND, so a process killed with SIGKILL leaves at most
// one torn line at the end; a line whose checksum does not match, or that has no newline,
// is skipped on read and everything before it stays readable. No fsync per record: the
// kernel keeps what was written when the process dies, and a record-per-call fsync would
// cost more than the call it records. A power loss can lose the last records; the reader
// still skips whatever is torn.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const crcHexLen = 8

// appendRecord frames payload as one log line.
func appendRecord(dst, payload []byte) []byte {
	var sum [4]byte
	c := crc32.Checksum(payload, crcTable)
	sum[0], sum[1], sum[2], sum[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	var hx [crcHexLen]byte
	hex.Encode(hx[:], sum[:])
	dst = append(dst, hx[:]...)
	dst = append(dst, ' ')
	dst = append(dst, payload...)
	return append(dst, '\n')
}

// encodeRecord encodes rec as one framed log line.
func encodeRecord(rec record) ([]byte, error) {
	payload, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	return appendRecord(make([]byte, 0, crcHexLen+1+len(payload)+1), payload), nil
}

// errBadRecord marks a line that is torn or corrupt.
var errBadRecord = errors.New("torn or corrupt log record")

// parseRecord checks one line (without its newline) and returns its JSON payload.
func parseRecord(line []byte) ([]byte, error) {
	if len(line) < crcHexLen+2 || line[crcHexLen] != ' ' {
		return nil, errBadRecord
	}
	var sum [4]byte
	if _, err := hex.Decode(sum[:], line[:crcHexLen]); err != nil {
		return nil, errBadRecord
	}
	payload := line[crcHexLen+1:]
	want := uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
	if crc32.Checksum(payload, crcTable) != want {
		return nil, errBadRecord
	}
	return payload, nil
}

// scanResult describes a scan of a whole log.
type scanResult struct {
	size    int64 // bytes read
	skipped int   // torn or corrupt lines skipped
}

// scanRecords calls fn for every intact record with its offset and length (including the
// newline). The payload is only valid during the call.
func scanRecords(r io.Reader, fn func(off int64, n int, payload []byte) error) (scanResult, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var res scanResult
	var off int64
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A record longer than the buffer: gather it.
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			n := len(line)
			complete := line[n-1] == '\n'
			if complete {
				if payload, perr := parseRecord(bytes.TrimSuffix(line, []byte{'\n'})); perr == nil {
					if ferr := fn(off, n, payload); ferr != nil {
						return res, ferr
					}
				} else {
					res.skipped++
				}
			} else {
				res.skipped++ // torn tail: a write cut short
			}
			off += int64(n)
		}
		if err == io.EOF {
			res.size = off
			return res, nil
		}
		if err != nil {
			res.size = off
			return res, err
		}
	}
}
