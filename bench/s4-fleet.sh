#!/usr/bin/env bash
# Issue 7, scenario 4: a fleet. DEVICES devices over INTENTS intents from a
# CSV fleet file, embedded `netsmith batch` (SQLite) against fake-anthropic
# with LAT seconds of latency and WORKERS workers (extends fleet.sh).
#   run 1: a fresh database. Want exactly INTENTS upstream calls (one per
#          intent; the other devices are cache hits or coalesce on the
#          intent's first call).
#   run 2: the same fleet on the same database: every template is cached,
#          no upstream call is made, so its wall time is "render, lint and
#          write DEVICES configs" plus the queue's own overhead.
# Limit of run 1: 2 × LAT (the intents' calls, allowing a second round)
# plus run 2's wall time. A CPU profile of run 2 (PROFILE=1) shows what
# the render-lint-write part spends its time on.
#   [DEVICES=10000] [INTENTS=50] [LAT=2.5] [WORKERS=100] [PROFILE=1] bash bench/s4-fleet.sh
source "$(dirname "$0")/lib.sh"
DEVICES=${DEVICES:-10000}
INTENTS=${INTENTS:-50}
LAT=${LAT:-2.5}
WORKERS=${WORKERS:-100}
PROFILE=${PROFILE:-1}
build
start_fake --latency "${LAT}s"
intents_fleet_csv "$DEVICES" "$INTENTS" "$WORK/fleet.csv"
load=$(loadavg)

# run_batch N [ARGS…]: one embedded batch into $WORK/outN; sets WALL
# (seconds, as the user sees it: start-up and migration included). With
# PPROF_ADDR set (and --pprof PPROF_ADDR in ARGS) it profiles the run.
run_batch() {
	local n=$1; shift
	local t0 t1
	t0=$(date +%s.%N)
	ANTHROPIC_API_KEY=bench-key ANTHROPIC_BASE_URL="$FAKE_URL" "$BIN" batch "$WORK/fleet.csv" --out "$WORK/out$n" \
		--db "sqlite://$WORK/s4.db" --provider anthropic --concurrency "$WORKERS" --progress-every 5s "$@" \
		2>"$WORK/batch$n.log" &
	local pid=$!
	PIDS+=("$pid")
	if [ -n "${PPROF_ADDR:-}" ]; then
		profile_bg "$PPROF_ADDR" 0.5 "${PROF_SECONDS:-5}" "$WORK/s4.pprof"
	fi
	local rc=0
	wait "$pid" || rc=$?
	t1=$(date +%s.%N)
	stop_pid "$pid"
	cat "$WORK/batch$n.log"
	[ "$rc" = 0 ] || { echo "batch run $n failed ($rc)" >&2; exit 1; }
	WALL=$(python3 -c "print(round($t1 - $t0, 2))")
}

run_batch 1
wall1=$WALL
calls1=$(fake_stat requests)
sum1=$(cat "$WORK/out1/summary.json")
prof=()
if [ "$PROFILE" = 1 ]; then
	PPROF_ADDR=127.0.0.1:$(free_port)
	prof=(--pprof "$PPROF_ADDR")
fi
run_batch 2 "${prof[@]}"
wall2=$WALL
[ "$PROFILE" = 1 ] && wait "$PROFILE_PID"
calls2=$(( $(fake_stat requests) - calls1 ))
sum2=$(cat "$WORK/out2/summary.json")
files1=$(find "$WORK/out1" -name '*.cfg' | wc -l)
files2=$(find "$WORK/out2" -name '*.cfg' | wc -l)
limit=$(python3 -c "print(round(2 * $LAT + $wall2, 2))")
ratio=$(python3 -c "print(round($limit / $wall1, 3))")
for n in 1 2; do
	s=$([ $n = 1 ] && echo "$sum1" || echo "$sum2")
	echo "run $n: $(jq -c '{succeeded, llm_calls, cache_hits, coalesced, fallbacks, failed: (.failed | length), files, wall_seconds}' <<<"$s")"
done
echo "run 1 (fresh): wall ${wall1}s, upstream calls $calls1 (want $INTENTS), $files1 configs"
echo "run 2 (cached): wall ${wall2}s, upstream calls $calls2 (want 0), $files2 configs = render, lint and write + queue"
echo "limit 2 × ${LAT}s + ${wall2}s = ${limit}s; ratio limit/wall $ratio"
if [ "$PROFILE" = 1 ]; then
	echo "--- run 2 CPU profile (${PROF_SECONDS:-5} s from 0.5 s after start)"
	profile_top "$WORK/s4.pprof"
fi
record s4-fleet "${wall1}s" "${limit}s (2×${LAT}s + cached rerun ${wall2}s)" "$ratio" \
	"embedded SQLite, $DEVICES devices over $INTENTS intents, $WORKERS workers, ${LAT}s upstream; run 1 $calls1 upstream calls, $files1 configs, summary wall $(jq -r .wall_seconds <<<"$sum1")s; run 2 (all cached) ${wall2}s, $calls2 calls, $files2 configs; load $load"
