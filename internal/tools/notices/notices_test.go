package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNoticesAreCurrent regenerates the notices from the module graph and compares them with the
// committed file, so that a dependency added, removed or upgraded cannot leave them stale.
func TestNoticesAreCurrent(t *testing.T) {
	root, err := moduleRoot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate(t.Context(), root)
	if err != nil {
		t.Fatalf("generating the notices: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(root, noticesFile))
	if err != nil {
		t.Fatalf("%v\nCreate it: run `%s` from the repository root.", err, refreshCommand)
	}
	if string(got) == string(want) {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	line := 0
	for line < len(gotLines) && line < len(wantLines) && gotLines[line] == wantLines[line] {
		line++
	}
	at := func(lines []string) string {
		if line < len(lines) {
			return lines[line]
		}
		return "(end of file)"
	}
	t.Fatalf("%s does not match the module graph (first difference at line %d):\n  committed: %s\n  generated: %s\n"+
		"Refresh it: run `%s` from the repository root, and review the diff.",
		noticesFile, line+1, at(gotLines), at(wantLines), refreshCommand)
}

const mitText = `MIT License

Copyright (c) 2020 Example

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.`

const bsd2Text = `Copyright (c) 2013 Example
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions
are met:

1. Redistributions of source code must retain the above copyright notice,
this list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright
notice, this list of conditions and the following disclaimer in the
documentation and/or other materials provided with the distribution.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS".`

const bsd3Clause = `
   * Neither the name of Example nor the names of its
contributors may be used to endorse or promote products derived from
this software without specific prior written permission.
`

const iscText = `Copyright (c) 2015 Example

Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES.`

const apacheNoticeText = `Copyright 2019 Example

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0`

// mplText has the shape of the MPL-2.0 text: its title, its naming the GNU licenses as
// Secondary Licenses, its exhibits.
const mplText = `Mozilla Public License Version 2.0
==================================

1.12. "Secondary License"
    means either the GNU General Public License, Version 2.0, the GNU
    Lesser General Public License, Version 2.1, the GNU Affero General
    Public License, Version 3.0, or any later versions of those
    licenses.

Exhibit A - Source Code Form License Notice
-------------------------------------------

Exhibit B - "Incompatible With Secondary Licenses" Notice
---------------------------------------------------------

  This Source Code Form is "Incompatible With Secondary Licenses", as
  defined by the Mozilla Public License, v. 2.0.`

func TestDetect(t *testing.T) {
	apache, err := os.ReadFile("../../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		text        string
		kinds       []string
		byReference []string
		fails       string // part of the error, when detection fails
	}{
		{name: "oauthdiag's own LICENSE", text: string(apache), kinds: []string{apache2}},
		{name: "MIT", text: mitText, kinds: []string{mit}},
		{name: "MIT with CRLF and rewrapped", text: strings.ReplaceAll(strings.ReplaceAll(mitText, "\n", " "), "  ", "\r\n"), kinds: []string{mit}},
		{name: "BSD-2-Clause", text: bsd2Text, kinds: []string{bsd2}},
		{name: "BSD-3-Clause", text: bsd2Text + bsd3Clause, kinds: []string{bsd3}},
		{name: "BSD-3-Clause quoted as Markdown", text: "> " + strings.ReplaceAll(bsd2Text+bsd3Clause, "\n", "\n> "), kinds: []string{bsd3}},
		{name: "BSD-3-Clause and BSD-2-Clause", text: bsd2Text + bsd3Clause + "\n\n" + bsd2Text, kinds: []string{bsd3, bsd2}},
		{name: "ISC", text: iscText, kinds: []string{isc}},
		{name: "Apache-2.0 by its notice", text: apacheNoticeText, kinds: []string{apache2}, byReference: []string{apache2}},
		{name: "MIT and Apache-2.0 by notice", text: mitText + "\n\n" + apacheNoticeText, kinds: []string{apache2, mit}, byReference: []string{apache2}},
		{name: "Apache-2.0 and BSD-3-Clause", text: string(apache) + "\n----\n" + bsd2Text + bsd3Clause, kinds: []string{apache2, bsd3}},
		{name: "MPL-2.0", text: mplText, kinds: []string{mpl2}},
		{name: "MPL-2.0 cut short", text: strings.TrimSuffix(mplText, "defined by the Mozilla Public License, v. 2.0."), fails: "does not end"},
		{name: "MPL-2.0 then the GPL", text: mplText + "\nOr, at your option, the GNU General Public License.", fails: "GNU General Public License"},
		{name: "GPL", text: "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007", fails: "GNU General Public License"},
		{name: "MIT with the Commons Clause", text: mitText + "\n\n\"Commons Clause\" License Condition v1.0", fails: "Commons Clause"},
		{name: "BSD-4-Clause", text: bsd2Text + "\n3. All advertising materials mentioning features or use of this software\nmust display the following acknowledgement: ..." + bsd3Clause, fails: "advertising clause"},
		{name: "a pointer to elsewhere", text: "See https://example.com/license for the terms.", fails: "none of the licenses"},
		{name: "empty", text: "", fails: "none of the licenses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := detect(tt.text)
			if tt.fails != "" {
				if err == nil || !strings.Contains(err.Error(), tt.fails) {
					t.Fatalf("detect = %+v, %v; want an error with %q", d, err, tt.fails)
				}
				return
			}
			if err != nil {
				t.Fatalf("detect: %v", err)
			}
			if !slices.Equal(d.Kinds, tt.kinds) || !slices.Equal(d.ByReference, tt.byReference) {
				t.Errorf("detect = kinds %v, by reference %v; want %v, %v", d.Kinds, d.ByReference, tt.kinds, tt.byReference)
			}
		})
	}
}

func TestMatchesName(t *testing.T) {
	for name, want := range map[string]bool{
		"LICENSE": true, "license": true, "LICENSE.txt": true, "LICENSE.md": true, "LICENSE-MIT": true,
		"LICENCE": true, "COPYING": true, "COPYING_BSD": true,
		"LICENSES": false, "license.go": false, "licensed.txt": false, "README.md": false, "NOTICE": false,
	} {
		if got := matchesName(name, licenseNames); got != want {
			t.Errorf("matchesName(%q, licenseNames) = %v, want %v", name, got, want)
		}
	}
	if !matchesName("NOTICE", noticeNames) || !matchesName("PATENTS", noticeNames) {
		t.Error("NOTICE and PATENTS are notice files")
	}
}

// TestNewEntryFailsLoudly checks that a module without a recognized license stops the notices.
func TestNewEntryFailsLoudly(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no license file":       {"README.md": mitText},
		"an unknown license":    {"LICENSE": "GNU GENERAL PUBLIC LICENSE\nVersion 3"},
		"one of two is unknown": {"LICENSE-MIT": mitText, "LICENSE-OTHER": "All rights reserved."},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for f, text := range files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if e, err := newEntry("example.com/m", "v1.0.0", dir, nil); err == nil {
				t.Fatalf("newEntry = %+v, want an error", e)
			}
		})
	}
}

