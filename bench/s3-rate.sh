#!/usr/bin/env bash
# Issue 7, scenario 3: an upstream rate limit is the ceiling. fake-anthropic
# answers after LAT seconds and allows RPM requests/min (--burst 1s: at
# most a second's worth at once, as strict as netsmith's own limiter);
# `serve --upstream-rpm RPM --concurrency CONC` (CONC / LAT above RPM / 60,
# so the limit, not the workers, binds), JOBS distinct jobs (one call
# each) driven by `netsmith loadtest`. Figures: the achieved rate against
# RPM/min, and the share of upstream calls answered 429 (target <= 1 %).
#   [DB=sqlite|postgres] [JOBS=5000] [RPM=4000] [CONC=256] [LAT=2.5] [LTC=512] bash bench/s3-rate.sh
source "$(dirname "$0")/lib.sh"
JOBS=${JOBS:-5000}
RPM=${RPM:-4000}
CONC=${CONC:-256}
LAT=${LAT:-2.5}
LTC=${LTC:-$((CONC * 2))}
build
use_db s3
start_fake --latency "${LAT}s" --rpm "$RPM" --burst 1s
load=$(loadavg)
start_serve s3 --db "$DB_URL" --provider anthropic --concurrency "$CONC" --upstream-rpm "$RPM" --max-queue 0
"$BIN" loadtest --server "http://$ADDR_s3" -n "$JOBS" -c "$LTC" --upstream-stats "$FAKE_URL" --timeout 30m | tee "$WORK/lt.out"
res=$(loadtest_json "$WORK/lt.out")
rss=$(mem_mb "$PID_s3" VmHWM)
stats=$(curl -s "$FAKE_URL/stats")
calls=$(jq -r '.requests' <<<"$stats")
okc=$(jq -r '.succeeded' <<<"$stats")
r429=$(jq -r '.rate_limited_429' <<<"$stats")
# The fewest requests the fake's bucket had left after admitting one (how
# close the run came to a 429; "?" for a fake that does not report it).
head=$(jq -r '.requests_headroom // "?"' <<<"$stats")
wall=$(jq -r ".wall_seconds | . * 10 | round / 10" <<<"$res")
ok=$(jq -r '.ok' <<<"$res")
# Each job is one successful call: the achieved upstream rate is theirs
# over the run's wall time (from the first submission to the last result).
rate=$(python3 -c "print(round($okc / $wall * 60, 1))")
ratio=$(python3 -c "print(round($okc / $wall * 60 / $RPM, 3))")
share=$(python3 -c "print(round(100 * $r429 / max($calls, 1), 2))")
ep50=$(jq -r '.e2e_p50_ms | round' <<<"$res"); ep99=$(jq -r '.e2e_p99_ms | round' <<<"$res")
ideal=$(python3 -c "print(round($JOBS / ($RPM / 60) + $LAT, 1))")
echo "achieved ${rate}/min against ${RPM}/min (ratio $ratio); wall ${wall}s (ideal ${ideal}s: JOBS at RPM plus one latency); upstream calls $calls, 429s $r429 (${share} %, target <= 1 %), least headroom $head requests; serve peak RSS ${rss} MB"
record s3-rate-${DB:-sqlite} "${rate}/min" "${RPM}/min" "$ratio" \
	"${DB:-sqlite}, $ok/$JOBS distinct jobs ok, ${LAT}s upstream limited to $RPM/min (burst 1s), --upstream-rpm $RPM, concurrency $CONC, $calls upstream calls, 429s $r429 (${share} %), least headroom $head requests, wall ${wall}s (ideal ${ideal}s), e2e p50/p99 ${ep50}/${ep99} ms, serve peak RSS ${rss} MB, load $load"
