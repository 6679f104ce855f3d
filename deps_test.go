package main

import (
	_ "github.com/charmbracelet/x/exp/teatest/v2"
	_ "github.com/zitadel/oidc/v3/example/server/exampleop"
	_ "github.com/zitadel/oidc/v3/example/server/storage"
	_ "github.com/zitadel/oidc/v3/pkg/op"
)
