#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Replay strace's record of mmap, munmap and mremap into a model of the
anonymous mappings, page by page, and print its totals as JSON - the
independent reference the --mmap tests hold heaptrace's `mappings.totals`
to. Written from the syscalls' man pages, not from heaptrace's model.

    strace -f -e trace=mmap,munmap,mremap,execve -e signal=none -o LOG CMD
    strace_mappings.py LOG

Order: a munmap (and the old range of an mremap) leaves at the call's
entry, a mapping comes at its return - strace prints a call at its entry,
and a call another thread interrupted as `<unfinished ...>` then
`<... mmap resumed>` at its return, so this is the order the kernel did
them in. A range keeps the id of the mmap that made it; an mremap moves
the lowest piece's id. Each mmap is one range, split by holes; adjacent
ranges of different calls stay apart. An execve that succeeded starts
all over: the program's mappings and counts are those of the new one.
"""
import json
import re
import sys

PAGE = 4096
MAP_FIXED = "MAP_FIXED"
MREMAP_DONTUNMAP = "MREMAP_DONTUNMAP"

LINE = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+(.*)$")
CALL = re.compile(r"^(mmap|munmap|mremap|execve)\((.*?)(?:\) += (.*)| <unfinished \.\.\.>)$")
RESUMED = re.compile(r"^<\.\.\. (mmap|munmap|mremap|execve) resumed>(.*?)\) += (.*)$")


def pages(n):
    return (n + PAGE - 1) // PAGE * PAGE


def num(s):
    s = s.strip()
    return 0 if s == "NULL" else int(s, 0)


def ok(ret):
    return not ret.startswith("-1 ")


class Model:
    """Disjoint [lo, hi) ranges, each with the id of its mmap, per page."""

    def __init__(self):
        self.page_id = {}  # page address -> id of the mmap that mapped it
        self.range_of = {}  # page address -> range number (for counting ranges)
        self.next_range = 0
        self.t = dict.fromkeys(
            ["mapped_bytes", "ranges", "max_mapped_bytes", "mmaps", "mmap_bytes", "munmaps",
             "munmap_bytes", "mremaps", "unknown_unmaps", "unknown_remaps", "replaced_bytes",
             "failed_unmaps", "failed_remaps", "replaced_unasked"], 0)

    def remove(self, lo, hi):
        """Take [lo, hi) out; the ids of the pages it held, lowest first."""
        if (hi - lo) // PAGE <= len(self.page_id):
            held = [p for p in range(lo, hi, PAGE) if p in self.page_id]
        else:
            held = sorted(p for p in self.page_id if lo <= p < hi)
        ids = [self.page_id.pop(p) for p in held]
        for p in held:
            del self.range_of[p]
        self.t["mapped_bytes"] -= len(ids) * PAGE
        return ids

    def add(self, lo, hi, ident):
        self.next_range += 1
        for p in range(lo, hi, PAGE):
            self.page_id[p] = ident
            self.range_of[p] = self.next_range
        self.t["mapped_bytes"] += hi - lo
        self.t["max_mapped_bytes"] = max(self.t["max_mapped_bytes"], self.t["mapped_bytes"])

    def nr_ranges(self):
        """Runs of consecutive pages of one range number."""
        n = 0
        for p in sorted(self.range_of):
            if self.range_of.get(p - PAGE) != self.range_of[p]:
                n += 1
        return n


def calls(lines):
    """The calls in the order they started, each [name, args, ret, done]:
    done is the index of the call at whose start or end it returned."""
    out, pending = [], {}
    for raw in lines:
        g = LINE.match(raw.rstrip("\n"))
        pid, text = (g.group(1), g.group(2)) if g else ("0", raw.rstrip("\n"))
        c = CALL.match(text)
        r = RESUMED.match(text)
        if c:
            out.append([c.group(1), c.group(2).split(", "), c.group(3), None])
            if c.group(3) is None:
                pending[pid] = out[-1]
            else:
                out[-1][3] = len(out) - 1
        elif r:
            call = pending.pop(pid)
            call[2], call[3] = r.group(3), len(out) - 1
    return [c for c in out if c[2] is not None]  # cut short by the end


def replay(lines):
    """Each call's start (munmap, mremap's old range) where it began, its
    end (a new mapping) after the start of the last call that began before
    it returned - the order strace saw them in."""
    m = Model()
    todo = calls(lines)
    ends = {}
    for i, c in enumerate(todo):
        ends.setdefault(c[3], []).append(i)
    taken = {}
    for i, (call, args, ret, _) in enumerate(todo):
        if call == "execve":
            if ok(ret):
                m = Model()
        else:
            taken[i] = entry(m, call, args, ret)
        for j in ends.get(i, []):
            if todo[j][0] != "execve":
                ret_of(m, todo[j][0], todo[j][1], todo[j][2], j, taken.pop(j))
    t = m.t
    t["ranges"] = m.nr_ranges()
    t["peak_bytes"] = t["max_mapped_bytes"]
    return t


def entry(m, call, args, ret):
    """What a call does when it starts: munmap and mremap's old range
    (only if they succeeded: a call that failed changes nothing). For
    mremap: the ids of the old range's pages."""
    t = m.t
    if call == "munmap":
        if ret.startswith("-1 EINVAL"):
            return None  # its arguments refused: nothing done (only they give EINVAL)
        addr, length = num(args[0]), num(args[1])
        t["munmaps"] += 1
        if not ok(ret):
            t["failed_unmaps"] += 1
            return None
        ids = m.remove(addr, addr + pages(length))
        if ids:
            t["munmap_bytes"] += len(ids) * PAGE
        else:
            t["unknown_unmaps"] += 1
    elif call == "mremap":
        addr, old = num(args[0]), num(args[1])
        if not ok(ret):
            t["failed_remaps"] += 1
            return None
        if MREMAP_DONTUNMAP in args[3] or not old:
            return [m.page_id[addr]] if addr in m.page_id else []  # the old range stays
        return m.remove(addr, addr + pages(old))
    return None


def ret_of(m, call, args, ret, ident, ids):
    """What a call does when it returns."""
    t = m.t
    if call == "mmap":
        if not ok(ret):
            return
        addr, length = int(ret.split()[0], 0), pages(num(args[1]))
        gone = len(m.remove(addr, addr + length)) * PAGE
        t["replaced_bytes"] += gone
        if gone and MAP_FIXED not in args[3]:
            t["replaced_unasked"] += gone  # the model lost track somewhere
        if "MAP_ANONYMOUS" in args[3]:
            t["mmaps"] += 1
            t["mmap_bytes"] += length
            m.add(addr, addr + length, ident)
    elif call == "mremap" and ok(ret):
        if not ids:
            t["unknown_remaps"] += 1
            return
        t["mremaps"] += 1
        addr, new = int(ret.split()[0], 0), pages(num(args[2]))
        t["replaced_bytes"] += len(m.remove(addr, addr + new)) * PAGE
        m.add(addr, addr + new, ids[0])


def main():
    with open(sys.argv[1]) as f:
        print(json.dumps(replay(f), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
