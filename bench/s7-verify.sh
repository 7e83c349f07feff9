#!/usr/bin/env bash
# Issue 17, scenario 7: what checking a batch's configs as one network
# costs. The campus example (284 devices, sim provider) is batched ROUNDS
# times with --verify=true and --verify=false alternating, each time on a
# new database (cold: every template is made) and on a warm one (every
# template cached: the batch only renders, lints, writes and verifies).
# Prints each run's wall_seconds and verify_seconds from summary.json and
# records the medians. No target: the checks should be a small share.
#   [ROUNDS=5] [FLEET=examples/campus.yaml] bash bench/s7-verify.sh
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
FLEET=${FLEET:-$ROOT/examples/campus.yaml}
build
load=$(loadavg)
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))" "$1" "$2"; }
"$BIN" batch "$FLEET" --out "$WORK/warmup" --db "sqlite://$WORK/warm.db" >/dev/null 2>&1
declare -A walls
for r in $(seq 1 "$ROUNDS"); do
	for mode in cold warm; do
		for v in true false; do
			db="$WORK/warm.db"
			if [ "$mode" = cold ]; then db="$WORK/cold-$r-$v.db"; fi
			out="$WORK/out-$mode-$v-$r"
			"$BIN" batch "$FLEET" --out "$out" --db "sqlite://$db" --verify=$v >/dev/null 2>&1
			w=$(field "$out/summary.json" wall_seconds)
			vs=$(field "$out/summary.json" verify_seconds)
			printf '%s verify=%s round %d: wall %.3f s, checks %.3f s\n' "$mode" "$v" "$r" "$w" "$vs"
			walls[$mode-$v]+="$w "
		done
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for mode in cold warm; do
	on=$(echo "${walls[$mode-true]}" | median)
	off=$(echo "${walls[$mode-false]}" | median)
	ratio=$(python3 -c "print(round($on/$off, 3))")
	echo "$mode: median wall $on s with the checks, $off s without (x$ratio)"
	record "s7-verify-$mode" "$on s" "$off s" "$ratio" "campus, $ROUNDS rounds alternating; load $load"
done
