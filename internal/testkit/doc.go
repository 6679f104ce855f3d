// Package testkit holds the helpers the tests of several packages share: a settable clock,
// reproducible randomness, the embedded sandbox on loopback, and child processes that run a
// helper of the test binary.
//
// It imports only the standard library and package sandbox (which imports nothing of this
// module), so that the in-package tests of every other package can import it without a cycle.
package testkit
