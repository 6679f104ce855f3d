package recorder

import (
	"slices"
	"strings"
)

// knownIndex finds every known secret value in a text. With a handful of values a
// strings.Contains per value is fastest; a long session learns thousands (every refresh adds a
// token in several encodings), so past linearScanLimit the text is scanned once with a rolling
// hash of minKnownSecret-byte windows, a bitset that rejects almost every window, and a map from
// a value's first bytes to the values starting with them. Both paths find the same matches.
type knownIndex struct {
	n       int                     // values held
	all     []*knownSecret          // while n <= linearScanLimit: longest first, so a value containing another is replaced whole
	byStart map[string]*startBucket // first minKnownSecret bytes -> the values starting with them
	filter  [filterWords]uint64     // bit set for the hash of each value's first window
}

// startBucket holds the values sharing their first bytes. Tokens of one kind often share a long
// prefix (every JWT starts "eyJhbGciOi"), so values are found by exact lookup per length rather
// than compared one by one.
type startBucket struct {
	lengths []int // distinct value lengths, longest first
	values  map[string]*knownSecret
}

const (
	linearScanLimit = 8
	filterBits      = 1 << 16
	filterWords     = filterBits / 64
	hashBase        = 1099511628211 // FNV prime: spreads ASCII windows well
)

// hashBasePow is hashBase^minKnownSecret, to roll the oldest byte out of the window.
var hashBasePow = func() uint64 {
	p := uint64(1)
	for i := 0; i < minKnownSecret; i++ {
		p *= hashBase
	}
	return p
}()

func windowHash(s string) uint64 {
	var h uint64
	for i := 0; i < minKnownSecret; i++ {
		h = h*hashBase + uint64(s[i])
	}
	return h
}

func filterBit(h uint64) (int, uint64) {
	b := h >> 48 // the top bits mix best
	return int(b / 64), 1 << (b % 64)
}

// add inserts a value in length order (values are at least minKnownSecret bytes long).
func (x *knownIndex) add(k *knownSecret) {
	// Only the linear scan reads all; keeping it sorted past that would cost every new
	// secret a pass over all the others.
	if x.n++; x.n <= linearScanLimit {
		x.all = insertLongestFirst(x.all, k)
	} else {
		x.all = nil
	}
	if x.byStart == nil {
		x.byStart = map[string]*startBucket{}
	}
	start := k.value[:minKnownSecret]
	b := x.byStart[start]
	if b == nil {
		b = &startBucket{values: map[string]*knownSecret{}}
		x.byStart[start] = b
	}
	b.values[k.value] = k
	if !slices.Contains(b.lengths, len(k.value)) {
		b.lengths = append(b.lengths, len(k.value))
		slices.SortFunc(b.lengths, func(a, c int) int { return c - a })
	}
	w, bit := filterBit(windowHash(start))
	x.filter[w] |= bit
}

func insertLongestFirst(list []*knownSecret, k *knownSecret) []*knownSecret {
	i := len(list)
	for i > 0 && len(list[i-1].value) < len(k.value) {
		i--
	}
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = k
	return list
}

// replace returns s with every known value replaced by its placeholder, calling found for each
// value replaced (once per distinct value).
func (x *knownIndex) replace(s string, found func(*knownSecret)) string {
	if len(s) < minKnownSecret || x.n == 0 {
		return s
	}
	if x.n <= linearScanLimit {
		for _, k := range x.all {
			if strings.Contains(s, k.value) {
				s = strings.ReplaceAll(s, k.value, k.placeholder)
				found(k)
			}
		}
		return s
	}
	var out strings.Builder
	last := 0
	var reported map[*knownSecret]bool
	h := windowHash(s)
	for i := 0; i+minKnownSecret <= len(s); {
		if w, bit := filterBit(h); x.filter[w]&bit != 0 {
			if k := x.matchAt(s, i); k != nil {
				if out.Len() == 0 {
					out.Grow(len(s))
				}
				out.WriteString(s[last:i])
				out.WriteString(k.placeholder)
				if !reported[k] {
					if reported == nil {
						reported = map[*knownSecret]bool{}
					}
					reported[k] = true
					found(k)
				}
				i += len(k.value)
				last = i
				if i+minKnownSecret <= len(s) {
					h = windowHash(s[i:])
				}
				continue
			}
		}
		if i+minKnownSecret < len(s) {
			h = h*hashBase + uint64(s[i+minKnownSecret]) - uint64(s[i])*hashBasePow
		}
		i++
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// matchAt returns the longest known value starting at s[i], or nil.
func (x *knownIndex) matchAt(s string, i int) *knownSecret {
	b := x.byStart[s[i:i+minKnownSecret]]
	if b == nil {
		return nil
	}
	for _, n := range b.lengths {
		if i+n <= len(s) {
			if k, ok := b.values[s[i:i+n]]; ok {
				return k
			}
		}
	}
	return nil
}
