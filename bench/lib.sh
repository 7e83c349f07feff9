# Shared helpers for the bench/ scenarios: build the binary, start processes
# on loopback, stop exactly the PIDs this run started, append result rows.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/netsmith-bench.XXXXXX)
BIN="$WORK/netsmith"
RESULTS="$ROOT/bench/results.tsv"
PIDS=()

cleanup() {
	for pid in "${PIDS[@]:-}"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]:-}"; do
		[ -n "$pid" ] && wait "$pid" 2>/dev/null || true
	done
	[ -n "${BENCH_DB:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 || true
	if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# build: the binary of commit ${COMMIT:-HEAD}, from `git archive` into this
# run's directory, so that uncommitted edits in the shared working tree
# stay out of the figures; TREE=1 builds the working tree instead. SRC is
# the source built, BUILD_REV names it (for results.tsv). Each build has a
# source directory of its own, so a script may build two commits (with BIN
# set to another path for one of them).
build() {
	if [ -n "${TREE:-}" ]; then
		SRC=$ROOT
		BUILD_REV="$(git -C "$ROOT" rev-parse --short HEAD)+tree"
	else
		SRC=$(mktemp -d "$WORK/src.XXXXXX")
		git -C "$ROOT" archive "${COMMIT:-HEAD}" | tar -x -C "$SRC"
		BUILD_REV=$(git -C "$ROOT" rev-parse --short "${COMMIT:-HEAD}")
	fi
	(cd "$SRC" && go build -o "$BIN" ./cmd/netsmith)
	echo "built $BUILD_REV" >&2
}

# start_fake ARGS…: starts fake-anthropic, sets FAKE_URL and FAKE_PID.
start_fake() {
	"$BIN" fake-anthropic --listen 127.0.0.1:0 --log-level warn "$@" >"$WORK/fake.url" 2>"$WORK/fake.log" &
	PIDS+=($!)
	FAKE_PID=$!
	for _ in $(seq 1 100); do
		FAKE_URL=$(head -n1 "$WORK/fake.url" 2>/dev/null || true)
		[ -n "$FAKE_URL" ] && return 0
		sleep 0.1
	done
	echo "fake-anthropic did not start" >&2; cat "$WORK/fake.log" >&2; return 1
}

# start_serve NAME ARGS…: starts `netsmith serve`, sets ADDR_<NAME> and
# PID_<NAME>, and PPROF_<NAME> when ARGS has --pprof. Without start_fake
# first, pass --provider sim.
start_serve() {
	local name=$1; shift
	local want_pprof=""
	case " $* " in *" --pprof "*) want_pprof=1 ;; esac
	ANTHROPIC_API_KEY=bench-key ANTHROPIC_BASE_URL="${FAKE_URL:-http://127.0.0.1:9}" \
		"$BIN" serve --listen 127.0.0.1:0 "$@" 2>"$WORK/$name.log" &
	PIDS+=($!)
	printf -v "PID_$name" '%s' "$!"
	local addr pp
	for _ in $(seq 1 300); do
		addr=$(grep -o 'msg="netsmith serving" addr=[^ ]*' "$WORK/$name.log" 2>/dev/null | sed 's/.*addr=//' || true)
		pp=$(grep -o 'msg="pprof serving" addr=[^ ]*' "$WORK/$name.log" 2>/dev/null | sed 's/.*addr=//' || true)
		if [ -n "$addr" ] && { [ -z "$want_pprof" ] || [ -n "$pp" ]; }; then
			printf -v "ADDR_$name" '%s' "$addr"
			[ -n "$pp" ] && printf -v "PPROF_$name" '%s' "$pp"
			return 0
		fi
		sleep 0.1
	done
	echo "serve $name did not start" >&2; cat "$WORK/$name.log" >&2; return 1
}

# stop_pid PID: stops one process this run started, waits for it, and
# forgets it (so cleanup never signals a reused PID).
stop_pid() {
	local pid=$1 rest=() p
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && [ "$p" != "$pid" ] && rest+=("$p")
	done
	PIDS=("${rest[@]:-}")
}

