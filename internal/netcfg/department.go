package netcfg

import (
	"fmt"
	"regexp"
)

// MaxDepartment is the longest department name.
const MaxDepartment = 64

// departmentRE is what a department name may be: it becomes a metric label,
// a CSV cell and a URL path segment, so it is a short identifier.
var departmentRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateDepartment checks a department name: 1 to MaxDepartment letters,
// digits, dots, underscores and hyphens, starting with a letter or digit.
func ValidateDepartment(d string) error {
	if !departmentRE.MatchString(d) {
		if len(d) > MaxDepartment {
			return fmt.Errorf("is longer than %d characters", MaxDepartment)
		}
		return fmt.Errorf("%q is not a department name: 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", d, MaxDepartment)
	}
	return nil
}
