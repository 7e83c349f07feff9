package fleet

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// bigFleet writes a fleet of about size bytes in format: 20 groups (10 in
// the CSV's group rows), each device with a management address, an ASN, a
// loopback and two uplinks, the shape of the examples.
func bigFleet(format Format, size int) []byte {
	var b bytes.Buffer
	switch format {
	case FormatCSV:
		b.WriteString("hostname,group,role,platform,os_version,site,requirements,var.mgmt_ip,var.asn,var.loopback0,var.uplinks.0.port,var.uplinks.0.peer,var.uplinks.1.port,var.uplinks.1.peer,var.description\n")
		for g := range 20 {
			fmt.Fprintf(&b, ",g%d,access,cisco_xe,17.9,,\"Access switch %d, SSH only, LACP uplinks\",,,,,,,,\n", g, g)
		}
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "sw%06d,g%d,,,,site%d,,10.%d.%d.%d/24,%d,10.255.%d.%d/32,Te1/1/1,dist%d-a,Te1/1/2,dist%d-b,access switch sw%06d in closet %d on rack row A - patched to the distribution pair over two 10G uplinks - spare SFPs in drawer 4 - access ports 1 to 48 in the data VLAN\n",
				i, i%20, i/500, i/65536%256, i/256%256, i%256, 65000+i%1000, i/256%256, i%256, i/500, i/500, i, i%40)
		}
	case FormatJSON:
		b.WriteString(`{"version":1,"groups":{`)
		for g := range 20 {
			if g > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"g%d":{"role":"access","platform":"cisco_xe","os_version":"17.9","requirements":"Access switch %d, SSH only, LACP uplinks"}`, g, g)
		}
		b.WriteString(`},"devices":[`)
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, `{"hostname":"sw%06d","group":"g%d","site":"site%d","vars":{"mgmt_ip":"10.%d.%d.%d/24","asn":%d,"loopback0":"10.255.%d.%d/32","uplinks":[{"port":"Te1/1/1","peer":"dist%d-a"},{"port":"Te1/1/2","peer":"dist%d-b"}],"description":"access switch sw%06d in closet %d on rack row A; patched to the distribution pair over two 10G uplinks"}}`,
				i, i%20, i/500, i/65536%256, i/256%256, i%256, 65000+i%1000, i/256%256, i%256, i/500, i/500, i, i%40)
		}
		b.WriteString("]}\n")
	}
	return b.Bytes()
}

// peakHeap runs f and returns the most heap its objects took at once above
// what was live before, sampled every millisecond.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var (
		peak uint64
		wg   sync.WaitGroup
		stop = make(chan struct{})
	)
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}

// BenchmarkParse40MB parses a 40 MB fleet, CSV and JSON, with Parse (every
// device kept) and with Stream (each device dropped once handed out), and
// reports the peak heap above the file itself (peak-MB, peak-B/device).
func BenchmarkParse40MB(b *testing.B) {
	for _, format := range []Format{FormatCSV, FormatJSON} {
		data := bigFleet(format, 40<<20)
		for _, mode := range []string{"parse", "stream"} {
			b.Run(string(format)+"/"+mode, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				var peak uint64
				devices := 0
				for b.Loop() {
					peak = max(peak, peakHeap(func() {
						if mode == "parse" {
							fl, err := Parse("fleet."+string(format), data)
							if err != nil {
								b.Fatal(err)
							}
							devices = len(fl.Devices)
							return
						}
						sum, err := Parser{}.Stream("fleet."+string(format), data, func(*Resolved) error { return nil })
						if err != nil {
							b.Fatal(err)
						}
						devices = sum.Devices
					}))
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
				b.ReportMetric(float64(peak)/float64(devices), "peak-B/device")
				b.ReportMetric(float64(devices), "devices")
			})
		}
	}
}
