#!/usr/bin/env bash
# Issue 7, scenario 5: memory. On SQLite:
#   idle:   a fresh `serve` (role all, sim provider, default concurrency)
#           after IDLE seconds with nothing to do: VmRSS (target <= 100 MB).
#   queued: `serve --role api` (no workers) takes JOBS jobs as fleet
#           batches of BATCH devices over INTENTS intents (POST
#           /v1/batches, CSV); then its VmRSS with JOBS queued (target
#           <= 300 MB) and its VmHWM (peak while taking them).
#   drain:  a `serve --role worker` (sim provider, --sim-latency 0,
#           WORKERS workers) on the same file drains the queue; its VmHWM
#           is the worker's peak, and the drain rate is printed.
# RSS is read from /proc/PID/status of the netsmith processes this script
# started.
#   [JOBS=100000] [BATCH=10000] [INTENTS=100] [WORKERS=50] [IDLE=10] bash bench/s5-memory.sh
source "$(dirname "$0")/lib.sh"
JOBS=${JOBS:-100000}
BATCH=${BATCH:-10000}
INTENTS=${INTENTS:-100}
WORKERS=${WORKERS:-50}
IDLE=${IDLE:-10}
build
load=$(loadavg)

# queue_depth ADDR: queued + running + retrying, from GET /v1/queue.
queue_depth() {
	curl -s "http://$1/v1/queue" | jq -r '.depth | (.queued // 0) + (.running // 0) + (.retrying // 0)'
}

echo "--- idle: fresh serve, ${IDLE}s"
start_serve idle --db "sqlite://$WORK/idle.db" --provider sim
sleep "$IDLE"
idle_rss=$(mem_mb "$PID_idle" VmRSS)
idle_hwm=$(mem_mb "$PID_idle" VmHWM)
stop_pid "$PID_idle"
echo "idle serve: VmRSS ${idle_rss} MB, VmHWM ${idle_hwm} MB"

echo "--- queued: serve --role api takes $JOBS jobs in batches of $BATCH"
start_serve api --role api --db "sqlite://$WORK/s5.db" --provider sim --max-queue 0
api_start=$(mem_mb "$PID_api" VmRSS)
t0=$(date +%s.%N)
for ((b = 0; b * BATCH < JOBS; b++)); do
	n=$((JOBS - b * BATCH < BATCH ? JOBS - b * BATCH : BATCH))
	{
		echo "hostname,role,platform,os_version,site,requirements,var.mgmt_ip,var.mgmt_gateway,var.enable_secret"
		for ((i = b * BATCH; i < b * BATCH + n; i++)); do
			k=$((i % INTENTS))
			printf 'sw%06d,access,cisco_xe,17.9,site%d,"access switch variant %d, VLANs 10 20 99, SSH only",10.%d.%d.10/16,10.%d.0.1,vault:net/enable\n' \
				"$i" "$k" "$k" $((i / 62500)) $((i / 250 % 250)) $((i / 62500))
		done
	} >"$WORK/fleet.csv"
	code=$(curl -s -o "$WORK/batch.json" -w '%{http_code}' -X POST -H 'Content-Type: text/csv' \
		--data-binary "@$WORK/fleet.csv" "http://$ADDR_api/v1/batches?name=s5-$b")
	[ "$code" = 202 ] || { echo "batch $b: HTTP $code" >&2; cat "$WORK/batch.json" >&2; exit 1; }
done
t1=$(date +%s.%N)
sleep 2 # let the depth reading refresh
queued=$(queue_depth "$ADDR_api")
api_rss=$(mem_mb "$PID_api" VmRSS)
api_hwm=$(mem_mb "$PID_api" VmHWM)
submit_s=$(python3 -c "print(round($t1 - $t0, 1))")
echo "api: $queued jobs waiting after ${submit_s}s; VmRSS ${api_rss} MB (at start ${api_start} MB), VmHWM ${api_hwm} MB"
[ "$queued" = "$JOBS" ] || echo "WARNING: $queued jobs waiting, want $JOBS" >&2

echo "--- drain: serve --role worker, $WORKERS workers, sim 0s"
start_serve w --role worker --db "sqlite://$WORK/s5.db" --provider sim --sim-latency 0 --concurrency "$WORKERS"
t0=$(date +%s.%N)
w_start=$(mem_mb "$PID_w" VmRSS)
for ((s = 0; ; s++)); do
	d=$(queue_depth "$ADDR_api")
	[ "$d" = 0 ] && break
	((s % 10 == 0)) && echo "$(date +%T) waiting $d, worker VmRSS $(mem_mb "$PID_w" VmRSS) MB"
	sleep 1
done
t1=$(date +%s.%N)
w_hwm=$(mem_mb "$PID_w" VmHWM)
w_rss=$(mem_mb "$PID_w" VmRSS)
api_rss2=$(mem_mb "$PID_api" VmRSS)
drain_s=$(python3 -c "print(round($t1 - $t0, 1))")
rate=$(python3 -c "print(round($JOBS / ($t1 - $t0), 1))")
counts=$(curl -s "http://$ADDR_api/v1/queue" | jq -c '.depth')
succeeded=$(curl -s "http://$ADDR_w/metrics" |
	awk '/^netsmith_jobs_total\{/ && /status="succeeded"/ { n += $NF } END { printf "%d\n", n }')
echo "drained $JOBS in ${drain_s}s (${rate} jobs/s, read every second); $succeeded succeeded; unfinished $counts"
[ "$succeeded" = "$JOBS" ] || echo "WARNING: $succeeded of $JOBS jobs succeeded" >&2
echo "worker: VmHWM ${w_hwm} MB, VmRSS ${w_rss} MB at the end (${w_start} MB at start); api VmRSS ${api_rss2} MB after the drain"
echo "idle ${idle_rss} MB (target <= 100), api with $JOBS queued ${api_rss} MB (target <= 300), api peak ${api_hwm} MB, worker peak ${w_hwm} MB"
record s5-memory-idle "${idle_rss} MB" "100 MB" "$(python3 -c "print(round($idle_rss / 100, 3))")" \
	"SQLite, fresh serve --role all (sim, 50 workers) after ${IDLE}s idle, VmRSS; VmHWM ${idle_hwm} MB; load $load"
record s5-memory-queued "${api_rss} MB" "300 MB" "$(python3 -c "print(round($api_rss / 300, 3))")" \
	"SQLite, serve --role api with $queued jobs queued ($((JOBS / BATCH)) CSV batches of $BATCH over $INTENTS intents, ${submit_s}s), VmRSS; VmHWM ${api_hwm} MB; worker ($WORKERS, sim 0s) drained them in ${drain_s}s (${rate} jobs/s, $succeeded succeeded) with VmHWM ${w_hwm} MB; load $load"
