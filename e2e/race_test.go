//go:build race

package e2e

// raceBuild makes TestMain build the daemon with the race detector when the
// tests themselves run under it, so that e2e runs also catch daemon races.
const raceBuild = true
