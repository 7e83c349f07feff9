package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// readOutFile reads a config from an output directory without following a
// link: --out may be shared, and a symlink planted there named like a
// config must not make verify or emulate read (and print, or boot) the
// link's target. A symlink or anything but a regular file is refused; the
// file opened is checked to be the one looked at, so a link swapped in
// between is refused too.
func readOutFile(p string) ([]byte, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if err := regularFile(p, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(fi, opened) {
		return nil, fmt.Errorf("%s changed while being opened; not read", p)
	}
	return io.ReadAll(f)
}

// regularFile says why p, described by fi from Lstat, is not a regular file.
func regularFile(p string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; not followed", p)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s)", p, fi.Mode().Type())
	}
	return nil
}
