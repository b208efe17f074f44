#!/bin/bash
# SPDX-License-Identifier: MIT
#
# soak.sh HEAPTRACE REL_WORK - a long run of heaptrace against a workload
# with steady churn and slowly growing live memory (`rel_work soak`:
# ~20,000 malloc/free pairs and 100 kept blocks a second), attached with
# periodic JSON snapshots (-f json -o DIR -i 10). Every SOAK_SAMPLE seconds
# it samples heaptrace's RSS and open descriptors, then checks:
#
#   - RSS bounded: after the first snapshot, heaptrace's RSS grows by at
#     most SOAK_BYTES_PER_BLOCK (100) bytes per live block gained, plus
#     SOAK_SLACK_KB (4096) KiB;
#   - descriptors: the same count at every sample after the first snapshot;
#   - snapshots: one per interval, numbered without gaps, each a complete
#     JSON report, and the final report;
#   - zero lost events;
# and prints the sustained event rate (allocations + frees per second).
#
# Environment: SOAK_SECONDS (600), SOAK_INTERVAL (snapshot period, 10),
# SOAK_SAMPLE (10), SOAK_BYTES_PER_BLOCK (100), SOAK_SLACK_KB (4096),
# SOAK_KEEP=1 keeps the work directory. Needs root. Exit 0 if every check
# passes, 1 otherwise.
set -u

HT=${1:?usage: soak.sh HEAPTRACE REL_WORK}
WORK=${2:?usage: soak.sh HEAPTRACE REL_WORK}
DURATION=${SOAK_SECONDS:-600}
INTERVAL=${SOAK_INTERVAL:-10}
SAMPLE=${SOAK_SAMPLE:-10}
PER_BLOCK=${SOAK_BYTES_PER_BLOCK:-100}
SLACK_KB=${SOAK_SLACK_KB:-4096}

dir=$(mktemp -d /tmp/heaptrace-soak-XXXXXX) || exit 1
wpid= hpid= failed=0

