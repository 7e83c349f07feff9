//go:build race

package fakeanthropic_test

// raceEnabled reports whether the race detector is on; it makes every
// goroutine and connection several times dearer.
const raceEnabled = true
