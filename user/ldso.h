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

#include <stddef.h>
#include <stdint.h>

struct ht_modules;

/*
 * Call cb with the real path of each object, executable first, for a
 * command run with environment envp (PATH, LD_LIBRARY_PATH, LD_PRELOAD;
 * NULL: ours). Returns 0, -ENOENT when the executable can't be found, or
 * cb's non-zero return.
 */
int ldso__command_objects(char *const argv[], char *const envp[],
			  int (*cb)(const char *path, void *ctx), void *ctx);

/*
 * The objects of ms in the order the dynamic linker looks a symbol up in
 * the process (its global scope): the executable, the LD_PRELOAD objects
 * (the process's variable, then /etc/ld.so.preload), then the DT_NEEDED
 * closure breadth-first, names matched to the objects of ms by DT_SONAME
 * or file name. A static program's scope is itself; objects loaded by
 * dlopen are not in it. The executable is the module /proc/PID/exe names,
 * else (a launched command before its exec) the first module of ms.
 * Writes up to max module indexes to order; returns how many (0 when ms is
 * empty), or -errno.
 */
int ldso__scope(struct ht_modules *ms, size_t *order, size_t max);

/*
 * Where the dynamic linker announces link-map changes: _dl_debug_state
 * (r_brk of _r_debug) in the program interpreter the process maps, or in
 * a static program itself. *module and *offset (file offset) on 0;
 * -ENOENT when there is none.
 */
int ldso__debug_hook(struct ht_modules *ms, size_t *module, uint64_t *offset);

#endif
