package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	k8syaml "sigs.k8s.io/yaml"

	"netsmith/internal/httpapi"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
)

// tool returns the path of an external command the test needs. Absent, the
// test skips with a message, unless CI is set: there it must run, and
// .ci/run installs the package.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found and CI is set: install the Debian package %s (.ci/run does)", name, pkg)
	}
	t.Skipf("%s not found: install the Debian package %s to run this test", name, pkg)
	return ""
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPrometheusFiles(t *testing.T) {
	t.Parallel()
	promtool := tool(t, "promtool", "prometheus")
	run(t, promtool, "check", "rules", "prometheus/rules.yaml")
	run(t, promtool, "check", "config", "prometheus/prometheus.yml")
	// The alerts fire on what should fire them (rules_test.yaml).
	run(t, promtool, "test", "rules", "prometheus/rules_test.yaml")
}

func TestNginxConfig(t *testing.T) {
	t.Parallel()
	nginx := tool(t, "nginx", "nginx")
	conf, err := filepath.Abs("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	// A prefix of our own: the pid file and temporary directories are
	// relative to it, so nothing outside it is touched.
	prefix := t.TempDir()
	if err := os.Mkdir(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := run(t, nginx, "-t", "-p", prefix+"/", "-c", conf, "-e", "stderr")
	if !strings.Contains(out, "test is successful") {
		t.Fatalf("nginx -t: %s", out)
	}

	// What the file must say for netsmith, beyond being valid.
	text := readFile(t, "nginx.conf")
	// (TestNginxInFrontOfServe runs it: /metrics is not public.)
	if !strings.Contains(block(t, text, "upstream netsmith_api {"), "least_conn;") {
		t.Error("the upstream does not balance least_conn")
	}
	events := block(t, text, "location ~ ^/v1/jobs/[^/]+/events$ {")
	if !strings.Contains(events, "proxy_buffering off;") {
		t.Error("the event stream location does not turn proxy_buffering off")
	}
	m := regexp.MustCompile(`proxy_read_timeout (\d+)s;`).FindStringSubmatch(events)
	if m == nil {
		t.Fatal("the event stream location sets no proxy_read_timeout")
	}
	// The server sends a heartbeat comment every 15 s; nginx must wait
	// well longer than that before it cuts an idle stream.
	if s, _ := strconv.Atoi(m[1]); s < 2*15 {
		t.Errorf("event stream proxy_read_timeout %ss, want at least twice the 15 s heartbeat", m[1])
	}
	if !regexp.MustCompile(`client_max_body_size \d+m;`).MatchString(text) {
		t.Error("nginx.conf sets no client_max_body_size")
	}
}

// block returns the brace block of text that starts with head.
func block(t *testing.T, text, head string) string {
	t.Helper()
	i := strings.Index(text, head)
	if i < 0 {
		t.Fatalf("no %q", head)
	}
	depth := 0
	for j := i + len(head) - 1; j < len(text); j++ {
		switch text[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return text[i : j+1]
			}
		}
	}
	t.Fatalf("%q is not closed", head)
	return ""
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// yamlDocs parses every document of a YAML file.
func yamlDocs(t *testing.T, name string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(readFile(t, name)))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", name, len(docs)+1, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// get walks a parsed YAML/JSON tree by keys (string) and indexes (int).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestYAMLFilesParse(t *testing.T) {
	t.Parallel()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		if len(yamlDocs(t, f)) == 0 {
			t.Errorf("%s: no document", f)
		}
	}
	var dash map[string]any
	if err := json.Unmarshal([]byte(readFile(t, "grafana/dashboards/netsmith.json")), &dash); err != nil {
		t.Fatalf("grafana dashboard: %v", err)
	}
}

