#!/usr/bin/env bash
# Issue 7, scenario 6: submission latency under load. `netsmith loadtest
# --rate RATE -n RATE×SECS` offers RATE submissions/s for SECS seconds to
# one `serve --role all` whose workers run meanwhile (the harder realistic
# case: the sim provider with --sim-latency 0 makes the workers compete
# with the API for the CPU and the database as hard as they can); every
# intent is distinct. Figures: submit p50/p99 and errors (targets: p99 <=
# 25 ms on PostgreSQL, <= 50 ms on SQLite), and the submission rate the
# server actually saw (its POST /v1/jobs counter, read every second),
# beside the rate loadtest sent at and its lag behind its schedule.
#
# loadtest holds one slot from a job's submission until the job is done
# (its SSE stream), so it can offer RATE/s only while fewer than LTC jobs
# are unfinished: when the workers are slower than RATE the backlog fills
# the slots and the offered rate falls to the workers' rate. LTC is
# bounded by the open-file limit (one socket per slot in loadtest and in
# serve); the achieved rate is reported next to the offered one.
# WAIT=none makes loadtest submit only (`--wait none`): a slot is free as
# soon as its submission is answered, so the offered rate holds whatever
# the workers do, and far fewer slots (LTC) are needed.
# ROLE=api (with WAIT=none) runs `serve --role api`: no workers in the
# process, as an API replica in distributed mode; the jobs stay queued,
# unless WORKER_PROC=1 starts a `serve --role worker` (WORKERS workers) on
# the same database beside it, as a worker replica.
#   [DB=sqlite|postgres] [RATE=1000] [SECS=30] [LTC=15000] [WAIT=sse|none] [WORKERS=50] [ROLE=all|api] [WORKER_PROC=1] [PROFILE=1] bash bench/s6-submit.sh
source "$(dirname "$0")/lib.sh"
RATE=${RATE:-1000}
SECS=${SECS:-30}
JOBS=$((RATE * SECS))
LTC=${LTC:-15000}
WAIT=${WAIT:-sse}
WORKERS=${WORKERS:-50}
ROLE=${ROLE:-all}
WORKER_PROC=${WORKER_PROC:-}
PROFILE=${PROFILE:-1}
DB=${DB:-sqlite}
build
use_db s6
load=$(loadavg)
start_serve s6 --db "$DB_URL" --role "$ROLE" --provider sim --sim-latency 0 --concurrency "$WORKERS" --pprof 127.0.0.1:0 ${SERVE_FLAGS:-}
[ -n "$WORKER_PROC" ] && start_serve s6w --db "$DB_URL" --role worker --provider sim --sim-latency 0 --concurrency "$WORKERS"

# The server's count of POST /v1/jobs (every status), once a second.
submitted() {
	curl -s "http://$ADDR_s6/metrics" |
		awk '/^netsmith_http_requests_total\{/ && /route="POST \/v1\/jobs"/ { n += $NF } END { printf "%d\n", n }'
}
(
	while :; do
		echo "$(date +%s.%N) $(submitted)"
		sleep 1
	done
) >"$WORK/submitted.txt" 2>/dev/null &
sampler=$!
PIDS+=("$sampler")
if [ "$PROFILE" = 1 ]; then
	profile_bg "$PPROF_s6" 10 10 "$WORK/s6.pprof"
	[ "$DB" = postgres ] && pg_activity_bg 10 10 "$WORK/pgact.txt"
fi
t_start=$(date +%s.%N)
run_loadtest --server "http://$ADDR_s6" -n "$JOBS" -c "$LTC" --rate "$RATE" --wait "$WAIT" --timeout 30m
res=$(loadtest_json "$WORK/lt.out")
# With --wait none loadtest ends once every submission is answered; when
# workers run, wait for them to finish the queue too (at most 10 minutes).
drain=""
if [ "$WAIT" = none ] && { [ "$ROLE" != api ] || [ -n "$WORKER_PROC" ]; }; then
	for _ in $(seq 1 1200); do
		left=$(curl -s "http://$ADDR_s6/v1/queue" | jq '[.depth[]] | add // 0')
		[ "$left" = 0 ] && break
		sleep 0.5
	done
	drain="queue drained after $(python3 -c "print(round($(date +%s.%N) - $t_start, 1))")s"
	[ "$left" = 0 ] || drain="queue not drained after 10 min ($left jobs left)"
