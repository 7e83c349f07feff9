package fleet_test

import (
	"errors"
	"fmt"

	"netsmith/internal/fleet"
)

func ExampleParse() {
	const data = `
version: 1
defaults:
  vars: {ntp_servers: [10.0.0.1], enable_secret: vault:net/enable}
groups:
  campus-access:
    role: access
    platform: cisco_xe
    os_version: "17.9"
    requirements: Layer-2 access switch, dual LACP uplinks.
devices:
  - {hostname: bld1-acc01, group: campus-access, vars: {mgmt_ip: 10.99.1.11/24}}
  - {hostname: bld1-acc02, group: campus-access, vars: {mgmt_ip: 10.99.1.12/24}}
`
	fl, err := fleet.Parse("campus.yaml", []byte(data))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range fl.Devices {
		fmt.Println(d.Device.Hostname, d.Device.Platform, d.Device.Vars["mgmt_ip"], "intent", d.IntentIndex)
	}
	fmt.Println(len(fl.Intents), "intent:", fl.Intents[0].Role, fl.Intents[0].Devices)
	// Output:
	// bld1-acc01 cisco_xe 10.99.1.11/24 intent 0
	// bld1-acc02 cisco_xe 10.99.1.12/24 intent 0
	// 1 intent: access [0 1]
}

func ExampleErrors() {
	const data = "hostname,role,platform,requirements,var.mgmt_ip,var.vlans\n" +
		"sw1,access,cisco_xe,Access switch.,10.0.0.1/24,10;20\n" +
		"sw1,access,cisco_asa,Access switch.,10.0.0.2,10;5000\n"
	_, err := fleet.Parse("fleet.csv", []byte(data))
	var es fleet.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			fmt.Println(e)
		}
	}
	// Output:
	// fleet.csv: row 3: sw1: hostname: duplicate hostname (first at row 2)
	// fleet.csv: row 3: sw1: platform: unknown platform "cisco_asa" (known: cisco_ios, cisco_xe, cisco_nxos, arista_eos, juniper_junos, frr)
	// fleet.csv: row 3: sw1: var.mgmt_ip: "10.0.0.2" has no prefix length: want address/length such as 10.0.0.2/24
	// fleet.csv: row 3: sw1: var.vlans[1]: VLAN id 5000 is outside 1-4094
}

func ExampleRedactSecrets() {
	vars := map[string]any{
		"enable_secret":  "vault:net/enable",
		"snmp_community": "public",
		"mgmt_ip":        "10.0.0.1/24",
	}
	fmt.Println(fleet.RedactSecrets(vars))
	// Output:
	// map[enable_secret:vault:net/enable mgmt_ip:10.0.0.1/24 snmp_community:<redacted>]
}
