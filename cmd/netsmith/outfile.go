package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// writeOutFile writes data to dir/name as a file of its own, never through
// a link: --out may be shared, and a symlink planted there named like a
// config must not turn a batch into a write to the link's target. The data
// goes to a new temporary file in dir (created exclusively, so never through
// a link either) and is renamed over name, so that a reader sees the old
// file or the new one, never half of one. A symlink or anything but a
// regular file already at name is refused and left as it is.
func writeOutFile(dir, name string, data []byte) (err error) {
	p := filepath.Join(dir, name)
	if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; not followed or replaced (remove it to write the file)", p)
		}
		return fmt.Errorf("%s is not a regular file (%s); left as it is", p, fi.Mode().Type())
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".netsmith-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// rename replaces the directory entry; it never follows a link that
	// appeared at p since the check above.
	return os.Rename(tmp.Name(), p)
}
