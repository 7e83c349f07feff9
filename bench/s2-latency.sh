#!/usr/bin/env bash
# Issue 7, scenario 2: keeping a slow upstream busy. fake-anthropic answers
# every message after LAT seconds with no rate limit; JOBS jobs, every
# intent distinct (one upstream call each); `serve --role all
# --concurrency CONC` driven by `netsmith loadtest` with LTC slots (more
# than CONC, so that the workers never wait for work). The bound is
# CONC / LAT jobs/s (102.4 for 256 and 2.5 s); with whole rounds it is
# JOBS / (ceil(JOBS / CONC) × LAT), printed too. Also the share of upstream
# calls answered 429 (from the fake's /stats) and the most calls the fake
# saw in flight.
#   [DB=sqlite|postgres] [JOBS=5000] [CONC=256] [LAT=2.5] [LTC=512] bash bench/s2-latency.sh
source "$(dirname "$0")/lib.sh"
JOBS=${JOBS:-5000}
CONC=${CONC:-256}
LAT=${LAT:-2.5}
LTC=${LTC:-$((CONC * 2))}
build
use_db s2
start_fake --latency "${LAT}s"
load=$(loadavg)
start_serve s2 --db "$DB_URL" --provider anthropic --concurrency "$CONC" --max-queue 0
run_loadtest --server "http://$ADDR_s2" -n "$JOBS" -c "$LTC" --upstream-stats "$FAKE_URL" --timeout 30m
res=$(loadtest_json "$WORK/lt.out")
rss=$(mem_mb "$PID_s2" VmHWM)
phases=$(phase_means "$ADDR_s2")
# The three processes share the two cores; the fake stands in for a
# provider that would not.
cpu="CPU s: serve $(cpu_s "$PID_s2"), fake $(cpu_s "$FAKE_PID"), loadtest $LT_CPU"
stats=$(curl -s "$FAKE_URL/stats")
calls=$(jq -r '.requests' <<<"$stats")
r429=$(jq -r '.rate_limited_429' <<<"$stats")
maxin=$(jq -r '.max_in_flight' <<<"$stats")
rate=$(jq -r '.jobs_per_second | . * 10 | round / 10' <<<"$res")
bound=$(python3 -c "print(round($CONC / $LAT, 1))")
rounds=$(python3 -c "import math; print(round($JOBS / (math.ceil($JOBS / $CONC) * $LAT), 1))")
ratio=$(python3 -c "print(round($rate / $bound, 3))")
share=$(python3 -c "print(round(100 * $r429 / max($calls, 1), 2))")
ok=$(jq -r '.ok' <<<"$res")
ep50=$(jq -r '.e2e_p50_ms | round' <<<"$res"); ep99=$(jq -r '.e2e_p99_ms | round' <<<"$res")
echo "achieved ${rate} jobs/s against ${CONC}/${LAT}s = ${bound} jobs/s (ratio $ratio; whole rounds allow ${rounds}); upstream calls $calls, 429s $r429 (${share} %), most in flight $maxin; serve peak RSS ${rss} MB; $cpu"
[ -n "$phases" ] && echo "mean ms per job attempt by phase: $phases"
record s2-latency-${DB:-sqlite} "${rate} jobs/s" "${bound} jobs/s" "$ratio" \
	"${DB:-sqlite}, $ok/$JOBS distinct jobs ok, ${LAT}s upstream, concurrency $CONC, loadtest -c $LTC, $calls upstream calls, 429s $r429 (${share} %), max in flight $maxin, whole-round bound ${rounds} jobs/s, e2e p50/p99 ${ep50}/${ep99} ms, serve peak RSS ${rss} MB, $cpu${phases:+, mean ms per phase: $phases}, load $load"
