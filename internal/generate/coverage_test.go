package generate_test

import (
	"encoding/json"
	"strings"
	"testing"

	"netsmith/internal/generate"
	"netsmith/internal/prompt"
)

// TestCoverageFeedback: a template that leaves a variable out is sent back
// once with the variable's name; the fixed one is used and every value is
// in the config.
func TestCoverageFeedback(t *testing.T) {
	t.Parallel()
	fixed := goodTemplate + "ip default-gateway {{.mgmt_gateway}}\n"
	m := &scriptedLLM{templates: []string{goodTemplate, fixed}}
	svc := newService(t, m)
	for _, h := range []string{"sw1", "sw2"} {
		j := job(h)
		j.Device.Vars["mgmt_gateway"] = "10.1.1.1"
		res, err := svc.Run(t.Context(), j, generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Config, "ip default-gateway 10.1.1.1\n") || len(res.UnusedVars) != 0 ||
			res.VarCoverage == nil || *res.VarCoverage != (generate.VarCoverage{Checked: 3, Used: 3}) {
			t.Errorf("%s: unused %v, coverage %+v, config:\n%s", h, res.UnusedVars, res.VarCoverage, res.Config)
		}
	}
	calls := m.calls(prompt.TaskTemplate)
	if len(calls) != 2 {
		t.Fatalf("%d template calls, want 2 (the second with feedback)", len(calls))
	}
	if len(calls[0].Feedback) != 0 {
		t.Errorf("first call has feedback %q", calls[0].Feedback)
	}
	if fb := strings.Join(calls[1].Feedback, "\n"); !strings.Contains(fb, "mgmt_gateway (10.1.1.1) is not in the config") {
		t.Errorf("second call's feedback %q does not name mgmt_gateway", fb)
	}
}

// TestCoverageStillMissing: when the model still leaves variables out after
// being told, the template is used and every result lists them, with a
// "did you mean" for a misspelled name.
func TestCoverageStillMissing(t *testing.T) {
	t.Parallel()
	m := &scriptedLLM{templates: []string{goodTemplate}}
	svc := newService(t, m)
	for _, h := range []string{"sw1", "sw2"} {
		j := job(h)
		j.Device.Vars["mgmt_gatway"] = "10.1.1.1"
		res, err := svc.Run(t.Context(), j, generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.FallbackReason != "" || !strings.Contains(res.Config, "hostname "+h+"\n") {
			t.Fatalf("%s: fell back (%q) or wrong config:\n%s", h, res.FallbackReason, res.Config)
		}
		if len(res.UnusedVars) != 1 || *res.VarCoverage != (generate.VarCoverage{Checked: 3, Used: 2}) {
			t.Fatalf("%s: unused %+v, coverage %+v, want mgmt_gatway of 3", h, res.UnusedVars, res.VarCoverage)
		}
		u := res.UnusedVars[0]
		if u.Path != "mgmt_gatway" || u.Value != "10.1.1.1" || u.Suggest != "mgmt_gateway" {
			t.Errorf("%s: unused %+v, want mgmt_gatway 10.1.1.1, did you mean mgmt_gateway", h, u)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"unused_vars":[{"path":"mgmt_gatway","name":"mgmt_gatway","value":"10.1.1.1","suggest":"mgmt_gateway"}]`) {
			t.Errorf("%s: result JSON %s", h, b)
		}
	}
	calls := m.calls(prompt.TaskTemplate)
	if len(calls) != 2 {
		t.Fatalf("%d template calls, want 2", len(calls))
	}
	if fb := strings.Join(calls[1].Feedback, "\n"); !strings.Contains(fb, "mgmt_gatway") || !strings.Contains(fb, "did you mean mgmt_gateway?") {
		t.Errorf("second call's feedback %q lacks the name and the suggestion", fb)
	}
}
