package store_test

import (
	"testing"

	"netsmith/internal/store"
)

// TestMigrationVersionsUnique: two migrations with one version number
// (written on two branches at once) would not both run, since Migrate
// records versions: the second would be skipped wherever the first ran.
func TestMigrationVersionsUnique(t *testing.T) {
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, m := range ms {
		if prev, ok := seen[m.Version]; ok {
			t.Errorf("migrations %s and %s share version %d: renumber one", prev, m.Name, m.Version)
		}
		seen[m.Version] = m.Name
	}
}
