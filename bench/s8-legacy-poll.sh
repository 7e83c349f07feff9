#!/usr/bin/env bash
# Issue 23's scenario: the legacy polling client on both databases, side by
# side in one run. JOBS jobs through the legacy `POST /api/generate-config`
# from C clients, each polling `GET /api/job-status/{id}` every POLL until
# its job is done (`netsmith loadtest --api legacy --poll`), against one
# `serve --role all` (WORKERS model calls at once, no queue limit) whose
# upstream is fake-anthropic answering at once. Every intent is distinct.
#
# SQLite and PostgreSQL alternate in the same run, same binary, ROUNDS times
# (their order swapped each round); with BEFORE=<commit> (default 971f1e7,
# before issue 23's work; BEFORE= skips it) that commit's serve runs the same
# rounds beside HEAD's, driven by HEAD's loadtest. Figures per run: jobs/s,
# submit and end-to-end p50/p99, serve's peak RSS (VmHWM), the database
# transactions and round trips per job from serve's /metrics
# (netsmith_db_transactions_total, netsmith_db_round_trips_total: a commit
# without them shows n/a), polls per job, and on PostgreSQL the
# xact_commit + xact_rollback of pg_stat_database per job from serve's start
# to its stop (start-up and migrations included: the only count an old
# commit has). Then one table of the means per commit and database, with
# PostgreSQL's rate and submit p99 against SQLite's.
#
# BUDGET=1 gives the clients an admin key of department "net", which has a
# budget (limits far above what the run spends, warnings at 80 %): every
# submission then reserves its estimate and takes its key's hold in its
# transaction, as a deployment with budgets does (scenario
# s8-legacy-poll-budget-<db>).
#
# WARM=N first runs N jobs through the same serve, unmeasured, then the
# measured JOBS from job N on (loadtest --first N: no intent of the warm-up
# comes back, so the template cache helps neither run): the steady state
# of a server that has been up a while, where without it each run is its
# server's first seconds (every PostgreSQL connection new, its statements
# not yet prepared or planned, Go's heap still growing). pg_stat_database's
# count then covers the warm-up too, so it is per warm-up and measured job.
# The scenario's name gains -warm, and -c<C> when C is not 50.
#
# What bounds it: a job not done at its first poll holds its client at
# least one POLL, so C clients finish at most about C / (POLL + submit
# time) jobs/s (under 500/s at C=50, POLL=100ms) whatever the server does;
# the script prints that bound. Raise C or lower POLL to look past it.
#   [JOBS=1000] [C=50] [POLL=100ms] [WORKERS=50] [ROUNDS=2] [BEFORE=971f1e7] [BUDGET=1] [WARM=0] bash bench/s8-legacy-poll.sh
source "$(dirname "$0")/lib.sh"
JOBS=${JOBS:-1000}
C=${C:-50}
POLL=${POLL:-100ms}
WORKERS=${WORKERS:-50}
ROUNDS=${ROUNDS:-2}
BEFORE=${BEFORE-971f1e7}
BUDGET=${BUDGET:-}
WARM=${WARM:-0}
scenario=s8-legacy-poll${BUDGET:+-budget}
[ "$WARM" -gt 0 ] && scenario=$scenario-warm
[ "$C" != 50 ] && scenario=$scenario-c$C

load=$(loadavg)
HEAD_BIN=$BIN
if [ -n "$BEFORE" ]; then
	BEFORE_BIN=$WORK/netsmith-before
	BIN=$BEFORE_BIN COMMIT=$BEFORE build
	BEFORE_REV=$BUILD_REV
fi
build
HEAD_REV=$BUILD_REV
start_fake --latency 0

