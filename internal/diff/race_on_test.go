//go:build race

package diff

// raceDetector: the race detector makes each diff about ten times slower,
// so the property tests run fewer random edits under it.
const raceDetector = true
