package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// platform is a release target of the binary.
type platform struct{ GOOS, GOARCH string }

func (p platform) String() string { return p.GOOS + "/" + p.GOARCH }

// platforms are the targets the binary is released for, and so the union whose modules the
// notices cover: a module linked on one of them only (a Windows credential store, say) is in.
var platforms = []platform{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// module is a module the binary links, with the platforms that link it.
type module struct {
	Path      string
	Version   string
	Dir       string // its directory in the module cache
	Platforms []platform
}

// goCmd runs the go command in dir with extra environment and returns its standard output; an
// error carries what go printed on standard error.
func goCmd(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// moduleRoot is the directory of the go.mod that holds the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := goCmd(ctx, "", nil, "env", "GOMOD")
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run this from the repository root")
	}
	return filepath.Dir(gomod), nil
}

// goroot is the root of the Go installation whose standard library the binary links.
func goroot(ctx context.Context, root string) (string, error) {
	out, err := goCmd(ctx, root, nil, "env", "GOROOT")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// linkedModules lists, sorted by path, the modules other than the main one that the main
// package in root links on any release platform.
func linkedModules(ctx context.Context, root string) ([]module, error) {
	lists := make([][]module, len(platforms))
	errs := make([]error, len(platforms))
	var wg sync.WaitGroup
	for i, p := range platforms {
		wg.Go(func() { lists[i], errs[i] = listModules(ctx, root, p) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	byPath := map[string]*module{}
	for i, list := range lists {
		for _, m := range list {
			seen, ok := byPath[m.Path]
			if !ok {
				m.Platforms = nil
				byPath[m.Path] = &m
				seen = &m
			} else if seen.Version != m.Version {
				// Minimal version selection does not depend on the platform; this would be a bug.
				return nil, fmt.Errorf("%s is %s on %s but %s on %s", m.Path, seen.Version, seen.Platforms[0], m.Version, platforms[i])
			}
			seen.Platforms = append(seen.Platforms, platforms[i])
		}
	}
	mods := make([]module, 0, len(byPath))
	for _, m := range byPath {
		mods = append(mods, *m)
	}
	slices.SortFunc(mods, func(a, b module) int { return cmp.Compare(a.Path, b.Path) })
	return mods, nil
}

// listModules lists the modules other than the main one whose packages the main package in root
// links on p, each once.
func listModules(ctx context.Context, root string, p platform) ([]module, error) {
	// GOPROXY=off: the modules are read from the module cache, never fetched.
	out, err := goCmd(ctx, root, []string{"GOOS=" + p.GOOS, "GOARCH=" + p.GOARCH, "CGO_ENABLED=0", "GOPROXY=off"},
		"list", "-deps", "-json=ImportPath,Module", ".")
	if err != nil {
		return nil, fmt.Errorf("listing the packages linked on %s (with the modules downloaded: go mod download): %w", p, err)
	}
	type modulePublic struct {
		Path    string
		Version string
		Dir     string
		Main    bool
		Replace *modulePublic
	}
	var mods []module
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var pkg struct {
			ImportPath string
			Module     *modulePublic
		}
		if err := dec.Decode(&pkg); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding go list output for %s: %w", p, err)
		}
		m := pkg.Module
		if m == nil || m.Main || seen[m.Path] { // the standard library has no module
			continue
		}
		seen[m.Path] = true
		version, dir := m.Version, m.Dir
		if r := m.Replace; r != nil {
			version = "=> " + strings.TrimSpace(r.Path+" "+r.Version)
			if r.Dir != "" {
				dir = r.Dir
			}
		}
		if dir == "" {
			return nil, fmt.Errorf("module %s %s (for package %s) is not in the module cache: run go mod download", m.Path, version, pkg.ImportPath)
		}
		mods = append(mods, module{Path: m.Path, Version: version, Dir: dir, Platforms: []platform{p}})
	}
	return mods, nil
}