poll_s=$(python3 -c "import re,sys; m=re.fullmatch(r'([0-9.]+)(ms|s)', '$POLL'); print(float(m[1]) / (1000 if m[2] == 'ms' else 1))")
pg_xacts() { psql -h 127.0.0.1 -U postgres -tAc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$1'"; }

# one BUILD DB ROUND: one run; appends a JSON line to $WORK/runs.jsonl.
n=0
one() {
	local build=$1 db=$2 round=$3 bin rev url pgdb="" x0=0 x1=0 xact=null
	n=$((n + 1))
	if [ "$build" = before ]; then bin=$BEFORE_BIN rev=$BEFORE_REV; else bin=$HEAD_BIN rev=$HEAD_REV; fi
	if [ "$db" = postgres ]; then
		pgdb="netsmith_bench_$$_$n"
		psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $pgdb"
		BENCH_DB=$pgdb # lib.sh's cleanup drops it if the run dies here
		url="postgres://postgres@127.0.0.1:5432/$pgdb?sslmode=disable"
		x0=$(pg_xacts "$pgdb")
	else
		url="sqlite://$WORK/s8-$n.db"
	fi
	local key=""
	if [ -n "$BUDGET" ]; then
		key=$("$bin" keys create --db "$url" --name bench --department net --role admin 2>/dev/null | tail -n1)
	fi
	BIN=$bin start_serve "s8_$n" --db "$url" --role all --provider anthropic --concurrency "$WORKERS" --max-queue 0
	local addr_var="ADDR_s8_$n" pid_var="PID_s8_$n"
	local addr=${!addr_var} pid=${!pid_var}
	if [ -n "$BUDGET" ]; then
		"$bin" budget net --set --daily 100000 --monthly 1000000 --warn-pct 80 --server "http://$addr" --api-key "$key" >/dev/null
	fi
	if [ "$WARM" -gt 0 ]; then
		BIN=$HEAD_BIN run_loadtest --server "http://$addr" ${key:+--api-key "$key"} --api legacy --poll --poll-interval "$POLL" -n "$WARM" -c "$C" --timeout 10m >"$WORK/warm-$n.txt"
	fi
	BIN=$HEAD_BIN run_loadtest --server "http://$addr" ${key:+--api-key "$key"} --api legacy --poll --poll-interval "$POLL" -n "$JOBS" --first "$WARM" -c "$C" --timeout 10m >"$WORK/run-$n.txt"
	local res rss
	res=$(loadtest_json "$WORK/lt.out")
	rss=$(mem_mb "$pid" VmHWM)
	stop_pid "$pid"
	if [ -n "$pgdb" ]; then
		# A backend reports its counts when it ends at the latest: serve
		# has stopped, so they are all in.
		sleep 0.5
		x1=$(pg_xacts "$pgdb")
		xact=$(python3 -c "print(round(($x1 - $x0) / ($JOBS + $WARM), 2))")
		psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null
		BENCH_DB=""
	fi
	jq -c --arg build "$build" --arg rev "$rev" --arg db "$db" --argjson round "$round" --argjson rss "$rss" --argjson xact "$xact" \
		'{build: $build, rev: $rev, db: $db, round: $round, rss_mb: $rss, pg_xacts_per_job: $xact} + .' <<<"$res" >>"$WORK/runs.jsonl"
	echo "round $round $build ($rev) $db: $(jq -r '"\(.jobs_per_second | round) jobs/s, submit p99 \(.submit_p99_ms | round) ms, \(.ok)/\(.jobs) ok"' <<<"$res")" >&2
}

dbs=(sqlite postgres)
for round in $(seq 1 "$ROUNDS"); do
	order=("${dbs[@]}")
	[ $((round % 2)) = 0 ] && order=(postgres sqlite)
	for db in "${order[@]}"; do
		[ -n "$BEFORE" ] && one before "$db" "$round"
		one head "$db" "$round"
	done
done

# The table: each run, then the means per commit and database; and one
# results.tsv row per commit and database: PostgreSQL's rate against
# SQLite's in the same run (target: at least 1), SQLite's against the
# client's bound.
python3 - "$WORK/runs.jsonl" "$C" "$poll_s" "$POLL" "$ROUNDS" "$load" "$WORK/records.tsv" "$scenario" "$BUDGET" "$WARM" <<'PY'
import json, sys, statistics as st
runs = [json.loads(l) for l in open(sys.argv[1])]
c, poll, poll_arg, rounds, load, records, scenario, budget, warm = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8], sys.argv[9], int(sys.argv[10])
def f(v, d=1):
    return "n/a" if v is None else f"{v:.{d}f}"
