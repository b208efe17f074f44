#!/bin/bash
# make bench: heaptrace's cost per malloc+free pair next to bpftrace merely
# counting the same calls, measured interleaved in one run; then the
# user-space replay throughput and the model's memory per live block.
# Needs root. Usage: scripts/bench.sh [PAIRS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${1:-20000}
ROUNDS=${2:-5}
OUT=.output/bench
LIBC=$(ldconfig -p | awk '/libc.so.6 .*x86-64/ { print $NF; exit }')
mkdir -p "$OUT"

# bpftrace counting malloc entry, malloc return and free entry: the reference.
BT_PROG="uprobe:$LIBC:malloc { @a = count(); } uretprobe:$LIBC:malloc { @b = count(); } uprobe:$LIBC:free { @c = count(); }"

run() {  # config -> ns per pair (the workload measures its own loop)
	case "$1" in
	untraced) "$OUT/bench_loop" "$PAIRS" ;;
	bpftrace) bpftrace -q -e "$BT_PROG" -c "$OUT/bench_loop $PAIRS" 2>/dev/null | sed -n 1p ;;
	heaptrace-auto) ./heaptrace -- "$OUT/bench_loop" "$PAIRS" | sed -n 1p ;;
	heaptrace-fp) ./heaptrace --unwind fp -- "$OUT/bench_loop" "$PAIRS" | sed -n 1p ;;
	heaptrace-cfi) ./heaptrace --unwind cfi -- "$OUT/bench_loop" "$PAIRS" | sed -n 1p ;;
	deep30-fp) ./heaptrace --unwind fp -- "$OUT/bench_deep" "$PAIRS" | sed -n 1p ;;
	deep30-auto) ./heaptrace --unwind auto -- "$OUT/bench_deep" "$PAIRS" | sed -n 1p ;;
	deep30-cfi) ./heaptrace --unwind cfi -- "$OUT/bench_deep" "$PAIRS" | sed -n 1p ;;
	heaptrace-sampled) ./heaptrace --sample-bytes 65536 --seed 1 -- "$OUT/bench_loop" "$PAIRS" | sed -n 1p ;;
	esac
}

stats() {  # numbers on stdin -> "min median max"
	sort -g | awk '{ v[NR] = $1 } END { printf "%.1f %.1f %.1f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

CONFIGS="untraced bpftrace heaptrace-auto heaptrace-fp heaptrace-cfi deep30-fp deep30-auto deep30-cfi"
if ./heaptrace --help | grep -q -- --sample-bytes; then
	CONFIGS="$CONFIGS heaptrace-sampled"
fi
declare -A RES
echo "bench: $PAIRS malloc(64)+free pairs per run, $ROUNDS interleaved rounds"
for r in $(seq "$ROUNDS"); do
	for c in $CONFIGS; do
		v=$(run "$c")
		RES[$c]="${RES[$c]:-} $v"
		RES[$c.$r]=$v
	done
done

echo
printf "%-20s %10s %10s %10s   (ns per malloc+free pair)\n" config min median max
for c in $CONFIGS; do
	printf "%-20s %10s %10s %10s\n" "$c" $(tr ' ' '\n' <<<"${RES[$c]}" | grep . | stats)
done
echo
printf "%-28s %8s %8s %8s   (per-round ratio to bpftrace counting)\n" ratio min median max
for c in $CONFIGS; do
	case "$c" in heaptrace-*) ;; *) continue ;; esac
	ratios=""
	for r in $(seq "$ROUNDS"); do
		ratios="$ratios $(awk -v a="${RES[$c.$r]}" -v b="${RES[bpftrace.$r]}" 'BEGIN { printf "%.3f", a / b }')"
	done
	printf "%-28s %8s %8s %8s\n" "$c / bpftrace" $(tr ' ' '\n' <<<"$ratios" | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f %.3f %.3f", v[1], v[int((NR + 1) / 2)], v[NR] }')
done
# The unwinders on a 30-frame stack without frame pointers, per round.
for c in deep30-auto deep30-cfi; do
	ratios=""
	for r in $(seq "$ROUNDS"); do
		ratios="$ratios $(awk -v a="${RES[$c.$r]}" -v b="${RES[deep30-fp.$r]}" 'BEGIN { printf "%.3f", a / b }')"
	done
	printf "%-28s %8s %8s %8s\n" "$c / deep30-fp" $(tr ' ' '\n' <<<"$ratios" | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f %.3f %.3f", v[1], v[int((NR + 1) / 2)], v[NR] }')
done
echo "(bcc memleak: not measurable here - libbpf-tools 0.26 has none; memleak-bpfcc needs kernel headers)"

echo
# User space: replay a recorded stream through decoder, interning and model.
./heaptrace --unwind fp --record "$OUT/demo.rec" -- .output/demo >/dev/null
./heaptrace --unwind fp --record "$OUT/loop.rec" -- "$OUT/bench_loop" "$PAIRS" >/dev/null
echo -n "demo stream:   "; "$OUT/bench_replay" "$OUT/demo.rec"
echo -n "loop stream:   "; "$OUT/bench_replay" "$OUT/loop.rec"
"$OUT/bench_replay" --blocks 1000000

# heaptrace's own peak RSS while the target holds 1M live blocks, beyond
# its fixed base (the same run with no live blocks).
if [ -x /usr/bin/time ]; then
	base=$(/usr/bin/time -f %M ./heaptrace --unwind fp -- "$OUT/bench_loop" keep 0 2>&1 >/dev/null | tail -1)
	full=$(/usr/bin/time -f %M ./heaptrace --unwind fp -- "$OUT/bench_loop" keep 1000000 2>&1 >/dev/null | tail -1)
	echo "heaptrace peak RSS: $base KiB base, $full KiB with 1,000,000 live blocks:" \
		"$(( (full - base) * 1024 / 1000000 )) bytes per live block"
fi
