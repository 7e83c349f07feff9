package httpapi

import (
	"netsmith/internal/netcfg"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRejectedByIntent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []netcfg.RejectedTemplate
		want map[string]string
	}{
		{"none", nil, nil},
		{"one per role and platform", []netcfg.RejectedTemplate{
			{Key: "k1", Role: "leaf", Platform: "arista_eos", Reason: `hard-codes "10.0.0.1" (value of uplinks.0.ip)`},
			{Key: "k2", Role: "spine", Platform: "arista_eos", Reason: "line 3: bad"},
		}, map[string]string{"leaf/arista_eos": `hard-codes "10.0.0.1" (value of uplinks.0.ip)`, "spine/arista_eos": "line 3: bad"}},
		{"two intents share one", []netcfg.RejectedTemplate{
			{Key: "0123456789abcdef", Role: "leaf", Platform: "arista_eos", Reason: "a"},
			{Key: "fedcba9876543210", Role: "leaf", Platform: "arista_eos", Reason: "b"},
		}, map[string]string{"leaf/arista_eos#0123456789ab": "a", "leaf/arista_eos#fedcba987654": "b"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, rejectedByIntent(tt.in)); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tt.name, diff)
		}
	}
}
