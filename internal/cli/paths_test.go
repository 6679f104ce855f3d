package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWhereFilesLive: each platform's convention, OAUTHDIAG_HOME over all of them, and a clear
// error naming what to set when the environment says nothing.
func TestWhereFilesLive(t *testing.T) {
	root := t.TempDir()
	cases := []struct {
		name              string
		goos              string
		vars              map[string]string
		wantConfig, state string // relative to root; "" when an error is expected
		wantErr           string
	}{
		{name: "linux defaults", goos: "linux", vars: map[string]string{"HOME": root},
			wantConfig: ".config/oauthdiag/config.toml", state: ".local/state/oauthdiag"},
		{name: "XDG directories", goos: "linux", vars: map[string]string{"HOME": "/nowhere", "XDG_CONFIG_HOME": filepath.Join(root, "cfg"), "XDG_STATE_HOME": filepath.Join(root, "st")},
			wantConfig: "cfg/oauthdiag/config.toml", state: "st/oauthdiag"},
		{name: "a relative XDG directory is ignored", goos: "linux", vars: map[string]string{"HOME": root, "XDG_CONFIG_HOME": "rel"},
			wantConfig: ".config/oauthdiag/config.toml", state: ".local/state/oauthdiag"},
		{name: "OAUTHDIAG_HOME wins", goos: "linux", vars: map[string]string{"HOME": "/nowhere", "OAUTHDIAG_HOME": filepath.Join(root, "od")},
			wantConfig: "od/config/config.toml", state: "od/state"},
		{name: "windows without HOME", goos: "windows", vars: map[string]string{"APPDATA": filepath.Join(root, "Roaming"), "LOCALAPPDATA": filepath.Join(root, "Local")},
			wantConfig: "Roaming/oauthdiag/config.toml", state: "Local/oauthdiag/state"},
		{name: "windows with only USERPROFILE", goos: "windows", vars: map[string]string{"USERPROFILE": root},
			wantConfig: "AppData/Roaming/oauthdiag/config.toml", state: "AppData/Local/oauthdiag/state"},
		{name: "no home at all", goos: "linux", vars: map[string]string{}, wantErr: "set OAUTHDIAG_HOME"},
		{name: "windows with nothing set", goos: "windows", vars: map[string]string{}, wantErr: "%APPDATA%"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := &cliEnv{getenv: func(k string) string { return tc.vars[k] }, goos: tc.goos}
			config, cerr := configPath(env)
			state, serr := stateDir(env)
			if tc.wantErr != "" {
				if cerr == nil || !strings.Contains(cerr.Error(), tc.wantErr) || serr == nil {
					t.Fatalf("config %q (%v), state %q (%v): want errors naming %q", config, cerr, state, serr, tc.wantErr)
				}
				return
			}
			if cerr != nil || serr != nil {
				t.Fatalf("config: %v, state: %v", cerr, serr)
			}
			if want := filepath.Join(root, filepath.FromSlash(tc.wantConfig)); config != want {
				t.Errorf("config = %s, want %s", config, want)
			}
			if want := filepath.Join(root, filepath.FromSlash(tc.state)); state != want {
				t.Errorf("state = %s, want %s", state, want)
			}
		})
	}
}
