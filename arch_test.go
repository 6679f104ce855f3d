package main

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/oauthdiag/oauthdiag"

// layout is the package graph, as the only packages of this module each package may import.
// One noun per package, dependencies pointing one way:
//
//	main ──► internal/cli ──► ui ──► bundle ──► inspector ──► oauthflow ──► browser
//	              │                    └──────► recorder ──────────┴──────► httplog
//	              └──► probe, profile, sandbox (wiring)
//
// httplog (the exchange record) and browser are leaves; the recorder and the flow engine are
// siblings that share only httplog; the sandbox is an independent implementation, so that it can
// catch client bugs; nothing imports ui but the command line, and main is only its entry.
var layout = map[string][]string{
	"":                    {"internal/cli"},
	"httplog":             {},
	"browser":             {},
	"sandbox":             {},
	"internal/atomicfile": {},
	"internal/termsafe":   {},
	"oauthflow":           {"httplog", "browser"},
	"recorder":            {"httplog", "internal/atomicfile"},
	"inspector":           {"oauthflow", "httplog", "browser", "recorder"},
	"profile":             {"oauthflow", "httplog", "internal/atomicfile"},
	"probe":               {"oauthflow", "httplog", "browser"},
	"bundle":              {"recorder", "inspector", "oauthflow", "httplog", "internal/atomicfile"},
	"ui":                  {"oauthflow", "httplog", "browser", "recorder", "inspector", "bundle", "internal/termsafe"},
	"internal/testkit":    {"sandbox"},
}

// charmAllowed are the only packages that may use the terminal UI libraries.
var charmAllowed = []string{"ui"}

func TestPackageDependenciesPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := map[string]bool{}
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		allowed, constrained := layout[name]
		seen[name] = true
		for _, imp := range p.Imports {
			if (strings.HasPrefix(imp, "charm.land/") || strings.HasPrefix(imp, "github.com/charmbracelet/")) &&
				!slices.Contains(charmAllowed, name) && !strings.HasPrefix(imp, "github.com/charmbracelet/x/term") {
				t.Errorf("%s imports %s: only ui may use the terminal UI libraries", p.ImportPath, imp)
			}
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if dep == "ui" && name != "internal/cli" {
				t.Errorf("%s imports ui: nothing but the command line (internal/cli) may", p.ImportPath)
			}
			if constrained && !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s, which the layout does not allow (it allows %v)", p.ImportPath, dep, allowed)
			}
		}
	}
	for name := range layout {
		if !seen[name] {
			t.Errorf("the layout names %s, which is not a package any more: update the layout", name)
		}
	}
}
