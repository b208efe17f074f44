// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "elfsym.h"
#include "log.h"
#include "modules.h"
#include "procmaps.h"
#include "util.h"

struct range {
	uint64_t start, end, offset;
	size_t mod;
};

struct ht_modules {
	int pid;
	struct ht_module *mods;
	size_t nmods, cap_mods;
	struct range *ranges;  /* sorted by start */
	size_t nranges, cap_ranges;
};

struct ht_modules *modules__new(int pid)
{
	struct ht_modules *ms = calloc(1, sizeof(*ms));

	if (ms)
		ms->pid = pid;
	return ms;
}

static void free_ext(struct ht_module *m)
{
	for (size_t k = 0; k < __HT_MOD_SLOTS; k++) {
		if (m->ext[k].free)
			m->ext[k].free(m->ext[k].data);
		m->ext[k] = (struct ht_module_ext){ NULL, NULL };
	}
}

void modules__free(struct ht_modules *ms)
{
	if (!ms)
		return;
	for (size_t i = 0; i < ms->nmods; i++) {
		free_ext(&ms->mods[i]);
		ht_elf__close(ms->mods[i].elf);
		if (ms->mods[i].fd >= 0)
			close(ms->mods[i].fd);
		free(ms->mods[i].path);
	}
	free(ms->mods);
	free(ms->ranges);
	free(ms);
}

size_t modules__count(const struct ht_modules *ms)
{
	return ms->nmods;
}

struct ht_module *modules__get(struct ht_modules *ms, size_t i)
{
	return i < ms->nmods ? &ms->mods[i] : NULL;
}

int modules__pid(const struct ht_modules *ms)
{
	return ms->pid;
}

static int openat2_path(int dirfd, const char *path, uint64_t resolve)
{
	return sys_openat2(dirfd, path, O_PATH | O_CLOEXEC, resolve);
}

/*
 * Turn an O_PATH descriptor into a readable one if - and only if - it is
 * the mapped file itself: a regular file with the mapping's device and
 * inode. Nothing else is ever opened for reading, so no FIFO, device or
 * other file can be touched through a path the target controls.
 */
static int reopen_mapped(int pfd, const struct ht_map *m)
{
	struct stat st;
	char p[64];
	int fd;

	if (fstat(pfd, &st) || !S_ISREG(st.st_mode) || st.st_ino != m->inode ||
	    major(st.st_dev) != m->dev_major || minor(st.st_dev) != m->dev_minor)
		fd = -ESTALE;
	else {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", pfd);
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			fd = -errno;
	}
	close(pfd);
	return fd;
}

/*
 * Open the exact file behind a mapping, never reading another one:
 *  1. /proc/PID/map_files/START-END names the mapped inode itself (even
 *     deleted, and without walking any path);
 *  2. else the maps path inside the target's root, resolved with
 *     RESOLVE_IN_ROOT: its symlinks (absolute ones too) and ".." stay
 *     inside that root - a container's file tree cannot point us at ours;
 *  3. else the maps path as we see it (for a target chroot'ed in our mount
 *     namespace /proc/PID/maps shows our paths), following no symlink: a
 *     path the kernel printed has none unless one was planted since.
 * Every candidate is opened O_PATH and must be the mapping's inode.
 */