// TestComposeShape loads compose.yaml as Docker Compose does (compose-go:
// the compose-spec schema, interpolation, anchors and merges, paths), and
// checks the shape: every part, PgBouncer in transaction mode, and the
// replicas reaching the database through it.
func TestComposeShape(t *testing.T) {
	t.Parallel()
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"}, cli.WithName("netsmith"), cli.WithWorkingDirectory("."),
		cli.WithEnv([]string{"ANTHROPIC_API_KEY=test"}), cli.WithConsistency(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, s := range []string{"postgres", "pgbouncer", "migrate", "nginx", "api1", "api2", "worker", "prometheus", "grafana"} {
		if _, ok := p.Services[s]; !ok {
			t.Errorf("compose.yaml has no service %s", s)
		}
	}
	env := func(svc, key string) string {
		if v := p.Services[svc].Environment[key]; v != nil {
			return *v
		}
		return ""
	}
	if got := env("pgbouncer", "POOL_MODE"); got != "transaction" {
		t.Errorf("pgbouncer POOL_MODE %q, want transaction", got)
	}
	for _, s := range []string{"api1", "api2", "worker"} {
		db := env(s, "NETSMITH_DB")
		if !strings.Contains(db, "@pgbouncer:") || !strings.Contains(db, "pgbouncer=true") {
			t.Errorf("%s: NETSMITH_DB %q does not go through PgBouncer with ?pgbouncer=true", s, db)
		}
		cmd := strings.Join(p.Services[s].Command, " ")
		if want := strings.TrimRight(s, "12"); !strings.Contains(cmd, "--role "+want) {
			t.Errorf("%s: command %q, want --role %s", s, cmd, want)
		}
		if env(s, "ANTHROPIC_API_KEY") != "test" {
			t.Errorf("%s: ANTHROPIC_API_KEY is not passed on", s)
		}
	}
	// The API replicas are where nginx.conf looks for them: its network
	// namespace, on the ports of its upstream.
	conf := readFile(t, "nginx.conf")
	for _, s := range []string{"api1", "api2"} {
		if nm := p.Services[s].NetworkMode; nm != "service:nginx" {
			t.Errorf("%s: network_mode %q, want service:nginx", s, nm)
		}
		cmd := strings.Join(p.Services[s].Command, " ")
		port := regexp.MustCompile(`--listen 0\.0\.0\.0:(\d+)`).FindStringSubmatch(cmd)
		if port == nil || !strings.Contains(conf, "server 127.0.0.1:"+port[1]+" ") {
			t.Errorf("%s: command %q listens where nginx.conf's upstream does not look", s, cmd)
		}
	}
	if d := p.Services["worker"].Deploy; d == nil || d.Replicas == nil || *d.Replicas < 2 {
		t.Error("compose.yaml: fewer than 2 workers")
	}
	// The files it mounts exist (paths are resolved against deploy/).
	for _, svc := range p.Services {
		for _, v := range svc.Volumes {
			if v.Type != "bind" {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s: %v", svc.Name, v.Source, err)
			}
		}
		if svc.Build != nil {
			if _, err := os.Stat(filepath.Join(svc.Build.Context, svc.Build.Dockerfile)); err != nil {
				t.Errorf("%s builds from %v", svc.Name, err)
			}
		}
	}
}

func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	kinds := map[string]map[string]any{}
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, d := range yamlDocs(t, f) {
			kind, _ := d["kind"].(string)
			name, _ := get(d, "metadata", "name").(string)
			if kind == "" || d["apiVersion"] == nil || name == "" {
				t.Errorf("%s: a document without apiVersion, kind or metadata.name", f)
				continue
			}
			kinds[kind+"/"+name] = d
		}
	}
	// Kubernetes' own types, strictly: a misspelt or misplaced field is an
	// error here, as kubectl's validation makes it one at apply.
	for key, d := range kinds {
		var obj any
		switch strings.Split(key, "/")[0] {
		case "Deployment":
			obj = &appsv1.Deployment{}
		case "Service":
			obj = &corev1.Service{}
		case "PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		case "HorizontalPodAutoscaler":
			obj = &autoscalingv2.HorizontalPodAutoscaler{}
		default:
			continue // KEDA's ScaledObject: checked by hand below
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := k8syaml.UnmarshalStrict(b, obj); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
	for _, want := range []string{"Deployment/netsmith-api", "Deployment/netsmith-worker", "Service/netsmith-api",
		"PodDisruptionBudget/netsmith-api", "PodDisruptionBudget/netsmith-worker",
		"ScaledObject/netsmith-worker", "HorizontalPodAutoscaler/netsmith-worker"} {
		if kinds[want] == nil {
			t.Errorf("no %s in kubernetes/", want)
		}
	}
	for _, dep := range []string{"Deployment/netsmith-api", "Deployment/netsmith-worker"} {
		c := get(kinds[dep], "spec", "template", "spec", "containers", 0)
		if p := get(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
			t.Errorf("%s readiness probe %v, want /readyz", dep, p)
		}
		if p := get(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
			t.Errorf("%s liveness probe %v, want /healthz", dep, p)
		}
		role := strings.TrimPrefix(dep, "Deployment/netsmith-")
		if args := fmt.Sprint(get(c, "args")); !strings.Contains(args, "--role "+role) {
			t.Errorf("%s args %s, want --role %s", dep, args, role)
		}
	}
	// Both autoscalers wait before they move, up and down: a burst of
	// submissions must not flap the worker count.
	for name, behavior := range map[string]any{
		"HorizontalPodAutoscaler": get(kinds["HorizontalPodAutoscaler/netsmith-worker"], "spec", "behavior"),
		"ScaledObject":            get(kinds["ScaledObject/netsmith-worker"], "spec", "advanced", "horizontalPodAutoscalerConfig", "behavior"),
	} {
		for _, dir := range []string{"scaleUp", "scaleDown"} {
			if w, _ := get(behavior, dir, "stabilizationWindowSeconds").(int); w <= 0 {
				t.Errorf("%s: %s has no stabilization window", name, dir)
			}
		}
	}
}

func TestSystemdUnits(t *testing.T) {
	t.Parallel()
	analyze := tool(t, "systemd-analyze", "systemd")
	// verify needs the ExecStart binary to exist: point it at one that
	// does; everything else is the shipped unit.
	dir := t.TempDir()
	for unit, instance := range map[string]string{"netsmith-api@.service": "8081", "netsmith-worker@.service": "9101"} {
		text := strings.ReplaceAll(readFile(t, "systemd/"+unit), "/usr/local/bin/netsmith", "/bin/true")
		name := filepath.Join(dir, strings.Replace(unit, "@.", "@"+instance+".", 1))
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		// Unknown keys and bad values are warnings with exit status 0: any
		// output fails the test.
		if out := run(t, analyze, "verify", name); strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify %s:\n%s", unit, out)
		}
	}
}

