#!/usr/bin/env bash
# Issue 3 scenario: an upstream with 2 s latency and no limit; 1,000 jobs,
# each its own device and intent, 200 at a time. The bound is
# 1000 × 2 s / 200 = 10 s. It measures how netsmith keeps an upstream busy,
# so by default the template cache is off (every job is a distinct intent:
# the cache could only add its proof of each template); CACHE=true runs it
# with the cache on.
#   [CACHE=true] bash bench/upstream-latency.sh [JOBS] [CONCURRENCY] [LATENCY_SECONDS]
source "$(dirname "$0")/lib.sh"
JOBS=${1:-1000}
CONC=${2:-200}
LAT=${3:-2}
build
start_fake --latency "${LAT}s"
fleet_csv "$WORK/fleet.csv" "$JOBS"
start=$(date +%s.%N)
ANTHROPIC_API_KEY=bench-key ANTHROPIC_BASE_URL="$FAKE_URL" "$BIN" batch "$WORK/fleet.csv" --out "$WORK/out" \
	--db "sqlite://$WORK/b.db" --provider anthropic --concurrency "$CONC" --poll-interval 200ms --progress-every 5s \
	--cache="${CACHE:-false}"
end=$(date +%s.%N)
ok=$(curl -s "$FAKE_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["succeeded"])')
bound=$(python3 -c "print($JOBS * $LAT / $CONC)")
wall=$(python3 -c "print(round($end - $start, 1))")
ratio=$(python3 -c "print(round($bound / ($end - $start), 3))")
echo "jobs $JOBS, upstream calls $ok, wall ${wall}s, bound ${bound}s (bound/wall $ratio)"
record upstream-latency "${wall}s" "${bound}s" "$ratio" "embedded SQLite, $JOBS jobs, concurrency $CONC, ${LAT}s upstream, $ok calls, cache ${CACHE:-false}"