func TestNewEntry(t *testing.T) {
	dir := t.TempDir()
	for f, text := range map[string]string{
		"LICENSE":   mitText + "\r\n\r\n" + strings.ReplaceAll(apacheNoticeText, "\n", "\r\n") + "  \r\n\r\n",
		"NOTICE":    "Copyright 2019 Example",
		"README.md": "not a license",
	} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, err := newEntry("example.com/m", "v1.0.0", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.Kinds, []string{apache2, mit}) || !slices.Equal(e.ByReference, []string{apache2}) {
		t.Errorf("kinds %v, by reference %v; want [Apache-2.0 MIT], [Apache-2.0]", e.Kinds, e.ByReference)
	}
	if len(e.Licenses) != 1 || len(e.Notices) != 1 || e.Notices[0].Name != "NOTICE" {
		t.Fatalf("licenses %+v, notices %+v; want LICENSE and NOTICE", e.Licenses, e.Notices)
	}
	if text := e.Licenses[0].Text; strings.Contains(text, "\r") || strings.HasSuffix(text, "\n") || strings.HasSuffix(text, " ") {
		t.Errorf("license text not cleaned: %q", text)
	}
}

func TestFenceAndAnchor(t *testing.T) {
	if got := fenceFor("plain"); got != "```" {
		t.Errorf("fenceFor(plain) = %q", got)
	}
	if got := fenceFor("a ```` b"); got != "`````" {
		t.Errorf("fenceFor with four backticks = %q", got)
	}
	seen := map[string]int{}
	for _, tt := range []struct{ name, want string }{
		{"go.yaml.in/yaml/v3", "goyamlinyamlv3"},
		{"Go standard library", "go-standard-library"},
		{"github.com/lucasb-eyer/go-colorful", "githubcomlucasb-eyergo-colorful"},
		{"go.yaml.in/yaml/v3", "goyamlinyamlv3-1"},
	} {
		if got := anchor(tt.name, seen); got != tt.want {
			t.Errorf("anchor(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