// metricRE finds the netsmith metric names a file uses. Recording rules'
// names have colons (netsmith:…) and are checked against rules.yaml.
var (
	metricRE   = regexp.MustCompile(`\bnetsmith_[a-z0-9_]*[a-z0-9]\b`)
	recordedRE = regexp.MustCompile(`\bnetsmith:[a-z0-9_:]+\b`)
)

// TestMetricNamesExported checks that every metric the rules, the
// dashboard and the autoscalers name is one `netsmith serve` exports: a
// real serve is built, started and scraped (the cluster-wide gauges come
// from it as the queue's leader), and the names of series that need an
// event to appear (a department's spend) come from the metrics' own
// descriptions.
func TestMetricNamesExported(t *testing.T) {
	t.Parallel()
	scraped := scrapeServe(t)
	exported := describedNames(t)
	for n := range scraped {
		exported[n] = true
	}
	// The leader-only gauges must really be exported by a serve that leads.
	for _, n := range []string{"netsmith_queue_depth", "netsmith_queue_oldest_age_seconds", "netsmith_workers_live", "netsmith_build_info"} {
		if !scraped[n] {
			t.Errorf("serve does not export %s", n)
		}
	}

	rules := readFile(t, "prometheus/rules.yaml")
	recorded := map[string]bool{}
	for _, m := range regexp.MustCompile(`record: (\S+)`).FindAllStringSubmatch(rules, -1) {
		recorded[m[1]] = true
	}
	files := []string{"prometheus/rules.yaml", "prometheus/rules_test.yaml", "grafana/dashboards/netsmith.json",
		"kubernetes/hpa.yaml", "kubernetes/keda-scaledobject.yaml"}
	used := 0
	for _, f := range files {
		text := readFile(t, f)
		for _, n := range metricRE.FindAllString(text, -1) {
			used++
			if !exported[n] {
				t.Errorf("%s uses %s, which netsmith does not export", f, n)
			}
		}
		for _, n := range recordedRE.FindAllString(text, -1) {
			if !recorded[n] {
				t.Errorf("%s uses %s, which rules.yaml does not record", f, n)
			}
		}
	}
	if used < 20 {
		t.Fatalf("found only %d metric names in %v", used, files)
	}
}

// describedNames are the names of every metric netsmith registers, as
// their descriptions give them.
func describedNames(t *testing.T) map[string]bool {
	t.Helper()
	d := describer{}
	metrics.New(d)
	metrics.RegisterDBPools(d, nil)
	metrics.RegisterCluster(d, nil)
	if !d["netsmith_jobs_total"] || !d["netsmith_queue_depth"] {
		t.Fatalf("described only %v", d)
	}
	return d
}

// describer is a prometheus.Registerer that records the names its
// collectors describe.
type describer map[string]bool

var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d describer) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		if m := fqNameRE.FindStringSubmatch(desc.String()); m != nil {
			d[m[1]] = true
		}
	}
	return nil
}

func (d describer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = d.Register(c)
	}
}

