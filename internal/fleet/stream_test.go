package fleet

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestStreamMatchesParse: Stream hands out the devices Parse returns, in
// order, for the examples in every format and a JSON copy of the campus.
func TestStreamMatchesParse(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"campus.csv", "campus.yaml", "dc-fabric.yaml", "netbox-branch.json"} {
		data, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		fl, err := Parse(name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []Resolved
		sum, err := Parser{}.Stream(name, data, func(r *Resolved) error {
			got = append(got, *r)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: Stream: %v", name, err)
		}
		if sum.Devices != len(fl.Devices) || len(got) != len(fl.Devices) || len(sum.Intents) != len(fl.Intents) {
			t.Fatalf("%s: Stream gave %d devices (%d intents), Parse %d (%d)", name, len(got), len(sum.Intents), len(fl.Devices), len(fl.Intents))
		}
		for i := range got {
			got[i].Intent.CacheTTL = sum.Intents[got[i].IntentIndex].CacheTTL
			if !reflect.DeepEqual(got[i], fl.Devices[i]) {
				t.Errorf("%s: device %d: Stream %+v, Parse %+v", name, i, got[i], fl.Devices[i])
			}
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
