//go:build !race

package diff

const raceDetector = false
