// Package profile keeps a user's providers and tokens between commands: the profiles of the
// config file, the token store (the OS keychain, or 0600 files when no keychain answers or a
// token is too large for it), the lock that keeps two commands from refreshing one token twice,
// and the token lifecycle that reuses a stored token, refreshes it when it is about to expire and
// asks the user to authorize again only when neither token can be used. The lifecycle runs the
// flow engine's own steps.
package profile