func (d describer) Unregister(prometheus.Collector) bool { return false }

var addrRE = regexp.MustCompile(`msg="netsmith serving" addr=(\S+)`)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// netsmithBinary builds netsmith once per test run.
func netsmithBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "netsmith-deploy-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "netsmith")
		if out, err := exec.Command("go", "build", "-o", binPath, "../cmd/netsmith").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// startServe starts `netsmith serve` on an SQLite file with the sim
// provider and args, and returns its address once it listens.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	bin := netsmithBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--db", "sqlite://" + filepath.Join(dir, "netsmith.db"),
		"--provider", "sim", "--concurrency", "2"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		logs bytes.Buffer
	)
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.Write(append(sc.Bytes(), '\n'))
			mu.Unlock()
			if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("serve's log:\n%s", logs.String())
			mu.Unlock()
		}
	})
	select {
	case a := <-addr:
		return a
	case <-done:
		t.Fatal("serve exited before listening")
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not listen within 2 minutes")
	}
	return ""
}

// scrapeServe starts a serve and returns the sample names of its /metrics
// once it leads the queue and exports the cluster-wide gauges.
func scrapeServe(t *testing.T) map[string]bool {
	t.Helper()
	base := "http://" + startServe(t)
	// A request, so the HTTP metrics have one of each.
	if resp, err := http.Get(base + "/healthz"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	// River elects the leader a moment after start: poll until this
	// process exports the cluster gauges.
	deadline := time.Now().Add(time.Minute)
	for {
		names := scrape(t, base+"/metrics")
		if names["netsmith_queue_depth"] {
			return names
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve exported no netsmith_queue_depth within a minute; it exported %v", slices.Sorted(maps.Keys(names)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrape returns the names of the samples at url (a histogram's _bucket,
// _sum and _count each).
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	names := map[string]bool{}
	for name, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		if mf.GetType().String() == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[name+s] = true
			}
			continue
		}
		names[name] = true
	}
	return names
}

// TestNginxInFrontOfServe runs the shipped nginx.conf, with only its
// addresses changed, in front of a real serve: requests and an event
// stream pass, /metrics does not, and an oversized body stops at nginx.
func TestNginxInFrontOfServe(t *testing.T) {
	t.Parallel()
	nginx := tool(t, "nginx", "nginx")
	api := startServe(t, "--sim-latency", "200ms")
	port := freePort(t)
	text := readFile(t, "nginx.conf")
	for old, repl := range map[string]string{
		"listen 8080;":           "listen 127.0.0.1:" + port + ";",
		"server 127.0.0.1:8081 ": "server " + api + " ",
		"server 127.0.0.1:8082 ": "server " + api + " ",
	} {
		if strings.Count(text, old) != 1 {
			t.Fatalf("nginx.conf has %d of %q", strings.Count(text, old), old)
		}
		text = strings.Replace(text, old, repl, 1)
	}
	prefix := t.TempDir()
	if err := os.Mkdir(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	exited := startDaemon(t, exec.Command(nginx, "-p", prefix+"/", "-c", conf, "-e", "stderr", "-g", "daemon off;"))
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("nginx exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not answer /healthz with 200 within 30 s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond) // polling: nginx tells nothing when it listens
	}

	if code := status(t, http.MethodGet, base+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("GET /metrics through nginx = %d, want 404", code)
	}
	if code := status(t, http.MethodGet, "http://"+api+"/metrics", ""); code != http.StatusOK {
		t.Errorf("GET /metrics on the replica = %d, want 200", code)
	}
	big := `{"kind":"generate","requirements":"` + strings.Repeat("x", 3<<20) + `"}`
	if code := status(t, http.MethodPost, base+"/v1/jobs", big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 3 MiB job through nginx = %d, want 413", code)
	}

	// A job submitted and waited on through nginx: the event stream passes.
	final, states := runJob(t, base)
	if final.Status != netcfg.StateSucceeded || len(states) < 2 {
		t.Fatalf("through nginx the job ended %s after states %v, want succeeded after at least one earlier state", final.Status, states)
	}
}

// startDaemon starts cmd, a server that runs until stopped, and stops it
// with SIGTERM (nginx's master stops its workers first) when the test
// ends, showing its output if the test failed. The channel yields its exit.
func startDaemon(t *testing.T, cmd *exec.Cmd) <-chan error {
	t.Helper()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s's log:\n%.4000s", filepath.Base(cmd.Path), logs.String())
		}
	})
	return exited
}

