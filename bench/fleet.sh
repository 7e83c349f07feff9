#!/usr/bin/env bash
# Issue 4 scenario: a fleet of 5,000 devices over 50 intents, embedded
# batch, fake Anthropic with 1 s latency, 100 workers. One upstream call per
# intent is the target; the wall time is compared with the upstream's own
# latency budget (50 calls, 100 at a time: one round of LATENCY).
#   bash bench/fleet.sh [DEVICES] [INTENTS] [LATENCY_SECONDS] [WORKERS]
# OUTROOT=/dev/shm writes the configs to memory (the database stays on
# disk). On ext4, creating a file scans the inodes deleted in the last
# minute or more (recently_deleted() in the kernel), so a run that follows
# the deletion of an earlier run's 5,000 files (this script's own cleanup)
# pays about 0.5 ms of kernel time per config file: about 2.5 s here.
source "$(dirname "$0")/lib.sh"
DEVICES=${1:-5000}
INTENTS=${2:-50}
LAT=${3:-1}
WORKERS=${4:-100}
build
start_fake --latency "${LAT}s"
intents_fleet_csv "$DEVICES" "$INTENTS" "$WORK/fleet.csv"
OUTDIR="$WORK/out"
if [ -n "${OUTROOT:-}" ]; then
	OUTDIR=$(mktemp -d "$OUTROOT/netsmith-out.XXXXXX")
	trap 'rm -rf "$OUTDIR"; cleanup' EXIT
fi
start=$(date +%s.%N)
ANTHROPIC_API_KEY=bench-key ANTHROPIC_BASE_URL="$FAKE_URL" "$BIN" batch "$WORK/fleet.csv" --out "$OUTDIR" \
	--db "sqlite://$WORK/b.db" --provider anthropic --concurrency "$WORKERS" --poll-interval 200ms --progress-every 5s
end=$(date +%s.%N)
calls=$(curl -s "$FAKE_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
rounds=$(( (INTENTS + WORKERS - 1) / WORKERS ))
budget=$(python3 -c "print($rounds * $LAT)")
wall=$(python3 -c "print(round($end - $start, 1))")
echo "devices $DEVICES, intents $INTENTS, upstream calls $calls, wall ${wall}s, upstream budget ${budget}s"
record fleet "${wall}s" "${budget}s" "$(python3 -c "print(round($budget / ($end - $start), 3))")" \
	"embedded SQLite, $DEVICES devices over $INTENTS intents, $calls upstream calls, ${LAT}s latency, $WORKERS workers, out in ${OUTROOT:-$WORK}"
