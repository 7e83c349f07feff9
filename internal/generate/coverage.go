package generate

import (
	"slices"
	"strings"

	"netsmith/internal/coverage"
	"netsmith/internal/netcfg"
)

// VarCoverage counts a device's variable values that were looked for in
// its config (Checked) and found there (Used).
type VarCoverage struct {
	Checked int `json:"checked"`
	Used    int `json:"used"`
}

// cover checks that res.Config uses every value of d's vars and records
// what it does not, with a "did you mean" against the names the config's
// template references.
func cover(res *Result, d *netcfg.Device) {
	rep := coverage.Check(d.Platform, deviceVars(d), res.Config)
	rep.Suggest(res.templateVars)
	res.VarCoverage = &VarCoverage{Checked: rep.Checked, Used: rep.Checked - len(rep.Missing)}
	res.UnusedVars = rep.Missing
}

// coverageProblem prefixes feedback about variables a template's render
// does not use.
const coverageProblem = "coverage: "

// maxCoverageFeedback bounds the missing variables named to the model.
const maxCoverageFeedback = 8

// coverageProblems is the feedback on a template whose render with the
// example values (out) leaves some of them out.
func coverageProblems(p netcfg.Platform, example map[string]any, out string, refs []string) []string {
	rep := coverage.Check(p, example, out)
	rep.Suggest(refs)
	var problems []string
	for i, m := range rep.Missing {
		if i == maxCoverageFeedback {
			problems = append(problems, coverageProblem+"and more: every variable's value must be in the config")
			break
		}
		problems = append(problems, coverageProblem+m.String()+": write it where the requirements use it")
	}
	return problems
}

// advisory reports whether every problem is one a template may keep after
// the model was told once: lint findings and unused variables make every
// config from it carry them, not the intent fail.
func advisory(problems []string) bool { return only(problems, lintProblem, coverageProblem) }

// only reports whether every problem starts with one of prefixes.
func only(problems []string, prefixes ...string) bool {
	for _, p := range problems {
		if !slices.ContainsFunc(prefixes, func(pre string) bool { return strings.HasPrefix(p, pre) }) {
			return false
		}
	}
	return true
}
