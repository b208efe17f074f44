#!/usr/bin/python3
"""Attach and stop time of `heaptrace -p PID`, for make bench.

Usage: bench_attach.py HEAPTRACE PID
Prints "ATTACH STOP PROBES": seconds from starting `heaptrace -p PID` to
its "attached" line, seconds from SIGINT to its exit (detaching, plus a
report of the few calls made meanwhile), and the probes it attached.
HEAPTRACE_LINKS in the environment passes through.
"""
import re
import signal
import subprocess
import sys
import time


def main():
    heaptrace, pid = sys.argv[1], sys.argv[2]
    t0 = time.monotonic()
    h = subprocess.Popen([heaptrace, "-p", pid], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    line = b""
    for line in h.stderr:
        if b"attached to PID" in line:
            break
    attached = time.monotonic()
    if b"attached to PID" not in line:
        h.wait()
        sys.exit("bench_attach: heaptrace did not attach to PID %s" % pid)
    time.sleep(0.3)
    t1 = time.monotonic()
    h.send_signal(signal.SIGINT)
    h.stderr.read()
    h.wait()
    stopped = time.monotonic()
    probes = re.search(rb"(\d+) probes", line)
    print("%.3f %.3f %s" % (attached - t0, stopped - t1,
                            probes.group(1).decode() if probes else "?"))


if __name__ == "__main__":
    main()
