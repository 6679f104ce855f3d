package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// The package graph is part of the design: the UI depends on the engine, never the reverse;
// oauthflow and recorder are siblings; the sandbox is an independent implementation so it can
// catch client bugs; only ui and main may use Charm libraries. internal/atomicfile, shared by
// the siblings, is a leaf: it must not become a path from one of them to the other.
func TestPackageDependenciesPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string][]string{
		"github.com/oauthdiag/oauthdiag/oauthflow":           {"github.com/oauthdiag/oauthdiag/ui", "github.com/oauthdiag/oauthdiag/recorder", "github.com/oauthdiag/oauthdiag/inspector", "github.com/oauthdiag/oauthdiag/sandbox", "charm.land/", "github.com/charmbracelet/"},
		"github.com/oauthdiag/oauthdiag/recorder":            {"github.com/oauthdiag/oauthdiag/ui", "github.com/oauthdiag/oauthdiag/oauthflow", "github.com/oauthdiag/oauthdiag/inspector", "github.com/oauthdiag/oauthdiag/sandbox", "charm.land/", "github.com/charmbracelet/"},
		"github.com/oauthdiag/oauthdiag/inspector":           {"github.com/oauthdiag/oauthdiag/ui", "github.com/oauthdiag/oauthdiag/sandbox", "charm.land/", "github.com/charmbracelet/"},
		"github.com/oauthdiag/oauthdiag/sandbox":             {"github.com/oauthdiag/oauthdiag/", "golang.org/x/oauth2", "charm.land/", "github.com/charmbracelet/"},
		"github.com/oauthdiag/oauthdiag/internal/atomicfile": {"github.com/oauthdiag/oauthdiag/"},
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		rules, ok := forbidden[p.ImportPath]
		if !ok {
			continue
		}
		checked++
		for _, imp := range p.Imports {
			for _, bad := range rules {
				if strings.HasPrefix(imp, bad) {
					t.Errorf("%s imports %s, which the layout forbids", p.ImportPath, imp)
				}
			}
		}
	}
	if checked != len(forbidden) {
		t.Errorf("checked %d of the %d constrained packages: a package is missing or renamed", checked, len(forbidden))
	}
}
