// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <gelf.h>
#include "cfimaps.h"
#include "cfitab.h"
#include "elfsym.h"
#include "events.h"
#include "log.h"
#include "modules.h"
#include "util.h"

struct loaded {
	uint64_t dev, ino;
};

struct ht_cfimaps {
	int objs_fd;
	struct ht_cfi_row *rows; /* the rows map, memory-mapped */
	size_t map_len;
	struct loaded *objs;
	size_t nobjs, cap_objs;
	struct ht_cfi_totals tot;
};

struct ht_cfimaps *cfimaps__new(int objs_fd, int rows_fd, uint32_t cap_rows)
{
	struct ht_cfimaps *c = calloc(1, sizeof(*c));
	long page = sysconf(_SC_PAGESIZE);

	if (!c)
		return NULL;
	c->objs_fd = objs_fd;
	c->tot.cap_rows = cap_rows;
	c->map_len = ((size_t)cap_rows * sizeof(*c->rows) + page - 1) / page * page;
	c->rows = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, rows_fd, 0);
	if (c->rows == MAP_FAILED) {
		int err = errno;

		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void cfimaps__free(struct ht_cfimaps *c)
{
	if (!c)
		return;
	munmap(c->rows, c->map_len);
	free(c->objs);
	free(c);
}

/* ELF address = file offset + delta for the object's code: the same delta
 * for every executable segment, or -EINVAL. */
static int code_delta(Elf *elf, int64_t *delta)
{
	size_t n;
	bool found = false;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		int64_t d;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		d = (int64_t)ph.p_vaddr - (int64_t)ph.p_offset;
		if (found && d != *delta)
			return -EINVAL;
		*delta = d;
		found = true;
	}
	return found ? 0 : -ENOENT;
}

int cfimaps__add(struct ht_cfimaps *c, struct ht_module *m)
{
	struct ht_cfi_obj_key key = {};
	struct ht_cfi_obj val = {};
	struct ht_cfitab_stats st = {};
	struct ht_cfitab *t = NULL;
	const struct ht_cfi_row *rows;
	struct ht_elf *e;
	struct stat sb;
	const char *why = NULL;
	int64_t delta = 0;
	size_t n;
	int err;

	if (m->fd < 0 || fstat(m->fd, &sb))
		return -ENOENT;
	key.dev = (uint32_t)(major(sb.st_dev) << 20 | minor(sb.st_dev));
	key.ino = sb.st_ino;
	for (size_t i = 0; i < c->nobjs; i++)
		if (c->objs[i].dev == key.dev && c->objs[i].ino == key.ino)
			return 0;
	err = grow_array((void **)&c->objs, &c->cap_objs, c->nobjs + 1, sizeof(*c->objs));
	if (err)
		return err;

	e = modules__elf(m);
	if (!e)
		why = "unreadable ELF";
	else if (code_delta((Elf *)ht_elf__handle(e), &delta))
		why = "no single code segment";
	else if (!(t = cfitab__new((Elf *)ht_elf__handle(e))))
		why = errno == ENODATA ? "no CFI" : errno == ENOMEM ? "out of memory" :
								      "malformed CFI";
	val.off_to_vaddr = delta;
	if (t) {
		cfitab__stats(t, &st);
		rows = cfitab__rows(t, &n);
		if (n > c->tot.cap_rows - c->tot.rows) {
			why = "rows map full";
		} else {
			val.row_start = (uint32_t)c->tot.rows;
			val.row_count = (uint32_t)n;
			memcpy(c->rows + c->tot.rows, rows, n * sizeof(*rows));
		}
	}
	/* rows first, then the entry that makes them reachable */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	err = bpf_map_update_elem(c->objs_fd, &key, &val, BPF_ANY);
	if (err) {
		err = -errno;
		pr_warn("can't load the unwind table of %s: %s\n", m->path, strerror(errno));
		cfitab__free(t);
		return err;
	}
	c->objs[c->nobjs].dev = key.dev;
	c->objs[c->nobjs++].ino = key.ino;
	c->tot.objects++;
	c->tot.build_ns += st.build_ns;
	if (val.row_count) {
		c->tot.rows += val.row_count;
		c->tot.bytes += val.row_count * sizeof(struct ht_cfi_row);
		pr_info("unwind table of %s: %u rows, %zu bytes, built in %.1f ms\n", m->path,
			val.row_count, (size_t)val.row_count * sizeof(struct ht_cfi_row),
			(double)st.build_ns / 1e6);
	} else {
		c->tot.fp_only++;
		pr_info("no unwind table for %s (%s): frame pointers only\n", m->path, why);
	}
	cfitab__free(t);
	return 0;
}

void cfimaps__totals(const struct ht_cfimaps *c, struct ht_cfi_totals *out)
{
	*out = c->tot;
}
