#!/bin/bash
# make bench: heaptrace's cost per malloc+free pair next to bpftrace merely
# counting the same calls, measured interleaved in one run (also: what
# session uprobes save, one vs two allocating threads); the user-space
# replay throughput and the model's memory per live block; attach and
# detach times; then real programs (scripts/bench_real.sh).
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
	heaptrace-auto) ./heaptrace --unwind auto -- "$OUT/bench_loop" "$PAIRS" | sed -n 1p ;;
	heaptrace-fp) ./heaptrace --unwind fp -- "$OUT/bench_loop" "$PAIRS" | sed -n 1p ;;
	heaptrace-cfi) ./heaptrace --unwind cfi -- "$OUT/bench_loop" "$PAIRS" | sed -n 1p ;;
	deep30-fp) ./heaptrace --unwind fp -- "$OUT/bench_deep" "$PAIRS" | sed -n 1p ;;
	deep30-auto) ./heaptrace --unwind auto -- "$OUT/bench_deep" "$PAIRS" | sed -n 1p ;;
	deep30-cfi) ./heaptrace --unwind cfi -- "$OUT/bench_deep" "$PAIRS" | sed -n 1p ;;
	heaptrace-sampled) ./heaptrace --sample-bytes 65536 --seed 1 -- "$OUT/bench_loop" "$PAIRS" | sed -n 1p ;;
	heaptrace-sampled-multi) HEAPTRACE_LINKS=multi ./heaptrace --sample-bytes 65536 --seed 1 \
		-- "$OUT/bench_loop" "$PAIRS" | sed -n 1p ;;
	untraced-2t) "$OUT/bench_loop" threads 2 "$PAIRS" ;;
	heaptrace-fp-2t) ./heaptrace --unwind fp -- "$OUT/bench_loop" threads 2 "$PAIRS" | sed -n 1p ;;
	bpftrace-2t) bpftrace -q -e "$BT_PROG" -c "$OUT/bench_loop threads 2 $PAIRS" 2>/dev/null | sed -n 1p ;;
	esac
}

stats() {  # numbers on stdin -> "min median max"
	sort -g | awk '{ v[NR] = $1 } END { printf "%.1f %.1f %.1f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

CONFIGS="untraced bpftrace heaptrace-auto heaptrace-fp heaptrace-cfi heaptrace-sampled
heaptrace-sampled-multi untraced-2t bpftrace-2t heaptrace-fp-2t deep30-fp deep30-auto deep30-cfi"
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
	case "$c" in heaptrace-*-2t) ref=bpftrace-2t ;; heaptrace-*) ref=bpftrace ;; *) continue ;; esac
	ratios=""
	for r in $(seq "$ROUNDS"); do
		ratios="$ratios $(awk -v a="${RES[$c.$r]}" -v b="${RES[$ref.$r]}" 'BEGIN { printf "%.3f", a / b }')"
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

# Per-round differences and ratios of configs measured side by side.
per_round() {  # awk expression over a and b, config a, config b -> "min median max"
	local v=""
	for r in $(seq "$ROUNDS"); do
		v="$v $(awk -v a="${RES[$2.$r]}" -v b="${RES[$3.$r]}" "BEGIN { printf \"%.3f\", $1 }")"
	done
	tr ' ' '\n' <<<"$v" | grep . | stats
}
echo
echo "session uprobes, --sample-bytes 64K: ns saved per pair (an unsampled malloc: its return" \
	"probe cancelled) = multi links - session links, per round (min median max):" \
	"$(per_round 'a - b' heaptrace-sampled-multi heaptrace-sampled)"
echo "two threads allocating on two CPUs, ns per pair of one thread / one thread alone" \
	"(1.0: nothing shared), per round (min median max):"
for c in untraced bpftrace heaptrace-fp; do
	printf "  %-14s %s\n" "$c" "$(per_round 'a / b' "$c-2t" "$c")"
done

