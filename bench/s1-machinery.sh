#!/usr/bin/env bash
# Issue 7, scenario 1: the machinery's ceiling. An instant upstream (the sim
# provider with --sim-latency 0: in-process, so no HTTP round trip, no JSON
# wire format and no third process on the machine's two cores), JOBS jobs
# with every intent distinct, one `serve --role all` driven over HTTP by
# `netsmith loadtest`. Then, with serve stopped, the engine's own ceiling on
# the same kind of database: BenchmarkBareRiverNoop (River alone, no-op
# jobs, the same worker count and poll interval: serve's River runs
# --concurrency WORKERS and a sixteenth more, as its log says). Target:
# netsmith >= 40 % of bare River. Beside it, BenchmarkBareRiverSubmitNoop:
# River with its inserts on the clock, one per transaction from CONC
# goroutines.
#   [DB=sqlite|postgres] [JOBS=20000] [WORKERS=50] [CONC=200] [PROFILE=1] bash bench/s1-machinery.sh
source "$(dirname "$0")/lib.sh"
DB=${DB:-sqlite}
JOBS=${JOBS:-20000}
WORKERS=${WORKERS:-50}    # serve's default --concurrency (model calls at once)
CONC=${CONC:-200}         # loadtest slots: enough that the workers never wait for work
POLL=${POLL:-100ms}       # serve's default --poll-interval (1s until 30 Nov 2026)
PROFILE=${PROFILE:-1}
build
(cd "$SRC" && go test -c -o "$WORK/queue.test" ./internal/queue)
use_db s1
load=$(loadavg)
start_serve s1 --db "$DB_URL" --provider sim --sim-latency 0 --concurrency "$WORKERS" \
	--poll-interval "$POLL" --max-queue 0 --pprof 127.0.0.1:0 ${SERVE_FLAGS:-}
# River's worker count in serve, for bare River: --concurrency until the
# commit that runs a few more jobs than model calls, then the log says.
SLOTS=$(grep -o 'msg="netsmith serving".* workers=[0-9]*' "$WORK/s1.log" | sed 's/.*workers=//' || true)
SLOTS=${SLOTS:-$WORKERS}
if [ "$PROFILE" = 1 ]; then
	profile_bg "$PPROF_s1" 5 10 "$WORK/s1.pprof"
	[ "$DB" = postgres ] && pg_activity_bg 5 10 "$WORK/pgact.txt"
fi
xacts() { psql -h 127.0.0.1 -U postgres -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = '$BENCH_DB'"; }
[ "$DB" = postgres ] && x0=$(xacts)
run_loadtest --server "http://$ADDR_s1" -n "$JOBS" -c "$CONC" --timeout 30m
commits=""
if [ "$DB" = postgres ]; then
	sleep 1 # the statistics are flushed at most once a second
	commits=", $(python3 -c "print(round(($(xacts) - $x0) / $JOBS, 1))") PostgreSQL transactions per job (read-only ones too)"
fi
res=$(loadtest_json "$WORK/lt.out")
if [ "$PROFILE" = 1 ]; then
	wait "$PROFILE_PID"
	[ "$DB" = postgres ] && wait "$PGACT_PID"
fi
rss=$(mem_mb "$PID_s1" VmHWM)
phases=$(phase_means "$ADDR_s1")
waits=$(pool_waits "$ADDR_s1")
cpu="serve used $(cpu_s "$PID_s1") CPU s, loadtest $LT_CPU"
stop_pid "$PID_s1"

ns=$(jq -r '.jobs_per_second | . * 10 | round / 10' <<<"$res")
echo "--- bare River, $JOBS no-op jobs, $SLOTS workers, $DB"
bench_db=""
[ "$DB" = postgres ] && bench_db=$BENCH_PG
bare_flags=(-bare.workers "$SLOTS" -bare.poll "$POLL")
# (Commits before BenchmarkBareRiverSubmitNoop have no -bare.clients.)
"$WORK/queue.test" -h 2>&1 | grep -q bare.clients && bare_flags+=(-bare.clients "$CONC")
TEST_DATABASE_URL=$bench_db "$WORK/queue.test" -test.run '^$' -test.bench "BareRiver(Submit)?Noop/^$DB\$" \
	-test.benchtime "${JOBS}x" "${bare_flags[@]}" | tee "$WORK/bare.out"
bare_of() { awk -v b="Benchmark$1/" 'index($0, b) == 1 { for (i = 1; i < NF; i++) if ($(i+1) == "jobs/s") v = $i } END { print v }' "$WORK/bare.out"; }
bare=$(bare_of BareRiverNoop)
[ -n "$bare" ] || { echo "no bare River figure" >&2; exit 1; }
# River with its inserts on the clock, one per transaction from CONC
# goroutines: River used as netsmith uses it (not the target's yardstick).
bare_sub=$(bare_of BareRiverSubmitNoop)
sub_note=""
if [ -n "$bare_sub" ]; then
	sub_note="bare River with its inserts timed ${bare_sub} jobs/s (ratio $(python3 -c "print(round($ns / $bare_sub, 3))")), "
fi

ratio=$(python3 -c "print(round($ns / $bare, 3))")
sp50=$(jq -r '.submit_p50_ms | round' <<<"$res"); sp99=$(jq -r '.submit_p99_ms | round' <<<"$res")
ep50=$(jq -r '.e2e_p50_ms | round' <<<"$res"); ep99=$(jq -r '.e2e_p99_ms | round' <<<"$res")
ok=$(jq -r '.ok' <<<"$res")
echo "netsmith ${ns} jobs/s, bare River ${bare} jobs/s, ratio $ratio (target >= 0.4); ${sub_note}serve peak RSS ${rss} MB$commits; $cpu"
[ -n "$phases" ] && echo "mean ms per job attempt by phase: $phases"
[ -n "$waits" ] && echo "waits for a database connection: $waits"
if [ "$PROFILE" = 1 ]; then
	echo "--- serve CPU profile, 10 s from 5 s into the run"
	profile_top "$WORK/s1.pprof"
	if [ "$DB" = postgres ]; then
		echo "--- PostgreSQL sessions over the same 10 s"
		pg_activity_top "$WORK/pgact.txt"
	fi
fi
record s1-machinery-$DB "${ns} jobs/s" "${bare} jobs/s (bare River)" "$ratio" \
	"$DB, $ok/$JOBS distinct jobs ok, ${sub_note}sim 0s, --concurrency $WORKERS, $SLOTS workers (bare River too), loadtest -c $CONC, submit p50/p99 ${sp50}/${sp99} ms, e2e p50/p99 ${ep50}/${ep99} ms, serve peak RSS ${rss} MB$commits, $cpu${phases:+, mean ms per phase: $phases}${waits:+, connection waits: $waits}${PG_PARAMS:+, URL $PG_PARAMS}${SERVE_FLAGS:+, serve $SERVE_FLAGS}, load $load"