cleanup() {
	[ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null
	[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null
	wait 2>/dev/null
	if [ "${SOAK_KEEP:-}" ]; then
		echo "soak: outputs kept in $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "soak: FAIL: $*"
	failed=1
}

# Wait up to $3 seconds for file $1 to contain $2.
wait_for() {
	local end=$((SECONDS + $3))

	until grep -q -- "$2" "$1" 2>/dev/null; do
		[ $SECONDS -ge "$end" ] && return 1
		sleep 0.1
	done
}

# The first "key": N of a JSON report (totals come before the stacks).
json_int() {
	grep -o "\"$2\": [0-9]*" "$1" 2>/dev/null | head -1 | grep -o '[0-9]*$'
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Open descriptors: the least of three looks 50 ms apart, so that a
# snapshot being written (a temporary file open for a moment) is not
# taken for a leak.
fd_count() {
	local n min=

	for _ in 1 2 3; do
		n=$(ls "/proc/$1/fd" 2>/dev/null | wc -l)
		if [ -z "$min" ] || [ "$n" -lt "$min" ]; then min=$n; fi
		sleep 0.05
	done
	echo "$min"
}

# The newest periodic snapshot.
latest_snapshot() {
	ls "$dir"/snap/heaptrace-*-[0-9]*.json 2>/dev/null | sort | tail -1
}

# The workload: stdin from a FIFO we keep open, messages on fd 3.
mkfifo "$dir/in"
exec {hold}<>"$dir/in"
"$WORK" soak <"$dir/in" 3>"$dir/work.fd3" {hold}>&- &
wpid=$!
wait_for "$dir/work.fd3" ready 10 || { echo "soak: the workload did not start"; exit 1; }

"$HT" -f json -o "$dir/snap" -i "$INTERVAL" -p "$wpid" >"$dir/heaptrace.out" \
	2>"$dir/heaptrace.err" {hold}>&- &
hpid=$!
wait_for "$dir/heaptrace.err" attached 60 || {
	echo "soak: heaptrace did not attach:"; cat "$dir/heaptrace.err"; exit 1; }
start=$SECONDS
echo "soak: heaptrace PID $hpid attached to rel_work PID $wpid for ${DURATION}s" \
	"(snapshots every ${INTERVAL}s, samples every ${SAMPLE}s)"

# Samples, half an interval off the snapshots.
sleep $((SAMPLE / 2))
printf '%8s %10s %6s %10s %10s\n' time_s rss_kb fds snapshots live_blocks
base_rss= base_live= base_fds= n=0
while :; do
	t=$((SECONDS - start))
	kill -0 "$hpid" 2>/dev/null || { fail "heaptrace died at ${t}s"; break; }
	rss=$(rss_kb "$hpid")
	fds=$(fd_count "$hpid")
	snap=$(latest_snapshot)
	nsnap=$(ls "$dir"/snap/heaptrace-*-[0-9]*.json 2>/dev/null | wc -l)
	live=$( [ -n "$snap" ] && json_int "$snap" live_blocks)
	live=${live:-0}
	printf '%8d %10d %6d %10d %10d\n' "$t" "$rss" "$fds" "$nsnap" "$live"
	echo "$t $rss $fds $nsnap $live" >>"$dir/samples"
	# Baselines once a snapshot has been written: the first report opens
	# the modules' debug information for good and sizes its buffers.
	if [ -z "$base_rss" ] && [ "$nsnap" -ge 1 ]; then
		base_rss=$rss base_live=$live base_fds=$fds
	fi
	[ -n "$base_fds" ] && [ "$fds" != "$base_fds" ] &&
		fail "descriptors changed: $base_fds -> $fds at ${t}s"
	n=$((n + 1))
	[ $((SECONDS - start + SAMPLE)) -gt "$DURATION" ] && break
	sleep $((SAMPLE - 1))
done
last_rss=$rss last_live=$live

# Stop heaptrace (its final report), then the workload.
kill -INT "$hpid"
wait "$hpid"
code=$?
hpid=
elapsed=$((SECONDS - start))
exec {hold}>&-
wait "$wpid"
wpid=
[ "$code" = 0 ] || fail "heaptrace exited with $code: $(cat "$dir/heaptrace.err")"

# RSS: bounded by the growth of the live blocks.
if [ -n "$base_rss" ]; then
	grow_kb=$((last_rss - base_rss))
	allow_kb=$(((last_live - base_live) * PER_BLOCK / 1024 + SLACK_KB))
	echo "soak: RSS ${base_rss} -> ${last_rss} KiB (+${grow_kb} KiB) while live blocks" \
		"went ${base_live} -> ${last_live}; allowed +${allow_kb} KiB"
	[ "$grow_kb" -le "$allow_kb" ] || fail "RSS grew by ${grow_kb} KiB, more than ${allow_kb} KiB"
else
	fail "no snapshot was written during the run"
fi

# Snapshots: one per interval, numbered 1..N without gaps, complete.
nsnap=$(ls "$dir"/snap/heaptrace-*-[0-9]*.json 2>/dev/null | wc -l)
want=$((elapsed / INTERVAL))
echo "soak: $nsnap snapshots in ${elapsed}s (expected $want or $((want - 1)))"
[ "$nsnap" -ge $((want - 1)) ] && [ "$nsnap" -le "$want" ] ||
	fail "$nsnap snapshots in ${elapsed}s, expected about $want"
i=0
for f in $(ls "$dir"/snap/heaptrace-*-[0-9]*.json | sort); do
	i=$((i + 1))
	case "$f" in
	*-$(printf '%06d' "$i").json) ;;
	*) fail "snapshot $i is missing (found $f)"; break ;;
	esac
	tail -c 3 "$f" | grep -q '}' || fail "$f is not a complete report"
	json_int "$f" version >/dev/null || fail "$f has no version"
done
final=$(ls "$dir"/snap/heaptrace-*-final.json 2>/dev/null)
[ -n "$final" ] || fail "no final report"

# Losses and rate, from the final report.
if [ -n "$final" ]; then
	lost=$(json_int "$final" lost_events)
	allocs=$(json_int "$final" allocs)
	frees=$(json_int "$final" frees)
	live=$(json_int "$final" live_blocks)
	[ "$lost" = 0 ] || fail "$lost lost events"
	echo "soak: final report: $allocs allocations, $frees frees, $live live blocks," \
		"$lost lost events"
	echo "soak: sustained rate: $(((allocs + frees) / (elapsed > 0 ? elapsed : 1))) events/s" \
		"over ${elapsed}s"
fi

if [ "$failed" = 0 ]; then
	echo "soak: PASS"
	exit 0
fi
exit 1
