package netcfg

import (
	"strings"
	"testing"
)

func TestValidateDepartment(t *testing.T) {
	for _, d := range []string{"eng", "NetOps", "team-7", "a", "data.center_1", strings.Repeat("x", MaxDepartment)} {
		if err := ValidateDepartment(d); err != nil {
			t.Errorf("ValidateDepartment(%q) = %v", d, err)
		}
	}
	for _, d := range []string{"", "-eng", ".x", "a b", "=HYPERLINK(\"x\")", "+1", "@x", "a/b", "a\x00b", "é", "eng\n",
		strings.Repeat("x", MaxDepartment+1), strings.Repeat("x", 500<<10)} {
		if err := ValidateDepartment(d); err == nil {
			t.Errorf("ValidateDepartment(%.20q) accepted", d)
		}
	}
}
