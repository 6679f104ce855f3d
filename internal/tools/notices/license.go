package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// The licenses the notices recognize, as SPDX identifiers. Anything else is unknown, and an
// unknown license stops the generator.
const (
	apache2 = "Apache-2.0"
	mit     = "MIT"
	bsd3    = "BSD-3-Clause"
	bsd2    = "BSD-2-Clause"
	isc     = "ISC"
	mpl2    = "MPL-2.0"
)

var known = []string{apache2, mit, bsd3, bsd2, isc, mpl2}

// textFile is a license or notice file of a module.
type textFile struct {
	Name string
	Text string
}

// licenseNames and noticeNames are the file names, matched case-insensitively and with any
// suffix after a '.', '-' or '_' (LICENSE.txt, LICENSE-MIT, COPYING.md), that hold a module's
// licenses, and its further notices (Apache-2.0 section 4(d) has a NOTICE file passed on; the
// Go projects' PATENTS file is an additional grant).
var (
	licenseNames = []string{"LICENSE", "LICENCE", "COPYING"}
	noticeNames  = []string{"NOTICE", "PATENTS"}
)

// matchesName reports whether the file name is one of names, possibly with a suffix.
func matchesName(name string, names []string) bool {
	upper := strings.ToUpper(name)
	if strings.HasSuffix(upper, ".GO") {
		return false
	}
	for _, n := range names {
		rest, ok := strings.CutPrefix(upper, n)
		if ok && (rest == "" || strings.ContainsRune(".-_", rune(rest[0]))) {
			return true
		}
	}
	return false
}

// readTextFiles reads the license and the notice files at the top of a module's directory,
// each list sorted by name.
func readTextFiles(dir string) (licenses, notices []textFile, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries { // ReadDir sorts by name
		if !e.Type().IsRegular() {
			continue
		}
		isLicense, isNotice := matchesName(e.Name(), licenseNames), matchesName(e.Name(), noticeNames)
		if !isLicense && !isNotice {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, err
		}
		f := textFile{Name: e.Name(), Text: cleanText(string(data))}
		if isLicense {
			licenses = append(licenses, f)
		} else {
			notices = append(notices, f)
		}
	}
	return licenses, notices, nil
}

// cleanText gives a file's text Unix line ends, no trailing spaces and no blank lines around it,
// so that the notices do not change with how a module was checked out.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// detection is what detect finds in a license file.
type detection struct {
	Kinds []string // SPDX identifiers, in the order of known
	// ByReference lists the kinds the file grants by the license's standard notice only,
	// pointing at a text it does not include.
	ByReference []string
}

// normalize reduces text to lower-case words separated by single spaces, so that the phrases
// below match whatever the line breaks, quoting, punctuation and bullets.
func normalize(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// Each license is recognized by the clauses that grant it, normalized. Copyright lines, titles
// and the wording of disclaimers are left free, since they vary from copy to copy.
var (
	apacheTitle     = normalize("Apache License Version 2.0, January 2004")
	apacheTerms     = normalize("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION")
	apacheNotice    = normalize(`Licensed under the Apache License, Version 2.0 (the "License")`)
	mitGrant        = normalize("Permission is hereby granted, free of charge, to any person obtaining a copy")
	mitCondition    = normalize("The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.")
	iscGrants       = []string{normalize("Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted"), normalize("Permission to use, copy, modify, and distribute this software for any purpose with or without fee is hereby granted")}
	iscCondition    = normalize("provided that the above copyright notice and this permission notice appear in all copies")
	bsdGrant        = normalize("Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met")
	bsdEndorsement  = normalize("endorse or promote products derived from this software without specific prior written permission")
	bsdAdvertising  = normalize("All advertising materials mentioning features or use of this software must display the following acknowledgement")
	mplTitle        = normalize("Mozilla Public License Version 2.0")
	mplExhibitA     = normalize("Exhibit A - Source Code Form License Notice")
	mplEnd          = normalize("This Source Code Form is \"Incompatible With Secondary Licenses\", as defined by the Mozilla Public License, v. 2.0.")
	refusedPhrases  = []string{"GNU General Public License", "GNU Lesser General Public License", "GNU Library General Public License", "GNU Affero General Public License", "Commons Clause", "Business Source License", "Server Side Public License", "Creative Commons", "Mozilla Public License Version 1", "Common Development and Distribution License", "Eclipse Public License"}
	refusedPhraseNs = func() []string {
		ns := make([]string, len(refusedPhrases))
		for i, p := range refusedPhrases {
			ns[i] = normalize(p)
		}
		return ns
	}()
)

// detect tells which of the known licenses a license file's text holds. A file may hold several
// (a project under one license with some files under another). It fails when the text holds
// none of them, or names a license it does not know (a copyleft or source-available one, a
// dual-licensing offer): those need a person to read them.
//
// It is text matching, not legal review: it checks for the granting clauses, not that nothing
// else in the file adds terms. The generated file's diff is where a person sees a new text.
func detect(text string) (detection, error) {
	n := normalize(text)
	var d detection
	add := func(kind string, byReference bool) {
		if !slices.Contains(d.Kinds, kind) {
			d.Kinds = append(d.Kinds, kind)
		}
		if byReference && !slices.Contains(d.ByReference, kind) {
			d.ByReference = append(d.ByReference, kind)
		}
	}

	// The MPL-2.0 text itself names the GNU licenses (as its Secondary Licenses): take it out
	// before looking for licenses that are refused.
	rest := n
	if start := strings.Index(rest, mplTitle); start >= 0 && strings.Contains(rest[start:], mplExhibitA) {
		end := strings.Index(rest[start:], mplEnd)
		if end < 0 {
			return detection{}, fmt.Errorf("the Mozilla Public License 2.0 text does not end as the standard text does")
		}
		add(mpl2, false)
		rest = rest[:start] + " " + rest[start+end+len(mplEnd):]
	}
	for i, p := range refusedPhraseNs {
		if strings.Contains(rest, p) {
			return detection{}, fmt.Errorf("it names the %s, which these notices do not accept unread", refusedPhrases[i])
		}
	}
	if strings.Contains(rest, bsdAdvertising) {
		return detection{}, fmt.Errorf("it has the BSD advertising clause (BSD-4-Clause), which these notices do not accept unread")
	}

	switch {
	case strings.Contains(rest, apacheTitle) && strings.Contains(rest, apacheTerms):
		add(apache2, false)
	case strings.Contains(rest, apacheNotice):
		add(apache2, true)
	}
	if strings.Contains(rest, mitGrant) && strings.Contains(rest, mitCondition) {
		add(mit, false)
	}
	for _, g := range iscGrants {
		if strings.Contains(rest, g) && strings.Contains(rest, iscCondition) {
			add(isc, false)
		}
	}
	// Each BSD grant with an endorsement clause is BSD-3-Clause; a grant without one is
	// BSD-2-Clause.
	grants, endorsements := strings.Count(rest, bsdGrant), strings.Count(rest, bsdEndorsement)
	if grants > 0 && endorsements > 0 {
		add(bsd3, false)
	}
	if grants > endorsements {
		add(bsd2, false)
	}

	if len(d.Kinds) == 0 {
		return detection{}, fmt.Errorf("it holds none of the licenses these notices recognize (%s)", strings.Join(known, ", "))
	}
	slices.SortFunc(d.Kinds, func(a, b string) int { return slices.Index(known, a) - slices.Index(known, b) })
	return d, nil
}
