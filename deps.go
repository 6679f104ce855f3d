package main

// Pins the chosen stack in go.mod until each module is imported by real code.
import (
	_ "charm.land/bubbles/v2/help"
	_ "charm.land/bubbletea/v2"
	_ "charm.land/lipgloss/v2"
	_ "github.com/BurntSushi/toml"
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/zalando/go-keyring"
	_ "golang.org/x/oauth2"
)
