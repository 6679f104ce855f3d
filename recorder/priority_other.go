//go:build !linux

package recorder

// goLowPriority needs per-thread nice values, which only Linux has; elsewhere writers
// are ordinary goroutines.
func goLowPriority(f func()) { go f() }