fi
stop_pid "$sampler"
echo "$(date +%s.%N) $(submitted)" >>"$WORK/submitted.txt" # the count once every submission is answered
if [ "$PROFILE" = 1 ]; then
	wait "$PROFILE_PID"
	[ "$DB" = postgres ] && wait "$PGACT_PID"
fi
rss=$(mem_mb "$PID_s6" VmHWM)
waits=$(pool_waits "$ADDR_s6")
cpu="serve used $(cpu_s "$PID_s6") CPU s, loadtest $LT_CPU"

# Achieved submission rate: over the first SECS seconds, and the time the
# server took to see all JOBS submissions.
read -r first_secs_rate all_at peak < <(python3 - "$WORK/submitted.txt" "$SECS" "$JOBS" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2]
secs, jobs = float(sys.argv[2]), float(sys.argv[3])
start = next((t for t, n in rows if n > 0), rows[0][0])
t0 = max((r for r in rows if r[0] <= start), key=lambda r: r[0], default=rows[0])
within = [r for r in rows if r[0] <= t0[0] + secs]
n_secs = (within[-1][1] - t0[1]) / max(within[-1][0] - t0[0], 1e-9)
done = next((t for t, n in rows if n >= jobs), float("nan"))
peak = max(((b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(rows, rows[1:]) if b[0] > a[0]), default=0)
print(round(n_secs, 1), round(done - t0[0], 1), round(peak, 1))
PY
)
p50=$(jq -r '.submit_p50_ms | . * 10 | round / 10' <<<"$res")
p99=$(jq -r '.submit_p99_ms | . * 10 | round / 10' <<<"$res")
errs=$(jq -r '.submit_errors' <<<"$res")
ok=$(jq -r '.ok' <<<"$res")
wall=$(jq -r '.wall_seconds | . * 10 | round / 10' <<<"$res")
# What loadtest offered (commits since e4f0266 keep to a schedule and say
# how late their submissions left; earlier ones used a ticker that dropped
# the ticks it fell behind on).
sent=""
off=$(jq -r '(.offered_per_second // empty) | . * 10 | round / 10' <<<"$res")
[ -n "$off" ] && sent="loadtest sent ${off}/s (lag behind schedule p99 $(jq -r '.lag_p99_ms | . * 10 | round / 10' <<<"$res") ms, max $(jq -r '.lag_max_ms | round' <<<"$res") ms), "
target=50
[ "$DB" = postgres ] && target=25
ratio=$(python3 -c "print(round($p99 / $target, 3))")
echo "submit p50 ${p50} ms, p99 ${p99} ms (target <= ${target} ms), errors $errs; offered ${RATE}/s for ${SECS}s: ${sent}the server saw ${first_secs_rate}/s over the first ${SECS}s (peak ${peak}/s), all $JOBS after ${all_at}s; $ok jobs ok, loadtest done after ${wall}s${drain:+, $drain}; serve peak RSS ${rss} MB; $cpu"
[ -n "$waits" ] && echo "waits for a database connection: $waits"
if [ "$PROFILE" = 1 ]; then
	echo "--- serve CPU profile, 10 s from 10 s into the run"
	profile_top "$WORK/s6.pprof"
	if [ "$DB" = postgres ]; then
		echo "--- PostgreSQL sessions over the same 10 s"
		pg_activity_top "$WORK/pgact.txt"
	fi
fi
record s6-submit-$DB "p99 ${p99} ms" "${target} ms" "$ratio" \
	"$DB, offered ${RATE}/s × ${SECS}s (loadtest -c $LTC --wait $WAIT), ${sent}server saw ${first_secs_rate}/s over the first ${SECS}s (peak ${peak}/s, all after ${all_at}s), submit p50 ${p50} ms, $errs submit errors, $ok/$JOBS ok, $([ "$ROLE" = api ] && echo "serve --role api$([ -n "$WORKER_PROC" ] && echo " beside serve --role worker ($WORKERS workers, sim 0s)" || echo ", no workers")" || echo "workers running ($WORKERS, sim 0s)"), loadtest done after ${wall}s${drain:+, $drain}, serve peak RSS ${rss} MB, $cpu${waits:+, connection waits: $waits}${PG_PARAMS:+, URL $PG_PARAMS}${SERVE_FLAGS:+, serve $SERVE_FLAGS}, load $load"
