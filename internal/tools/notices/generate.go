package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// entry is one section of the notices: a module, or the Go standard library.
type entry struct {
	Name      string
	Version   string
	Platforms []platform // nil: all of them
	Kinds     []string
	// ByReference are the kinds its files grant by the standard notice only.
	ByReference []string
	Licenses    []textFile
	Notices     []textFile
}

// generate builds the notices for the main package of the module in root. When a linked module
// has no license file, or one whose license it does not recognize, it fails with every such
// module named.
func generate(ctx context.Context, root string) ([]byte, error) {
	mods, err := linkedModules(ctx, root)
	if err != nil {
		return nil, err
	}
	gr, err := goroot(ctx, root)
	if err != nil {
		return nil, err
	}
	var entries []entry
	var problems []error
	add := func(name, version, dir string, ps []platform) {
		e, err := newEntry(name, version, dir, ps)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s %s: %w", name, version, err))
			return
		}
		entries = append(entries, e)
	}
	add("Go standard library", "", gr, nil)
	for _, m := range mods {
		ps := m.Platforms
		if len(ps) == len(platforms) {
			ps = nil
		}
		add(m.Path, m.Version, m.Dir, ps)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the notices cannot be generated:\n%w\n"+
			"A linked module needs a license file with a license these notices recognize. Read it; "+
			"only if the project accepts the license, teach internal/tools/notices/license.go its text, "+
			"then run %s", errors.Join(problems...), refreshCommand)
	}
	return render(entries), nil
}

// newEntry reads and recognizes the license files in a module's directory.
func newEntry(name, version, dir string, ps []platform) (entry, error) {
	licenses, notices, err := readTextFiles(dir)
	if err != nil {
		return entry{}, err
	}
	if len(licenses) == 0 {
		return entry{}, fmt.Errorf("no license file (%s) in %s", strings.Join(licenseNames, ", "), dir)
	}
	e := entry{Name: name, Version: version, Platforms: ps, Licenses: licenses, Notices: notices}
	var kinds, byRef []string
	for _, f := range licenses {
		d, err := detect(f.Text)
		if err != nil {
			return entry{}, fmt.Errorf("%s: unknown license: %w", filepath.Join(dir, f.Name), err)
		}
		kinds = append(kinds, d.Kinds...)
		byRef = append(byRef, d.ByReference...)
	}
	for _, k := range known { // in the order of known, each once
		if slices.Contains(kinds, k) {
			e.Kinds = append(e.Kinds, k)
		}
		// A kind another file grants in full is not granted by reference only.
		if slices.Contains(byRef, k) && !fullIn(licenses, k) {
			e.ByReference = append(e.ByReference, k)
		}
	}
	return e, nil
}

// fullIn reports whether one of the files holds the full text of kind.
func fullIn(files []textFile, kind string) bool {
	for _, f := range files {
		if d, err := detect(f.Text); err == nil && slices.Contains(d.Kinds, kind) && !slices.Contains(d.ByReference, kind) {
			return true
		}
	}
	return false
}

// render writes the notices as Markdown: a table of the entries, then each one's files in full.
func render(entries []entry) []byte {
	var b bytes.Buffer
	b.WriteString("# Third-party notices\n\n")
	b.WriteString("The oauthdiag binary links the Go standard library and the Go modules below, on linux, darwin\n")
	b.WriteString("and windows for amd64 and arm64 (built with `CGO_ENABLED=0`). For each it gives the version,\n")
	b.WriteString("the licenses its license files hold (as SPDX identifiers; where there are several, the texts\n")
	b.WriteString("tell how they apply) and those files, with any NOTICE or PATENTS file, in full.\n\n")
	fmt.Fprintf(&b, "This file is generated from the module graph; do not edit it. To refresh it, run\n`%s` from the repository root.\n\n", refreshCommand)

	anchors := map[string]int{}
	anchorOf := make([]string, len(entries))
	for i, e := range entries {
		anchorOf[i] = anchor(e.Name, anchors)
	}
	b.WriteString("| Module | Version | License | Linked on |\n| --- | --- | --- | --- |\n")
	for i, e := range entries {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", e.Name, anchorOf[i], orDash(e.Version), strings.Join(e.Kinds, ", "), platformList(e.Platforms))
	}
	for _, e := range entries {
		fmt.Fprintf(&b, "\n## %s\n\n", e.Name)
		version := e.Version
		if version == "" {
			version = "that of the Go toolchain that builds the binary"
		}
		fmt.Fprintf(&b, "- Version: %s\n", version)
		fmt.Fprintf(&b, "- License: %s\n", strings.Join(e.Kinds, ", "))
		fmt.Fprintf(&b, "- Linked on: %s\n", platformList(e.Platforms))
		if len(e.ByReference) > 0 {
			fmt.Fprintf(&b, "\nIts license files grant %s by the license's standard notice, without the license's\n"+
				"text; that text is in oauthdiag's own LICENSE file.\n", strings.Join(e.ByReference, ", "))
		}
		for _, f := range append(e.Licenses, e.Notices...) {
			fence := fenceFor(f.Text)
			fmt.Fprintf(&b, "\n### %s\n\n%stext\n%s\n%s\n", f.Name, fence, f.Text, fence)
		}
	}
	return b.Bytes()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func platformList(ps []platform) string {
	if ps == nil {
		return "all"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.String()
	}
	return strings.Join(names, ", ")
}

// fenceFor is a code fence longer than any run of backticks in text, so that the text cannot
// close it.
func fenceFor(text string) string {
	longest, run := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// anchor is the link target GitHub gives the heading name: lower case, without punctuation
// other than '-' and '_', spaces as '-', and a "-1", "-2"… suffix for a repeated heading.
func anchor(name string, seen map[string]int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	a := b.String()
	n := seen[a]
	seen[a] = n + 1
	if n > 0 {
		a = fmt.Sprintf("%s-%d", a, n)
	}
	return a
}
