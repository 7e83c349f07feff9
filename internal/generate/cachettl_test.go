package generate_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/dbtest"
	"netsmith/internal/generate"
	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// TestCacheTTLNotInKey: requests that differ only in cache_ttl have one
// intent key; the TTL only sets the template's lifetime.
func TestCacheTTLNotInKey(t *testing.T) {
	t.Parallel()
	svc := generate.New(generate.Config{Model: "m"})
	plain := job("sw1")
	var withTTL netcfg.JobRequest
	body := `{"kind":"generate","device":{"hostname":"sw1","platform":"cisco_ios","role":"access","vars":{"mgmt_ip":"10.1.1.11/24"}},` +
		`"requirements":"access switch","cache_ttl":"2h"}`
	if err := json.Unmarshal([]byte(body), &withTTL); err != nil {
		t.Fatal(err)
	}
	if err := withTTL.Validate(); err != nil {
		t.Fatal(err)
	}
	k1, v1 := svc.IntentKey(plain)
	k2, v2 := svc.IntentKey(&withTTL)
	if k1 != k2 || strings.Join(v1, ",") != strings.Join(v2, ",") {
		t.Errorf("IntentKey differs with cache_ttl: %s %v, %s %v", k1, v1, k2, v2)
	}
	m1, m2 := svc.TemplateMeta(plain), svc.TemplateMeta(&withTTL)
	if m1.Key != m2.Key || m1.Intent != m2.Intent {
		t.Errorf("TemplateMeta differs in key or intent with cache_ttl:\n%+v\n%+v", m1, m2)
	}
	if m1.TTL != 0 || m2.TTL != 2*time.Hour {
		t.Errorf("TemplateMeta TTLs = %s, %s; want 0 (the cache's default) and 2h", m1.TTL, m2.TTL)
	}
}

// TestCacheTTLSetsExpiry: the request that fills an intent's template sets
// its lifetime; without cache_ttl it is the cache's TTL. Later requests of
// the intent hit and leave it alone.
func TestCacheTTLSetsExpiry(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t, dbtest.SQLite(t))
	l, err := lint.Default()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tc := cache.New(cache.Config{Conn: db.Conn(), Owner: "t", TTL: 7 * 24 * time.Hour, Clock: func() time.Time { return t0 }})
	svc := generate.New(generate.Config{LLM: &scriptedLLM{templates: []string{goodTemplate}}, Provider: "test", Model: "m",
		Cache: tc, Linter: l})
	expiresAt := func(req *netcfg.JobRequest) time.Time {
		t.Helper()
		tpl, err := store.GetTemplate(t.Context(), db.Conn(), svc.TemplateMeta(req).Key)
		if err != nil {
			t.Fatal(err)
		}
		return tpl.ExpiresAt
	}
	run := func(req *netcfg.JobRequest, want cache.Outcome) {
		t.Helper()
		res, err := svc.Run(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Cache != want {
			t.Errorf("%s: cache %q, want %q", req.Device.Hostname, res.Cache, want)
		}
	}

	short := job("sw1")
	short.CacheTTL = netcfg.Duration(2 * time.Hour)
	run(short, cache.Miss)
	if got, want := expiresAt(short), t0.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("template of a request with cache_ttl 2h expires at %v, want %v", got, want)
	}
	other := job("sw2")
	other.CacheTTL = netcfg.Duration(30 * time.Minute)
	run(other, cache.Hit)
	if got, want := expiresAt(other), t0.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("after a hit with another cache_ttl the template expires at %v, want %v (unchanged)", got, want)
	}

	dflt := job("core1")
	dflt.Requirements = "core switch"
	run(dflt, cache.Miss)
	if got, want := expiresAt(dflt), t0.Add(7*24*time.Hour); !got.Equal(want) {
		t.Errorf("template of a request without cache_ttl expires at %v, want %v (the cache's TTL)", got, want)
	}
}

// TestCacheTTLFallback: when no template works, the device's own config is
// cached for the request's cache_ttl too.
func TestCacheTTLFallback(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t, dbtest.SQLite(t))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tc := cache.New(cache.Config{Conn: db.Conn(), Owner: "t", Clock: func() time.Time { return t0 }})
	hardCoded := strings.Replace(goodTemplate, "{{.hostname}}", "sw1", 1)
	svc := generate.New(generate.Config{LLM: &scriptedLLM{templates: []string{hardCoded}}, Provider: "test", Model: "m", Cache: tc})
	req := job("sw1")
	req.CacheTTL = netcfg.Duration(3 * time.Hour)
	res, err := svc.Run(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cache != cache.Fallback {
		t.Fatalf("cache %q, want fallback", res.Cache)
	}
	key, _ := svc.IntentKey(req)
	tpl, err := store.GetTemplate(t.Context(), db.Conn(), key+":sw1")
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(3 * time.Hour); !tpl.ExpiresAt.Equal(want) {
		t.Errorf("fallback config expires at %v, want %v", tpl.ExpiresAt, want)
	}
}
