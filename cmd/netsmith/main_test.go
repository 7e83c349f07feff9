package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine they started is
// still running after the last one: every server, stream, webhook and
// poller a command starts must end with it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
