#!/usr/bin/env bash
# Issue 20, scale-out: the multi-machine shape on one machine. nginx
# (least_conn, no buffering) in front of 2 `serve --role api`, and 1, 2 and
# 4 `serve --role worker` processes, all on one PostgreSQL database through
# one PgBouncer in transaction mode (`?pgbouncer=true`; Debian's, stock but
# for the port, trust auth, the pool mode and max_client_conn). `netsmith loadtest` drives
# JOBS_PER_WORKER × workers distinct jobs through nginx, each waited on over
# its SSE stream; the sim provider answers after LAT, so a worker process
# with CONC calls in flight can do at most CONC / LAT jobs/s, the limit each
# shape is measured against. Beside the rate: the most client connections
# PgBouncer held (the processes' pools) and the most server connections it
# opened to PostgreSQL (sampled every 0.5 s), which is what the database
# has to allow for that shape.
#   [SHAPES="1 2 4"] [JOBS_PER_WORKER=1500] [CONC=50] [LAT=1s] bash bench/scaleout.sh
source "$(dirname "$0")/lib.sh"
SHAPES=${SHAPES:-1 2 4}
JOBS_PER_WORKER=${JOBS_PER_WORKER:-1500}
CONC=${CONC:-50}
LAT=${LAT:-1s}
PGB=/usr/sbin/pgbouncer
NGINX=/usr/sbin/nginx
for b in "$PGB" "$NGINX"; do
	[ -x "$b" ] || { echo "needs $b (apt-get install pgbouncer nginx)" >&2; exit 2; }
done
build
new_pg_db
load=$(loadavg)

# PgBouncer refuses to run as root: as postgres, from a directory it reads.
chmod 755 "$WORK"
mkdir -p "$WORK/pgb" && chmod 755 "$WORK/pgb"
PGB_PORT=$(free_port)
cat >"$WORK/pgb/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=5432
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
pool_mode = transaction
auth_type = trust
auth_file = $WORK/pgb/userlist.txt
# Every process has a pool of its own (20 by default): (2 + workers) × 20
# clients, more than the stock 100 with 4 workers.
max_client_conn = 1000
EOF
echo '"postgres" ""' >"$WORK/pgb/userlist.txt"
chmod 644 "$WORK/pgb/"*
if [ "$(id -u)" = 0 ]; then
	runuser -u postgres -- "$PGB" "$WORK/pgb/pgbouncer.ini" 2>"$WORK/pgbouncer.log" &
else
	"$PGB" "$WORK/pgb/pgbouncer.ini" 2>"$WORK/pgbouncer.log" &
fi
PIDS+=($!)
for _ in $(seq 1 100); do
	grep -q "listening on 127.0.0.1:$PGB_PORT" "$WORK/pgbouncer.log" && break
	sleep 0.1
done
DB_URL="postgres://postgres@127.0.0.1:$PGB_PORT/$BENCH_DB?sslmode=disable&pgbouncer=true"

# peak_conns FILE: in the background, every 0.5 s, the client connections
# into PgBouncer and its server connections to PostgreSQL; sets PEAK_PID.
peak_conns() {
	(while :; do
		cl=$(ss -Htn state established "( dport = :$PGB_PORT )" | wc -l)
		sv=$(psql -h 127.0.0.1 -U postgres -Atc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$BENCH_DB' AND backend_type = 'client backend'" 2>/dev/null || echo 0)
		echo "$cl $sv"
		sleep 0.5
	done) >"$1" 2>/dev/null &
	PEAK_PID=$!
	PIDS+=("$PEAK_PID")
}

# start_nginx: nginx in front of the API processes, as deploy/ would run it.
start_nginx() {
	NGINX_PORT=$(free_port)
	mkdir -p "$WORK/nginx" && chmod 777 "$WORK/nginx"
	cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $WORK/nginx/body;
	proxy_temp_path $WORK/nginx/proxy;
	fastcgi_temp_path $WORK/nginx/fastcgi;
	uwsgi_temp_path $WORK/nginx/uwsgi;
	scgi_temp_path $WORK/nginx/scgi;
	upstream netsmith { least_conn; server $ADDR_api1; server $ADDR_api2; keepalive 64; }
	server {
		listen 127.0.0.1:$NGINX_PORT;
		location / {
			proxy_pass http://netsmith;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
			proxy_read_timeout 60s;
		}
	}
}
EOF
	"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e stderr 2>"$WORK/nginx.log" &
	NGINX_PID=$!
	PIDS+=("$NGINX_PID")
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null && return 0
		sleep 0.1
	done
	echo "nginx did not start" >&2; cat "$WORK/nginx.log" >&2; return 1
}

