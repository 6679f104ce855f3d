package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Where oauthdiag keeps its files. OAUTHDIAG_HOME, when set, holds both (config/ and state/);
// otherwise each platform's convention applies, read through env so that tests can set it:
//
//	linux and others  $XDG_CONFIG_HOME/oauthdiag, else ~/.config/oauthdiag
//	                  $XDG_STATE_HOME/oauthdiag, else ~/.local/state/oauthdiag
//	macOS             the same (as gh and most command-line tools do)
//	windows           %AppData%\oauthdiag and %LocalAppData%\oauthdiag\state

func (env *cliEnv) platform() string {
	if env.goos != "" {
		return env.goos
	}
	return runtime.GOOS
}

// home is the user's home directory, or "" when the environment does not say.
func (env *cliEnv) home() string {
	if h := env.getenv("HOME"); h != "" {
		return h
	}
	if env.platform() == "windows" {
		return env.getenv("USERPROFILE")
	}
	return ""
}

// dirKind is one of oauthdiag's directories under each platform's convention.
type dirKind struct {
	what    string // for messages
	xdgVar  string // XDG_CONFIG_HOME
	homeRel string // .config: under the home directory when xdgVar is unset
	winVar  string // APPDATA
	winRel  string // AppData\Roaming: under %USERPROFILE% when winVar is unset
	winSub  string // a subdirectory of oauthdiag's own on Windows, where config and state share a parent
}

func configKind() dirKind {
	return dirKind{what: "the config file", xdgVar: "XDG_CONFIG_HOME", homeRel: ".config",
		winVar: "APPDATA", winRel: filepath.Join("AppData", "Roaming")}
}

func stateKind() dirKind {
	return dirKind{what: "the state directory", xdgVar: "XDG_STATE_HOME", homeRel: filepath.Join(".local", "state"),
		winVar: "LOCALAPPDATA", winRel: filepath.Join("AppData", "Local"), winSub: "state"}
}

// configPath is the config file.
func configPath(env *cliEnv) (string, error) {
	if home := env.getenv("OAUTHDIAG_HOME"); home != "" {
		return filepath.Join(home, "config", "config.toml"), nil
	}
	dir, err := baseDir(env, configKind())
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "config.toml"), nil
}

// stateDir is where the sessions and the token file live, created with mode 0700.
func stateDir(env *cliEnv) (string, error) {
	dir := ""
	if home := env.getenv("OAUTHDIAG_HOME"); home != "" {
		dir = filepath.Join(home, "state")
	} else {
		var err error
		if dir, err = baseDir(env, stateKind()); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the state directory: %w (set OAUTHDIAG_HOME to a writable directory)", err)
	}
	return dir, nil
}

// baseDir is oauthdiag's directory of kind k: under $XDG_… when it is absolute (the XDG spec
// says to ignore a relative one), else the platform's default.
func baseDir(env *cliEnv, k dirKind) (string, error) {
	if xdg := env.getenv(k.xdgVar); filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "oauthdiag"), nil
	}
	if env.platform() == "windows" {
		if d := env.getenv(k.winVar); d != "" {
			return filepath.Join(d, "oauthdiag", k.winSub), nil
		}
		if h := env.home(); h != "" {
			return filepath.Join(h, k.winRel, "oauthdiag", k.winSub), nil
		}
		return "", fmt.Errorf("cannot tell where %s goes: neither %%%s%% nor %%USERPROFILE%% is set; set OAUTHDIAG_HOME to a directory oauthdiag may use", k.what, k.winVar)
	}
	if h := env.home(); h != "" {
		return filepath.Join(h, k.homeRel, "oauthdiag"), nil
	}
	return "", fmt.Errorf("cannot tell where %s goes: $HOME is not set; set OAUTHDIAG_HOME (or HOME, or %s) to a directory oauthdiag may use", k.what, k.xdgVar)
}
