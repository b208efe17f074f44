#!/bin/bash
# make bench, real programs: the wall-time slowdown (traced / untraced) of
# Debian's sqlite3, python3 and git on fixed inputs, under heaptrace (default,
# --unwind fp, --sample-bytes 64K), bpftrace counting the same calls, and
# heaptrack, in interleaved rounds in one run; and the events per second
# heaptrace's consumer took from each without loss.
# Needs root. Usage: scripts/bench_real.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-3}
OUT=$(pwd)/.output/bench
REPO=$(pwd)
LIBC=$(ldconfig -p | awk '/libc.so.6 .*x86-64/ { print $NF; exit }')
mkdir -p "$OUT"

# Fixed inputs: an SQL script, a Python script, the project's own history.
cat >"$OUT/real.sql" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
INSERT INTO t SELECT x, printf('name-%d-%s', x, hex(x * 7919)), x * 1.5 FROM c;
CREATE INDEX ti ON t(name);
SELECT count(*), sum(v) FROM t WHERE name LIKE 'name-1%';
SELECT substr(name, 1, 7) AS k, count(*) FROM t GROUP BY k ORDER BY 2 DESC LIMIT 3;
SQL
cat >"$OUT/real.py" <<'PY'
import json
rows = [{"id": i, "name": "row-%d" % i, "text": "x" * (i % 2000)} for i in range(2000)]
s = json.dumps(rows)
print(len(s), len(json.loads(s)))
PY
WORKLOADS="sqlite3 python3 git"
declare -A DESC=(
	[sqlite3]="sqlite3 :memory: '.read real.sql' (2,000 rows, index, queries)"
	[python3]="python3 real.py (json dumps+loads of 2,000 rows)"
	[git]="git log -p -n 20 (this repository)"
)

workload() {  # name, prefix words... : run the workload under the prefix
	local w=$1
	shift
	case "$w" in
	sqlite3) "$@" sqlite3 :memory: ".read $OUT/real.sql" ;;
	python3) "$@" /usr/bin/python3 "$OUT/real.py" ;;
	git) "$@" git -C "$REPO" log -p -n 20 ;;
	esac
}
# bpftrace -c takes one string (and no script): a wrapper per workload.
for w in $WORKLOADS; do
	{ echo '#!/bin/sh'; declare -f workload; echo "OUT=$OUT REPO=$REPO"; echo "workload $w exec"; } \
		>"$OUT/real-$w"
	chmod +x "$OUT/real-$w"
done

# bpftrace counting the entries and returns of the glibc functions heaptrace
# probes, and free.
FUNCS="malloc calloc realloc reallocarray posix_memalign aligned_alloc valloc pvalloc"
ENT="" RET=""
for f in $FUNCS; do
	ENT="$ENT${ENT:+,}uprobe:$LIBC:$f"
	RET="$RET${RET:+,}uretprobe:$LIBC:$f"
done
BT_PROG="$ENT { @e = count(); } $RET { @r = count(); } uprobe:$LIBC:free { @f = count(); }"

run() {  # config, workload: the wall time in seconds
	local c=$1 w=$2 t0 t1
	t0=$(date +%s%N)
	case "$c" in
	untraced) workload "$w" env ;;
	heaptrace) workload "$w" ./heaptrace --json "$OUT/real-$w.json" -- ;;
	heaptrace-fp) workload "$w" ./heaptrace --unwind fp -- ;;
	heaptrace-64K) workload "$w" ./heaptrace --sample-bytes 65536 -- ;;
	bpftrace) bpftrace -q -e "$BT_PROG" -c "/bin/sh $OUT/real-$w" ;;
	heaptrack) workload "$w" heaptrack -o "$OUT/real-$w.heaptrack" ;;
	esac >/dev/null 2>&1
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

CONFIGS="untraced heaptrace heaptrace-fp heaptrace-64K bpftrace heaptrack"
declare -A T EV
echo "real programs: $ROUNDS interleaved rounds, wall time of each run (start-up and attach included)"
for r in $(seq "$ROUNDS"); do
	for w in $WORKLOADS; do
		for c in $CONFIGS; do
			T[$w.$c.$r]=$(run "$c" "$w")
			rm -f "$OUT/real-$w.heaptrack"*
		done
		# the events heaptrace's consumer took per second of tracing, and the losses
		EV[$w.$r]=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]
print("%.0f %d %d" % ((t["allocs"] + t["frees"]) / r["duration_s"], t["allocs"] + t["frees"], t["lost_events"]))' "$OUT/real-$w.json")
	done
done

median() { sort -g | awk '{ v[NR] = $1 } END { printf "%s", v[int((NR + 1) / 2)] }'; }

echo
printf "%-8s %9s   %s\n" "" untraced "median of per-round ratios traced / untraced"
printf "%-8s %9s %10s %13s %14s %9s %10s %12s %7s\n" workload "s" heaptrace "heaptrace-fp" \
	"heaptrace-64K" bpftrace heaptrack "events/s" lost
for w in $WORKLOADS; do
	line=$(printf "%-8s %9s" "$w" "$(for r in $(seq "$ROUNDS"); do echo "${T[$w.untraced.$r]}"; done | median)")
	for c in heaptrace heaptrace-fp heaptrace-64K bpftrace heaptrack; do
		m=$(for r in $(seq "$ROUNDS"); do
			awk -v a="${T[$w.$c.$r]}" -v b="${T[$w.untraced.$r]}" 'BEGIN { printf "%.2f\n", a / b }'
		done | median)
		line="$line $(printf "%*s" $(( ${#c} > 9 ? ${#c} + 1 : 10 )) "${m}x")"
	done
	ev=$(for r in $(seq "$ROUNDS"); do echo "${EV[$w.$r]}"; done | sort -g | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }')
	lost=$(for r in $(seq "$ROUNDS"); do echo "${EV[$w.$r]}" | awk '{ print $3 }'; done | sort -g | tail -1)
	printf "%s %12s %7s\n" "$line" "$(awk '{ print $1 }' <<<"$ev")" "$lost"
done
for w in $WORKLOADS; do
	echo "  $w: ${DESC[$w]}; $(awk '{ print $2 }' <<<"${EV[$w.1]}") events per run"
done
echo "  (events/s: allocations + frees heaptrace recorded per second of tracing, default"
echo "   mode, median; lost: the most any round lost)"
