/* SPDX-License-Identifier: MIT */
/*
 * The objects a command will map before its main() runs, found the way
 * the dynamic loader finds them: the executable (looked up in PATH like
 * execvp, through a #! line), its interpreter, LD_PRELOAD and
 * /etc/ld.so.preload, then the DT_NEEDED closure breadth-first, searched
 * in DT_RPATH, LD_LIBRARY_PATH, DT_RUNPATH ($ORIGIN and $LIB expanded),
 * the directories of /etc/ld.so.conf and the system defaults. Used in
 * launch mode, where probes must be in place before the command maps any
 * of them. An approximation (no glibc-hwcaps subdirectories, no
 * ld.so.cache-only entries): what it misses is found later, once mapped.
 */
#ifndef HEAPTRACE_LDSO_H
#define HEAPTRACE_LDSO_H

/*
 * Call cb with the real path of each object, executable first. Returns 0,
 * -ENOENT when the executable can't be found, or cb's non-zero return.
 */
int ldso__command_objects(char *const argv[], int (*cb)(const char *path, void *ctx),
			  void *ctx);

#endif
