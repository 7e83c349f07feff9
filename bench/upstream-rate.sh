#!/usr/bin/env bash
# Issue 3 scenario: three worker processes and one API process on
# PostgreSQL share one upstream limit. The fake Anthropic server allows
# 300 requests/min; netsmith is configured with the same limit. 600 jobs,
# each its own intent (one upstream call each). Reports the achieved rate
# and the 429s the fake counted.
#   bash bench/upstream-rate.sh [JOBS] [RPM]
source "$(dirname "$0")/lib.sh"
JOBS=${1:-600}
RPM=${2:-300}
build
new_pg_db
start_fake --rpm "$RPM" --latency 200ms --burst 1s
common=(--db "$BENCH_PG" --provider anthropic --poll-interval 200ms --upstream-rpm "$RPM")
start_serve api --role api --max-queue 0 "${common[@]}"
start_serve w1 --role worker --concurrency 50 "${common[@]}"
start_serve w2 --role worker --concurrency 50 "${common[@]}"
start_serve w3 --role worker --concurrency 50 "${common[@]}"
fleet_csv "$WORK/fleet.csv" "$JOBS"
start=$(date +%s.%N)
"$BIN" batch "$WORK/fleet.csv" --out "$WORK/out" --server "http://$ADDR_api" --progress-every 10s
end=$(date +%s.%N)
stats=$(curl -s "$FAKE_URL/stats")
ok=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["succeeded"])')
r429=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rate_limited_429"])')
wall=$(python3 -c "print(round($end - $start, 1))")
rate=$(python3 -c "print(round($ok / ($end - $start) * 60, 1))")
ratio=$(python3 -c "print(round($ok / ($end - $start) * 60 / $RPM, 3))")
echo "jobs $JOBS, upstream 200s $ok, 429s $r429, wall ${wall}s, achieved ${rate}/min against $RPM/min (ratio $ratio)"
record upstream-rate "${rate}/min" "${RPM}/min" "$ratio" "3 workers + api on PostgreSQL, $JOBS jobs, $r429 upstream 429s, wall ${wall}s"
