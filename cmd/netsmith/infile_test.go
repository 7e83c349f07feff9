package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyEmulateRefuseLinks: a symlink planted in an output directory,
// named like a device's config, is neither read by verify nor by emulate:
// both exit 2 naming it, and the link's target never reaches the output.
func TestVerifyEmulateRefuseLinks(t *testing.T) {
	t.Parallel()
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("hostname leaked-secret-target\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	verifyDir := t.TempDir()
	src := filepath.Join("..", "..", "internal", "verify", "testdata", "eos-clean")
	for _, name := range []string{"leaf1a.cfg", "spine1.cfg"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(verifyDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(secret, filepath.Join(verifyDir, "leaf1b.cfg")); err != nil {
		t.Fatal(err)
	}
	emuDir, fleetPath := emulateFabric(t)
	if err := os.Remove(filepath.Join(emuDir, "leaf2.cfg")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(emuDir, "leaf2.cfg")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, link string
		args       []string
	}{
		{"verify", "leaf1b.cfg", []string{"verify", verifyDir}},
		{"emulate", "leaf2.cfg", []string{"emulate", emuDir, "--fleet", fleetPath}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, noEnv, strings.NewReader(""), &stdout, &stderr)
			all := stdout.String() + stderr.String()
			if code != exitUsage || !strings.Contains(stderr.String(), tc.link+" is a symbolic link; not followed") {
				t.Errorf("exit %d, want %d naming the link %s:\n%s", code, exitUsage, tc.link, all)
			}
			if strings.Contains(all, "leaked-secret-target") {
				t.Errorf("the link's target reached the output:\n%s", all)
			}
		})
	}
}

// TestReadOutFileRefusesNonRegular: a directory named like a config is
// refused as not a regular file; a regular file is read.
func TestReadOutFileRefusesNonRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d.cfg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := readOutFile(filepath.Join(dir, "d.cfg")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v, want not a regular file", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.cfg"), []byte("hostname ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := readOutFile(filepath.Join(dir, "ok.cfg")); err != nil || string(b) != "hostname ok\n" {
		t.Errorf("regular file: %q, %v", b, err)
	}
}
