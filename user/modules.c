// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void modules__free(struct ht_modules *ms)
{
	if (!ms)
		return;
	for (size_t i = 0; i < ms->nmods; i++) {
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

size_t modules__index(const struct ht_modules *ms, const struct ht_module *m)
{
	return (size_t)(m - ms->mods);
}

int modules__pid(const struct ht_modules *ms)
{
	return ms->pid;
}

/* Open the exact file behind a mapping: map_files names the mapped inode
 * itself (even deleted, and without walking paths inside a container). */
static int open_mapping(int pid, const struct ht_map *m, bool *deleted)
{
	struct stat st;
	char p[4096];
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(p, sizeof(p), "/proc/%d/root%s", pid, m->path);
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_ino != m->inode ||
	    major(st.st_dev) != m->dev_major || minor(st.st_dev) != m->dev_minor) {
		close(fd);
		return -ESTALE;
	}
	*deleted = strstr(m->path, " (deleted)") != NULL;
	return fd;
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
	/* A new mapping replaces any older one over the same addresses. */
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

int modules__refresh(struct ht_modules *ms)
{
	return procmaps__foreach(ms->pid, refresh_cb, ms);
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
	if (m->deleted)
		return -ENOENT;
	snprintf(buf, len, "/proc/%d/root%s", ms->pid, m->path);
	return 0;
}
