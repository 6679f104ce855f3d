package main

import "errors"

// applyProfile fills res from the named profile of the config file.
func applyProfile(env *cliEnv, name string, res *resolved) error {
	return errors.New("profiles are not available yet")
}