# launch_serve NAME ARGS…: starts `netsmith serve` without waiting, sets
# PID_<NAME>; await_serve NAME waits until it serves and sets ADDR_<NAME>.
launch_serve() {
	local name=$1; shift
	"$BIN" serve --listen 127.0.0.1:0 "$@" 2>"$WORK/$name.log" &
	PIDS+=($!)
	printf -v "PID_$name" '%s' "$!"
}
await_serve() {
	local addr
	for _ in $(seq 1 600); do
		addr=$(grep -o 'msg="netsmith serving" addr=[^ ]*' "$WORK/$1.log" 2>/dev/null | sed 's/.*addr=//' || true)
		[ -n "$addr" ] && { printf -v "ADDR_$1" '%s' "$addr"; return 0; }
		sleep 0.1
	done
	echo "serve $1 did not start" >&2; cat "$WORK/$1.log" >&2; return 1
}

# The processes log at info: "netsmith serving" is the line awaited.
common=(--db "$DB_URL" --provider sim --sim-latency "$LAT")
summary=()
for w in $SHAPES; do
	# A fresh schema for each shape: drop what the last one made.
	PGOPTIONS=--client-min-messages=warning psql -h 127.0.0.1 -U postgres -d "$BENCH_DB" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' >/dev/null
	peak_conns "$WORK/conns-$w.txt"
	# Every process at once on an empty database, as a deployment starts.
	names=(api1 api2)
	launch_serve api1 --role api --max-queue 0 "${common[@]}"
	launch_serve api2 --role api --max-queue 0 "${common[@]}"
	for i in $(seq 1 "$w"); do
		launch_serve "w$i" --role worker --concurrency "$CONC" "${common[@]}"
		names+=("w$i")
	done
	for n in "${names[@]}"; do await_serve "$n"; done
	start_nginx
	jobs=$((JOBS_PER_WORKER * w))
	run_loadtest --server "http://127.0.0.1:$NGINX_PORT" -n "$jobs" -c $((4 * CONC * w)) --wait sse --timeout 20m
	res=$(loadtest_json "$WORK/lt.out")
	stop_pid "$PEAK_PID"
	rate=$(echo "$res" | jq -r '.jobs_per_second * 10 | round / 10')
	ok=$(echo "$res" | jq -r '.ok')
	lat_s=$(python3 -c "s='$LAT'; print(float(s[:-2]) / 1000 if s.endswith('ms') else float(s.rstrip('s')))")
	limit=$(python3 -c "print(round($CONC * $w / $lat_s, 1))")
	ratio=$(python3 -c "print(round($rate / $limit, 3))")
	read -r cl sv < <(awk '$1 > c { c = $1 } $2 > s { s = $2 } END { print c + 0, s + 0 }' "$WORK/conns-$w.txt")
	line="$w worker(s): $ok/$jobs ok, $rate jobs/s against $limit ($ratio); PgBouncer peak $cl client connections, $sv server connections"
	echo "$line"
	summary+=("$line")
	record scaleout "$rate jobs/s" "$limit jobs/s" "$ratio" "nginx + 2 api + $w worker(s), PgBouncer transaction mode, sim $LAT, concurrency $CONC, $ok/$jobs ok, peak $cl client / $sv server connections, load $load"
	# This shape's processes, nginx first (it holds the streams).
	stop_pid "$NGINX_PID"
	for n in "${names[@]}"; do stop_pid "$(eval echo "\$PID_$n")"; done
done
printf '%s\n' "${summary[@]}"
