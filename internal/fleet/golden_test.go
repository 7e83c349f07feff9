package fleet

import (
	"errors"
	"flag"
	"netsmith/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the testdata/*/*.golden files")

// TestBadFiles parses every file in testdata/bad (each must fail) and
// testdata/warn (each must parse with warnings) and compares the full
// message text with the file's golden, name + ".golden".
func TestBadFiles(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"bad", "warn"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, ".golden") {
				continue
			}
			name := filepath.Base(path)
			t.Run(dir+"/"+name, func(t *testing.T) {
				t.Parallel()
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				fl, err := Parse(name, data)
				var got string
				switch dir {
				case "bad":
					var es Errors
					if !errors.As(err, &es) {
						t.Fatalf("Parse(%s) error = %v, want Errors", name, err)
					}
					if fl != nil {
						t.Errorf("Parse(%s) returned a fleet with its errors", name)
					}
					got = es.Error() + "\n"
				case "warn":
					if err != nil {
						t.Fatalf("Parse(%s) = %v, want no error", name, err)
					}
					if len(fl.Warnings) == 0 {
						t.Fatalf("Parse(%s) gave no warnings", name)
					}
					got = fl.Warnings.Error() + "\n"
				}
				golden.Check(t, path+".golden", got, *update)
			})
		}
	}
}
