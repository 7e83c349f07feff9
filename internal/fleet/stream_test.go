package fleet

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestStreamMatchesParse: the streamed JSON path hands out the devices the
// whole-tree YAML path gives for the same fleet (each example written as
// JSON), and Stream hands out what Parse returns for every example.
func TestStreamMatchesParse(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"campus.yaml", "dc-fabric.yaml", "frr-fabric.yaml"} {
		data, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var tree any
		if err := yaml.Unmarshal(data, &tree); err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(tree)
		if err != nil {
			t.Fatal(err)
		}
		var got []Resolved
		sum, err := Parser{}.Stream("fleet.json", js, func(r *Resolved) error {
			got = append(got, *r)
			return nil
		})
		if err != nil {
			t.Fatalf("%s as JSON: %v", name, err)
		}
		if len(got) != len(want.Devices) || len(sum.Intents) != len(want.Intents) {
			t.Fatalf("%s: JSON streamed %d devices (%d intents), YAML parsed %d (%d)", name, len(got), len(sum.Intents), len(want.Devices), len(want.Intents))
		}
		for i := range got {
			g, w := got[i], want.Devices[i]
			g.Intent.CacheTTL = sum.Intents[g.IntentIndex].CacheTTL
			g.File, g.Line, w.File, w.Line = "", 0, "", 0
			// YAML and JSON numbers decode alike; compare through JSON.
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			if string(gb) != string(wb) {
				t.Errorf("%s: device %d:\nJSON %s\nYAML %s", name, i, gb, wb)
			}
		}
	}
	for _, name := range []string{"campus.csv", "netbox-branch.json"} {
		data, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		fl, err := Parse(name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := 0
		if _, err := (Parser{}).Stream(name, data, func(r *Resolved) error {
			if r.Device.Hostname != fl.Devices[n].Device.Hostname {
				t.Errorf("%s: device %d is %s, Parse has %s", name, n, r.Device.Hostname, fl.Devices[n].Device.Hostname)
			}
			n++
			return nil
		}); err != nil || n != len(fl.Devices) {
			t.Errorf("%s: Stream handed out %d devices (%v), Parse %d", name, n, err, len(fl.Devices))
		}
	}
}

// TestStreamStopsHandingOutOnError: a device error in row 4 means rows
// after it are checked (their errors reported) but not handed out, and an
// error from fn stops the parse.
func TestStreamStopsHandingOutOnError(t *testing.T) {
	t.Parallel()
	csv := "hostname,role,platform,requirements,var.vlan\n" +
		"a1,access,cisco_ios,x,10\n" +
		"a2,access,cisco_ios,x,20\n" +
		"a3,access,nope,x,30\n" +
		"a4,access,cisco_ios,x,40\n" +
		"a5,access,cisco_ios,,50\n"
	var handed []string
	_, err := Parser{}.Stream("f.csv", []byte(csv), func(r *Resolved) error {
		handed = append(handed, r.Device.Hostname)
		return nil
	})
	var fe Errors
	if !errors.As(err, &fe) || len(fe) != 2 || fe[0].Row != 4 || fe[1].Row != 6 {
		t.Fatalf("Stream = %v; want the errors of rows 4 and 6", err)
	}
	if strings.Join(handed, ",") != "a1,a2" {
		t.Errorf("handed out %v, want a1,a2 (none after the first error)", handed)
	}
	stop := errors.New("stop")
	n := 0
	json := `{"version":1,"defaults":{"role":"leaf","platform":"arista_eos","requirements":"x"},"devices":[{"hostname":"l1"},{"hostname":"l2"},{"hostname":"l3"}]}`
	if _, err := (Parser{}).Stream("f.json", []byte(json), func(*Resolved) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Stream = %v after %d devices; want fn's error after 1", err, n)
	}
}