print("commit     db        round  jobs/s  submit p50/p99 ms  e2e p50/p99 ms  RSS MB  tx/job (explicit)  round trips/job  polls/job  pg xact/job")
def row(r, label):
    tx = f"{f(r.get('db_transactions_per_job'), 2)} ({f(r.get('db_explicit_transactions_per_job'), 2)})" if r.get("db_transactions_per_job") is not None else "n/a"
    print(f"{r['rev']:<10} {r['db']:<9} {label:<6} {r['jobs_per_second']:>6.0f}  {r['submit_p50_ms']:>6.1f} / {r['submit_p99_ms']:<8.1f}  "
          f"{r['e2e_p50_ms']:>5.0f} / {r['e2e_p99_ms']:<6.0f}  {r['rss_mb']:>6.1f}  {tx:<17}  {f(r.get('db_round_trips_per_job'), 2):>15}  "
          f"{r['polls_per_job']:>9.2f}  {f(r.get('pg_xacts_per_job'), 2):>11}")
for r in runs:
    row(r, str(r["round"]))
print("means:")
means = {}
for build in ("before", "head"):
    for db in ("sqlite", "postgres"):
        rs = [r for r in runs if r["build"] == build and r["db"] == db]
        if not rs:
            continue
        m = {"rev": rs[0]["rev"], "db": db, "build": build, "ok_all": all(r["ok"] == r["jobs"] for r in rs)}
        for k in rs[0]:
            vals = [r.get(k) for r in rs]
            if k not in m and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                m[k] = st.mean(vals)
        pools = {}
        for r in rs:
            for name, p in (r.get("db_pools") or {}).items():
                pools.setdefault(name, []).append(p)
        m["pools"] = {name: {k: st.mean(p[k] for p in ps) for k in ps[0]} for name, ps in sorted(pools.items())}
        means[(build, db)] = m
        row(m, "mean")
for build in ("before", "head"):
    s, p = means.get((build, "sqlite")), means.get((build, "postgres"))
    if s and p:
        print(f"{p['rev']}: PostgreSQL/SQLite jobs/s {p['jobs_per_second'] / s['jobs_per_second']:.2f}, "
              f"submit p99 {p['submit_p99_ms'] / s['submit_p99_ms']:.2f}")
sp50 = st.mean(r["submit_p50_ms"] for r in runs) / 1000
bound = c / (poll + sp50)
print(f"client bound: {c} clients polling every {poll * 1000:.0f} ms finish at most about "
      f"{c} / ({poll * 1000:.0f} + {sp50 * 1000:.0f}) ms = {bound:.0f} jobs/s")
with open(records, "w") as out:
    for (build, db), m in means.items():
        r2 = lambda v: f(v, 2)
        pools = ", ".join(f"{name} {p['transactions_per_job']:.2f} tx {p['round_trips_per_job']:.2f} rt" for name, p in m["pools"].items())
        note = (f"{db}, {build} ({m['rev']}), mean of {rounds} rounds of {m['jobs']:.0f} legacy jobs{f' (each after {warm} unmeasured through the same serve)' if warm else ''}, {c} clients polling every {poll_arg}{' with a budget and a key' if budget else ''}: "
                f"submit p50 {m['submit_p50_ms']:.1f} / p99 {m['submit_p99_ms']:.1f} ms, e2e p50 {m['e2e_p50_ms']:.0f} / p99 {m['e2e_p99_ms']:.0f} ms, "
                f"peak RSS {m['rss_mb']:.1f} MB, {r2(m.get('db_transactions_per_job'))} transactions/job ({r2(m.get('db_explicit_transactions_per_job'))} explicit), "
                f"{r2(m.get('db_round_trips_per_job'))} round trips/job{' (' + pools + ')' if pools else ''}, {m['polls_per_job']:.2f} polls/job"
                + (f", pg_stat_database {m['pg_xacts_per_job']:.2f} xacts/job (start to stop)" if m.get("pg_xacts_per_job") else "")
                + ("" if m["ok_all"] else ", NOT ALL JOBS OK") + f", load {load}")
        if db == "postgres" and (build, "sqlite") in means:
            other = means[(build, "sqlite")]["jobs_per_second"]
            limit, ratio = f"{other:.0f} jobs/s (SQLite)", m["jobs_per_second"] / other
        else:
            limit, ratio = f"{bound:.0f} jobs/s (client bound)", m["jobs_per_second"] / bound
        print("\t".join([m["rev"], f"{scenario}-{db}", f"{m['jobs_per_second']:.0f} jobs/s", limit, f"{ratio:.3f}", note]), file=out)
PY
echo "load average before: $load, after: $(loadavg)"
while IFS=$'\t' read -r rev scenario figure limit ratio note; do
	BUILD_REV=$rev record "$scenario" "$figure" "$limit" "$ratio" "$note"
done <"$WORK/records.tsv"
