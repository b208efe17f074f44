#!/bin/sh
# Firefox ESR under heaptrace, counted side by side by bpftrace: Debian's
# firefox-esr links mozjemalloc into its executable and exports malloc & co
# from there (every library binds to them; glibc's malloc gets no call).
# Runs `firefox-esr --headless --screenshot` once under `heaptrace --`,
# while bpftrace counts calls to the executable's malloc, calloc, realloc
# and free (and its moz_arena_* and memalign family) per process; prints
# both for the main process. Root; installs
# firefox-esr (Debian 12) if it is missing. Usage: measure-firefox.sh HEAPTRACE
set -eu
HT=${1:-./heaptrace}
FF=/usr/lib/firefox-esr/firefox-esr
OUT=$(mktemp -d /tmp/heaptrace-firefox-XXXXXX)
if [ ! -x "$FF" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends firefox-esr
fi
bpftrace -e "
uprobe:$FF:malloc { @malloc[pid] = count(); }
uprobe:$FF:calloc { @calloc[pid] = count(); }
uprobe:$FF:realloc { @realloc[pid] = count(); }
uprobe:$FF:free { @free[pid] = count(); }
uprobe:$FF:moz_arena_malloc,uprobe:$FF:moz_arena_calloc,uprobe:$FF:moz_arena_realloc { @moz_arena[pid] = count(); }
uprobe:$FF:posix_memalign,uprobe:$FF:aligned_alloc,uprobe:$FF:memalign,uprobe:$FF:valloc { @memalign_family[pid] = count(); }
uprobe:/lib/x86_64-linux-gnu/libc.so.6:malloc /comm == \"firefox-esr\"/ { @libc_malloc[pid] = count(); }
" >"$OUT/bpftrace.txt" 2>&1 &
BT=$!
# wait for bpftrace's probes
for _ in $(seq 60); do grep -q Attaching "$OUT/bpftrace.txt" && break; sleep 0.5; done
sleep 2
# A fresh profile whose shutdown watchdog waits longer: traced, the
# shutdown is slow enough here for Firefox to crash itself on purpose
# ("RunWatchdog: Mainthread nested event loops during hang").
mkdir -p "$OUT/profile"
echo 'user_pref("toolkit.asyncshutdown.crash_timeout", 600000);' >"$OUT/profile/user.js"
HOME="$OUT" "$HT" --ring-size 256M --json "$OUT/report.json" -- "$FF" --headless \
	--profile "$OUT/profile" --screenshot "$OUT/shot.png" about:blank \
	>"$OUT/heaptrace.txt" 2>"$OUT/heaptrace.err" || true
# bpftrace prints its counts on SIGINT (one was seen lost here: ask again)
kill -INT "$BT"
for _ in $(seq 12); do
	sleep 10
	kill -0 "$BT" 2>/dev/null || break
	kill -INT "$BT" 2>/dev/null || true
done
wait "$BT" || true
PID=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$OUT/report.json" | head -1)
echo "heaptrace (PID $PID):"
grep -aE '^heaptrace: (tracing|warning)' "$OUT/heaptrace.err" || true
grep -E '^  (allocations|frees|unknown frees|lost events|anon memory)' "$OUT/heaptrace.txt"
echo "bpftrace, the same run, PID $PID:"
grep -E "^@[a-z_]*\[$PID\]" "$OUT/bpftrace.txt" || true
grep -a "RunWatchdog" "$OUT/heaptrace.err" || true
echo "(outputs in $OUT)"