// runJob submits a job to base and waits for its end on its event
// stream; it returns the final job and the states seen on the way.
func runJob(t *testing.T, base string) (*httpapi.JobView, []netcfg.JobState) {
	t.Helper()
	c := httpapi.NewClient(base, nil, "")
	sub, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
		Kind: netcfg.KindGenerate, Device: &netcfg.Device{Hostname: "sw1", Platform: netcfg.CiscoXE}, Requirements: "access switch",
	}})
	if err != nil {
		t.Fatal(err)
	}
	var states []netcfg.JobState
	final, err := c.Wait(t.Context(), sub.ID, func(v *httpapi.JobView) { states = append(states, v.Status) })
	if err != nil {
		t.Fatal(err)
	}
	return final, states
}

func status(t *testing.T, method, url, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestRulesEvaluateOnServe runs Prometheus with the shipped rules, scraping
// a real serve that has run a job: every rule evaluates without error on
// what netsmith really exports (a many-to-many match or a wrong label
// passes promtool's check and fails only here), and the recorded depth is
// there.
func TestRulesEvaluateOnServe(t *testing.T) {
	t.Parallel()
	prom := tool(t, "prometheus", "prometheus")
	api := startServe(t, "--sim-latency", "50ms")
	if final, _ := runJob(t, "http://"+api); final.Status != netcfg.StateSucceeded {
		t.Fatalf("job %s: %s", final.ID, final.Status)
	}
	// promtool's lint of the exposition: names, units, suffixes, help.
	resp, err := http.Get("http://" + api + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	lint := exec.Command(tool(t, "promtool", "prometheus"), "check", "metrics")
	lint.Stdin = resp.Body
	out, err := lint.CombinedOutput()
	resp.Body.Close()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics on serve's /metrics: %v\n%s", err, out)
	}

	dir := t.TempDir()
	rules, err := filepath.Abs("prometheus/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: netsmith-worker
    static_configs: [{targets: [%q]}]
`, rules, api)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	exited := startDaemon(t, exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:"+port))

	base := "http://127.0.0.1:" + port
	type ruleList struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name           string    `json:"name"`
					Health         string    `json:"health"`
					LastError      string    `json:"lastError"`
					LastEvaluation time.Time `json:"lastEvaluation"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	// Wait until the recorded depth has its 3 states (the target was
	// scraped and the rules ran on it), then until every rule has been
	// evaluated once more after that (none left "unknown").
	var (
		rs       ruleList
		recorded bool
		since    time.Time
	)
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v", err)
		default:
		}
		if !recorded {
			var q struct {
				Data struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			recorded = getJSON(base+"/api/v1/query?query=netsmith:queue_depth:sum", &q) == nil && len(q.Data.Result) == 3
			since = time.Now() // every evaluation from here on has data
		} else if rs = (ruleList{}); getJSON(base+"/api/v1/rules", &rs) == nil {
			all := true
			for _, g := range rs.Data.Groups {
				for _, r := range g.Rules {
					all = all && r.LastEvaluation.After(since)
				}
			}
			if all {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 90 s Prometheus did not record netsmith:queue_depth:sum (%v) or evaluate every rule", recorded)
		}
		time.Sleep(200 * time.Millisecond) // polling: Prometheus evaluates on its own clock
	}
	n := 0
	for _, g := range rs.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				t.Errorf("rule %s (%s): health %q: %s", r.Name, g.Name, r.Health, r.LastError)
			}
		}
	}
	if n < 15 {
		t.Errorf("Prometheus loaded %d rules", n)
	}

	// The dashboard's queries and the autoscalers' run too.
	exprs := dashboardExprs(t)
	keda := yamlDocs(t, "kubernetes/keda-scaledobject.yaml")[0]
	exprs = append(exprs, fmt.Sprint(get(keda, "spec", "triggers", 0, "metadata", "query")))
	m := regexp.MustCompile(`metricsQuery: '([^']+)'`).FindStringSubmatch(readFile(t, "kubernetes/hpa.yaml"))
	if m == nil {
		t.Fatal("hpa.yaml has no prometheus-adapter metricsQuery")
	}
	exprs = append(exprs, m[1])
	for _, e := range exprs {
		var r struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Data   struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(e))
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || r.Status != "success" {
			t.Errorf("query %s: %v %s %s", e, err, r.Status, r.Error)
		}
	}
	if len(exprs) < 20 {
		t.Errorf("ran only %d queries", len(exprs))
	}
}

// dashboardExprs returns the queries of the Grafana dashboard's panels.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(readFile(t, "grafana/dashboards/netsmith.json")), &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	return out
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