# mem_mb PID FIELD: a /proc/PID/status memory field (VmRSS, VmHWM) in MB.
mem_mb() { awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# cpu_s PID: CPU seconds (user + system) a running process has used.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# run_loadtest ARGS…: runs `netsmith loadtest ARGS` and prints its output;
# sets LT_CPU to the CPU seconds it used (it shares the machine with the
# server it drives). Its failure (some jobs did not succeed) is not fatal:
# the figures say so. LT_BIN, when set, is the netsmith binary whose
# loadtest runs: one load generator for commits measured side by side.
run_loadtest() {
	local TIMEFORMAT='%U %S'
	{ time "${LT_BIN:-$BIN}" loadtest "$@" >"$WORK/lt.out" 2>"$WORK/lt.err"; } 2>"$WORK/lt.time" || true
	cat "$WORK/lt.out" "$WORK/lt.err"
	LT_CPU=$(awk 'END { printf "%.1f", $1 + $2 }' "$WORK/lt.time")
}

# phase_means ADDR: the mean time per job attempt of each phase of
# netsmith_job_phase_seconds on serve's /metrics, in ms, in a job's order
# ("queued 12.3, read 0.8, …"); empty for a commit without it.
phase_means() {
	curl -s "http://$1/metrics" | awk '
		/^netsmith_job_phase_seconds_sum\{/ { match($0, /phase="[a-z_]+"/); p = substr($0, RSTART + 7, RLENGTH - 8); sum[p] = $NF }
		/^netsmith_job_phase_seconds_count\{/ { match($0, /phase="[a-z_]+"/); p = substr($0, RSTART + 7, RLENGTH - 8); n[p] = $NF }
		END { k = split("queued gate read template wait call check render lint complete", order, " ")
			for (i = 1; i <= k; i++) { p = order[i]; if (n[p] > 0) printf "%s%s %.1f", (out++ ? ", " : ""), p, 1000 * sum[p] / n[p] }; if (out) print "" }'
}

# pool_waits ADDR: how often and how long work waited for a database
# connection, per pool, from serve's /metrics at ADDR ("main 120 waits
# 0.8 s, lazy 0 waits 0.0 s"; empty for a commit without these metrics).
pool_waits() {
	curl -s "http://$1/metrics" | awk '
		/^netsmith_db_pool_waits_total\{/ { match($0, /pool="[a-z_]+"/); p = substr($0, RSTART + 6, RLENGTH - 7); n[p] = $NF; if (!(p in seen)) { seen[p] = 1; order[++k] = p } }
		/^netsmith_db_pool_wait_seconds_total\{/ { match($0, /pool="[a-z_]+"/); p = substr($0, RSTART + 6, RLENGTH - 7); s[p] = $NF }
		END { for (i = 1; i <= k; i++) { p = order[i]; printf "%s%s %d waits %.1f s", (i > 1 ? ", " : ""), p, n[p], s[p] }; if (k) print "" }'
}

# loadavg: the 1, 5 and 15 minute load averages, for the notes (the
# machine is shared).
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# profile_bg ADDR DELAY SECONDS FILE: in the background, after DELAY
# seconds, takes a CPU profile of SECONDS from a --pprof ADDR; sets
# PROFILE_PID (wait for it, then profile_top FILE).
profile_bg() {
	(sleep "$2"; curl -s -o "$4" "http://$1/debug/pprof/profile?seconds=$3") &
	PROFILE_PID=$!
}

# profile_top FILE [N]: the N (default 25) heaviest functions of a profile,
# by flat and by cumulative time.
profile_top() {
	[ -s "$1" ] || { echo "(no profile)"; return 0; }
	local n=${2:-25}
	(cd "$ROOT" && go tool pprof -top -nodecount="$n" "$BIN" "$1" 2>/dev/null) | sed -n "5,$((n + 6))p"
	echo "--- by cumulative time"
	(cd "$ROOT" && go tool pprof -top -cum -nodecount="$n" "$BIN" "$1" 2>/dev/null) | sed -n "7,$((n + 6))p"
}

# pg_activity_bg DELAY SECONDS FILE: in the background, after DELAY
# seconds, samples what the bench database's sessions are running every
# 0.1 s for SECONDS (the database's side of a profile); sets PGACT_PID.
# pg_activity_top FILE prints the most frequent statements.
pg_activity_bg() {
	(sleep "$1"; echo "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || ' | ' || regexp_replace(left(query, 110), '\s+', ' ', 'g')
		FROM pg_stat_activity WHERE datname = '$BENCH_DB' AND state = 'active' AND pid <> pg_backend_pid(); \watch 0.1" |
		timeout "$2" psql -h 127.0.0.1 -U postgres -d "$BENCH_DB" -At >"$3" 2>/dev/null || true) &
	PGACT_PID=$!
}
pg_activity_top() {
	local samples
	samples=$(grep -c . "$1" || true)
	echo "$samples active-session samples; most frequent (wait event | statement):"
	grep -v '^$' "$1" | sort | uniq -c | sort -rn | head -n "${2:-12}"
}

# free_port: a loopback TCP port free right now, for a process that does
# not log its address (embedded batch logs at warn).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# loadtest_json FILE: the JSON line `netsmith loadtest` printed last.
loadtest_json() { grep '^{' "$1" | tail -n1; }

# fake_stat FIELD: a field of the fake's /stats.
fake_stat() { curl -s "$FAKE_URL/stats" | jq -r ".$1"; }

# new_pg_db: a fresh PostgreSQL database, URL in BENCH_PG.
new_pg_db() {
	BENCH_DB="netsmith_bench_$$"
	psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $BENCH_DB"
	BENCH_PG="postgres://postgres@127.0.0.1:5432/$BENCH_DB?sslmode=disable"
}

# use_db NAME: sets DB_URL for DB=sqlite (default: a file in this run's
# directory) or DB=postgres (a fresh database).
use_db() {
	case ${DB:-sqlite} in
	sqlite) DB_URL="sqlite://$WORK/$1.db" ;;
	postgres) new_pg_db; DB_URL="$BENCH_PG${PG_PARAMS:+&$PG_PARAMS}" ;; # PG_PARAMS: pool_max_conns=40, say
	*) echo "DB must be sqlite or postgres" >&2; return 2 ;;
	esac
}

# fleet_csv FILE N: N devices, each an intent of its own (distinct
# requirements), so that every device costs one upstream call.
fleet_csv() {
	local file=$1 n=$2
	{
		echo "hostname,role,platform,os_version,requirements,var.mgmt_ip,var.enable_secret"
		for i in $(seq 0 $((n - 1))); do
			printf 'sw%05d,access,cisco_xe,17.9,"access switch variant %d",10.%d.%d.10/16,vault:net/enable\n' \
				"$i" "$i" $((i / 250)) $((i % 250))
		done
	} >"$file"
}

# record SCENARIO FIGURE LIMIT RATIO NOTE: one row in bench/results.tsv
# (none with NORECORD=1, for trial runs).
record() {
	[ -z "${NORECORD:-}" ] || return 0
	[ -f "$RESULTS" ] || printf 'date\tcommit\tscenario\tfigure\tlimit\tratio\tnote\n' >"$RESULTS"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "${BUILD_REV:-?}" "$@" >>"$RESULTS"
}

# intents_fleet_csv DEVICES INTENTS FILE: a CSV fleet of DEVICES access
# switches, device i of intent i % INTENTS, each with its own management
# address (fleet_csv gives every device an intent of its own).
intents_fleet_csv() {
	local devices=$1 intents=$2
	{
		echo "hostname,role,platform,os_version,site,requirements,var.mgmt_ip,var.mgmt_gateway,var.enable_secret"
		for i in $(seq 0 $((devices - 1))); do
			k=$((i % intents))
			printf 'sw%05d,access,cisco_xe,17.9,site%d,"access switch variant %d, VLANs 10 20 99, SSH only",10.%d.%d.10/16,10.%d.0.1,vault:net/enable\n' \
				"$i" "$k" "$k" $((i / 250)) $((i % 250)) $((i / 250))
		done
	} >"$3"
}