static int open_mapping(int pid, const struct ht_map *m, bool *deleted)
{
	char p[4096];
	int fd, root, err;

	*deleted = strstr(m->path, " (deleted)") != NULL;
	snprintf(p, sizeof(p), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(p, O_PATH | O_CLOEXEC);
	if (fd >= 0)
		return reopen_mapped(fd, m);
	err = -errno;
	if (*deleted)
		return err;
	snprintf(p, sizeof(p), "/proc/%d/root", pid);
	root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root >= 0) {
		fd = openat2_path(root, m->path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		err = fd < 0 ? -errno : 0;
		close(root);
		if (fd >= 0) {
			fd = reopen_mapped(fd, m);
			if (fd >= 0)
				return fd;
			err = fd;
		}
	}
	fd = openat2_path(AT_FDCWD, m->path, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return err ? err : -errno;
	return reopen_mapped(fd, m);
}

static int find_module(struct ht_modules *ms, const struct ht_map *m)
{
	uint64_t dev = makedev(m->dev_major, m->dev_minor);

	for (size_t i = ms->nmods; i-- > 0;)
		if (ms->mods[i].inode == m->inode && ms->mods[i].dev == dev &&
		    !strcmp(ms->mods[i].path, m->path))
			return (int)i;
	return -1;
}

static void compute_bias(struct ht_module *mod, const struct ht_map *m)
{
	struct ht_elf *e = modules__elf(mod);
	uint64_t vaddr;

	if (!e || mod->bias_known)
		return;
	if (!ht_elf__is_dyn(e)) {
		mod->bias = 0;
		mod->bias_known = true;
		return;
	}
	if (ht_elf__offset_to_vaddr(e, m->offset, &vaddr))
		return;
	mod->bias = m->start - vaddr;
	mod->bias_known = true;
}

static int add_range(struct ht_modules *ms, const struct ht_map *m, size_t mod)
{
	size_t i;

	for (i = 0; i < ms->nranges; i++) {
		struct range *r = &ms->ranges[i];

		if (r->start == m->start && r->end == m->end && r->mod == mod)
			return 0;
		if (r->start >= m->start)
			break;
	}
	if (grow_array((void **)&ms->ranges, &ms->cap_ranges, ms->nranges + 1,
		       sizeof(*ms->ranges)))
		return -ENOMEM;
	/* A new mapping replaces any older one over the same addresses: one
	 * that starts below it and reaches into it too (ld.so.cache, unmapped
	 * since, where a dlopen'ed library now sits). */
	if (i > 0 && ms->ranges[i - 1].end > m->start)
		i--;
	while (i < ms->nranges && ms->ranges[i].start < m->end) {
		memmove(&ms->ranges[i], &ms->ranges[i + 1],
			(ms->nranges - i - 1) * sizeof(*ms->ranges));
		ms->nranges--;
	}
	memmove(&ms->ranges[i + 1], &ms->ranges[i], (ms->nranges - i) * sizeof(*ms->ranges));
	ms->ranges[i] = (struct range){ m->start, m->end, m->offset, mod };
	ms->nranges++;
	return 0;
}

static int refresh_cb(const struct ht_map *m, void *ctx)
{
	struct ht_modules *ms = ctx;
	struct ht_module *mod;
	int idx, fd;
	bool deleted = false;

	if (!procmaps__is_file(m))
		return 0;
	idx = find_module(ms, m);
	if (idx < 0) {
		if (grow_array((void **)&ms->mods, &ms->cap_mods, ms->nmods + 1,
			       sizeof(*ms->mods)))
			return -ENOMEM;
		mod = &ms->mods[ms->nmods];
		memset(mod, 0, sizeof(*mod));
		mod->path = strdup(m->path);
		if (!mod->path)
			return -ENOMEM;
		mod->dev = makedev(m->dev_major, m->dev_minor);
		mod->inode = m->inode;
		fd = open_mapping(ms->pid, m, &deleted);
		mod->fd = fd < 0 ? -1 : fd;
		mod->deleted = deleted;
		if (fd < 0)
			pr_debug("can't open '%s' of pid %d: %s\n", m->path, ms->pid,
				 strerror(-fd));
		idx = (int)ms->nmods++;
	}
	mod = &ms->mods[idx];
	if (m->exec)
		mod->has_exec = true;
	compute_bias(mod, m);
	return add_range(ms, m, (size_t)idx);
}

int modules__add_file(struct ht_modules *ms, const char *path, size_t *index)
{
	struct ht_module *mod;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	for (size_t i = 0; i < ms->nmods; i++) {
		if (ms->mods[i].inode == st.st_ino && ms->mods[i].dev == st.st_dev &&
		    !strcmp(ms->mods[i].path, path)) {
			close(fd);
			*index = i;
			return 0;
		}
	}
	if (grow_array((void **)&ms->mods, &ms->cap_mods, ms->nmods + 1, sizeof(*ms->mods))) {
		close(fd);
		return -ENOMEM;
	}
	mod = &ms->mods[ms->nmods];
	memset(mod, 0, sizeof(*mod));
	mod->path = strdup(path);
	if (!mod->path) {
		close(fd);
		return -ENOMEM;
	}
	mod->dev = st.st_dev;
	mod->inode = st.st_ino;
	mod->fd = fd;
	mod->has_exec = true;  /* it will be: it is a program or library */
	*index = ms->nmods++;
	return 0;
}

int modules__refresh(struct ht_modules *ms)
{
	return procmaps__foreach(ms->pid, refresh_cb, ms);
}

void modules__forget_mappings(struct ht_modules *ms)
{
	ms->nranges = 0;
	for (size_t i = 0; i < ms->nmods; i++) {
		ms->mods[i].bias_known = false;  /* mapped elsewhere now, if at all */
		free_ext(&ms->mods[i]);          /* may hold the old bias */
	}
}

struct ht_module *modules__find(struct ht_modules *ms, uint64_t addr)
{
	size_t lo = 0, hi = ms->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < ms->ranges[mid].start)
			hi = mid;
		else if (addr >= ms->ranges[mid].end)
			lo = mid + 1;
		else
			return &ms->mods[ms->ranges[mid].mod];
	}
	return NULL;
}

int modules__file_offset(struct ht_modules *ms, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi = ms->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct range *r = &ms->ranges[mid];

		if (addr < r->start) {
			hi = mid;
		} else if (addr >= r->end) {
			lo = mid + 1;
		} else {
			*off = addr - r->start + r->offset;
			return 0;
		}
	}
	return -ENOENT;
}

struct ht_elf *modules__elf(struct ht_module *m)
{
	if (!m->elf && m->fd >= 0)
		m->elf = ht_elf__open_fd(m->fd);
	if (!m->elf && !errno)
		errno = ENOENT;
	return m->elf;
}

int modules__probe_path(struct ht_modules *ms, const struct ht_module *m, char *buf,
			size_t len)
{
	size_t idx = (size_t)(m - ms->mods);

	/* map_files resolves to the mapped inode whatever the namespace. */
	for (size_t i = 0; i < ms->nranges; i++) {
		if (ms->ranges[i].mod != idx)
			continue;
		snprintf(buf, len, "/proc/%d/map_files/%llx-%llx", ms->pid,
			 (unsigned long long)ms->ranges[i].start,
			 (unsigned long long)ms->ranges[i].end);
		if (access(buf, F_OK) == 0)
			return 0;
	}
	/* Else the file we opened and checked: a path through the target's
	 * root would be resolved again by the kernel, following whatever
	 * symlinks the target has put there since. */
	if (m->fd < 0)
		return -ENOENT;
	snprintf(buf, len, "/proc/self/fd/%d", m->fd);
	return 0;
}