# --mmap: an mmap+munmap loop traced without and with it; and what an
# unrelated process pays per syscall while heaptrace traces another one
# (the raw syscall tracepoints fire for every syscall on the machine).
echo
mmap_run() {  # config -> ns per mmap+munmap pair, or per bystander syscall
	case "$1" in
	untraced) "$OUT/bench_loop" mmap "$PAIRS" ;;
	heaptrace) ./heaptrace -- "$OUT/bench_loop" mmap "$PAIRS" | sed -n 1p ;;
	heaptrace-mmap) ./heaptrace --mmap -- "$OUT/bench_loop" mmap "$PAIRS" | sed -n 1p ;;
	heaptrace-mmap-fp) ./heaptrace --mmap --unwind fp -- "$OUT/bench_loop" mmap "$PAIRS" | sed -n 1p ;;
	bystander-*)
		local opts=${1#bystander-} v
		sleep 60 &
		local sp=$! hp=""
		case "$opts" in
		heaptrace) ./heaptrace -p "$sp" >/dev/null 2>&1 & hp=$! ;;
		heaptrace-mmap) ./heaptrace --mmap -p "$sp" >/dev/null 2>&1 & hp=$! ;;
		esac
		[ -n "$hp" ] && sleep 2
		v=$("$OUT/bench_loop" syscalls 1000000)
		[ -n "$hp" ] && { kill -INT "$hp"; wait "$hp" || true; }
		kill "$sp"; wait "$sp" 2>/dev/null || true
		echo "$v" ;;
	esac
}
MMAP_CONFIGS="untraced heaptrace heaptrace-mmap heaptrace-mmap-fp bystander-none bystander-heaptrace
bystander-heaptrace-mmap"
for r in $(seq "$ROUNDS"); do
	for c in $MMAP_CONFIGS; do
		v=$(mmap_run "$c")
		RES[mm.$c]="${RES[mm.$c]:-} $v"
		RES[mm.$c.$r]=$v
	done
done
printf "%-26s %10s %10s %10s   (--mmap: ns per mmap+munmap of 64 KiB; bystander: ns per getppid)\n" \
	config min median max
for c in $MMAP_CONFIGS; do
	printf "%-26s %10s %10s %10s\n" "$c" $(tr ' ' '\n' <<<"${RES[mm.$c]}" | grep . | stats)
done
echo "--mmap cost per mmap+munmap pair, ns, per round (min median max):" \
	"$(per_round 'a - b' mm.heaptrace-mmap mm.heaptrace)"

# Attach and detach: heaptrace -p to "attached", and SIGINT to exit.
echo
echo "attach / stop (s), heaptrace -p PID, by links (median of 3):"
attach_times() {  # label, pid
	for links in session multi single; do
		v=$(for i in 1 2 3; do HEAPTRACE_LINKS=$links scripts/bench_attach.py ./heaptrace "$2"; done)
		printf "  %-48s %-8s attach %6s  stop %6s  (%s probes)\n" "$1" "$links" \
			"$(awk '{ print $1 }' <<<"$v" | sort -g | sed -n 2p)" \
			"$(awk '{ print $2 }' <<<"$v" | sort -g | sed -n 2p)" \
			"$(awk 'NR == 1 { print $3 }' <<<"$v")"
	done
}
if [ -x .output/tests/alloc/mi ]; then
	coproc MI { exec .output/tests/alloc/mi wait; }
	read -r -n 1 _ <&"${MI[0]}"
	attach_times "mimalloc (tests/workloads/alloc_mi.c)" "$MI_PID"
	echo x >&"${MI[1]}"
	wait "$MI_PID" || true
fi
if command -v node >/dev/null; then
	node -e 'setInterval(() => { const a = []; for (let i = 0; i < 100; i++) a.push("x".repeat(i)); }, 100)' &
	NODE_PID=$!
	sleep 1
	attach_times "node ($(( $(stat -L -c %s "$(command -v node)") >> 20 )) MB executable, a typical server)" "$NODE_PID"
	kill "$NODE_PID"
	wait "$NODE_PID" 2>/dev/null || true
fi
if [ -x /usr/lib/chromium/chromium ]; then
	rm -rf "$OUT/chromium-profile"
	/usr/lib/chromium/chromium --headless=new --no-sandbox --disable-gpu \
		--user-data-dir="$OUT/chromium-profile" about:blank >/dev/null 2>&1 &
	CHR_PID=$!
	sleep 4
	attach_times "chromium ($(( $(stat -c %s /usr/lib/chromium/chromium) >> 20 )) MB executable, $(wc -l <"/proc/$CHR_PID/maps") mappings)" "$CHR_PID"
	kill "$CHR_PID"
	wait "$CHR_PID" 2>/dev/null || true
fi

echo
scripts/bench_real.sh 3

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
