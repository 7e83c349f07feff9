#!/usr/bin/env bash
# Single jobs one after another: the latency a person submitting one job at
# a time sees. `serve --role all` with the sim provider (SIM latency, 0 s
# by default) and serve's default --poll-interval unless SERVE_FLAGS says
# otherwise; `netsmith loadtest -n JOBS -c CONC --distinct 1` (after the
# first job every one is a template cache hit, so what is left is the
# queue's own latency). Figures: submit → done p50/p95/p99, and how long
# the jobs sat ready before a worker took them (the queued phase). No
# target in issue 7; River drops an insert notification that follows
# another within 20 ms, and this shows what that costs.
#   [DB=sqlite|postgres] [JOBS=100] [CONC=1] [SIM=0s] bash bench/single-latency.sh
source "$(dirname "$0")/lib.sh"
DB=${DB:-sqlite}
JOBS=${JOBS:-100}
CONC=${CONC:-1}
SIM=${SIM:-0s}
build
use_db single
load=$(loadavg)
start_serve single --db "$DB_URL" --provider sim --sim-latency "$SIM" ${SERVE_FLAGS:-}
run_loadtest --server "http://$ADDR_single" -n "$JOBS" -c "$CONC" --distinct 1
res=$(loadtest_json "$WORK/lt.out")
queued=$(curl -s "http://$ADDR_single/metrics" | awk '
	/^netsmith_job_phase_seconds_bucket\{phase="queued",le="0.25"\}/ { fast = $NF }
	/^netsmith_job_phase_seconds_count\{phase="queued"\}/ { n = $NF }
	END { if (n) printf "%d of %d job attempts waited over 0.25 s to start", n - fast, n }')
ep50=$(jq -r '.e2e_p50_ms | round' <<<"$res"); ep95=$(jq -r '.e2e_p95_ms | round' <<<"$res"); ep99=$(jq -r '.e2e_p99_ms | round' <<<"$res")
ok=$(jq -r '.ok' <<<"$res")
echo "submit → done p50/p95/p99 ${ep50}/${ep95}/${ep99} ms; ${queued:-no queued phase in /metrics}"
record single-latency-$DB "p95 ${ep95} ms" "" "" \
	"$DB, $ok/$JOBS jobs ok one intent, loadtest -c $CONC, sim $SIM, e2e p50/p95/p99 ${ep50}/${ep95}/${ep99} ms${queued:+, $queued}${SERVE_FLAGS:+, serve $SERVE_FLAGS}, load $load"
