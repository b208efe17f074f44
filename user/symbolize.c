// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>
#include <libiberty/demangle.h>
#include "modules.h"
#include "symbolize.h"
#include "util.h"

struct cached {
	uint64_t addr;          /* 0 = empty */
	struct ht_frame f;
};

struct ht_symbolizer {
	struct ht_modules *ms;
	struct ht_symbolizer_opts opts;
	Dwfl *dwfl;
	Dwfl_Callbacks cb;
	char *debuginfo_path;
	bool *reported;         /* by module index */
	size_t nreported;
	struct cached *cache;   /* open addressing by address */
	size_t nslots, ncached;
};

struct ht_symbolizer *symbolizer__new(struct ht_modules *ms,
				      const struct ht_symbolizer_opts *opts)
{
	struct ht_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ms = ms;
	if (opts)
		s->opts = *opts;
	s->cb.find_elf = dwfl_build_id_find_elf;
	s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	s->cb.section_address = dwfl_offline_section_address;
	s->cb.debuginfo_path = &s->debuginfo_path;
	s->dwfl = dwfl_begin(&s->cb);
	s->nslots = 1024;
	s->cache = calloc(s->nslots, sizeof(*s->cache));
	if (!s->dwfl || !s->cache) {
		symbolizer__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void free_frame(struct ht_frame *f)
{
	free((char *)f->function);
	free((char *)f->file);
}

void symbolizer__free(struct ht_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nslots; i++)
		if (s->cache[i].addr)
			free_frame(&s->cache[i].f);
	free(s->cache);
	free(s->reported);
	if (s->dwfl)
		dwfl_end(s->dwfl);
	free(s);
}

/* Report a module to libdwfl the first time one of its addresses shows. */
static void report_module(struct ht_symbolizer *s, struct ht_module *m)
{
	size_t idx = 0, n = modules__count(s->ms);
	Dwfl_Module *dm;
	int fd;

	while (idx < n && modules__get(s->ms, idx) != m)
		idx++;
	if (idx >= n || m->fd < 0 || !m->bias_known)
		return;
	if (n > s->nreported) {
		bool *r = realloc(s->reported, n * sizeof(*r));

		if (!r)
			return;
		memset(r + s->nreported, 0, (n - s->nreported) * sizeof(*r));
		s->reported = r;
		s->nreported = n;
	}
	if (!s->reported[idx]) {
		s->reported[idx] = true;
		fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return;
		dwfl_report_begin_add(s->dwfl);
		dm = dwfl_report_elf(s->dwfl, m->path, m->path, fd, m->bias, true);
		if (!dm)
			close(fd);
		dwfl_report_end(s->dwfl, NULL, NULL);
	}
}

static char *demangle(const struct ht_symbolizer *s, const char *name)
{
	const char *at = strchr(name, '@');
	char *d = NULL, *plain = NULL;

	/* "__libc_start_main@@GLIBC_2.34": the version is not the name. */
	if (at && at != name) {
		plain = strndup(name, (size_t)(at - name));
		if (plain)
			name = plain;
	}

	if (!s->opts.no_demangle && (name[0] == '_' && (name[1] == 'Z' || name[1] == 'R')))
		d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
	if (!d)
		d = plain ? plain : strdup(name);
	else
		free(plain);
	return d;
}

static int resolve(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *f)
{
	struct ht_module *m = modules__find(s->ms, addr);
	uint64_t pc = addr ? addr - 1 : 0;
	const char *base, *name = NULL, *file;
	Dwfl_Module *dm = NULL;
	char buf[512];
	int line = 0;

	memset(f, 0, sizeof(*f));
	f->address = addr;
	if (!m) {
		snprintf(buf, sizeof(buf), "[unknown]+0x%llx", (unsigned long long)addr);
		f->function = strdup(buf);
		return f->function ? 0 : -ENOMEM;
	}
	f->module = m->path;
	report_module(s, m);
	dm = dwfl_addrmodule(s->dwfl, pc);
	if (dm) {
		GElf_Off off;
		GElf_Sym sym;
		Dwfl_Line *l;

		name = dwfl_module_addrinfo(dm, pc, &off, &sym, NULL, NULL, NULL);
		l = dwfl_module_getsrc(dm, pc);
		if (l) {
			file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
			if (file) {
				f->file = strdup(file);
				f->line = line;
			}
		}
	}
	if (name) {
		f->function = demangle(s, name);
		f->known = true;
	} else {
		base = strrchr(m->path, '/');
		snprintf(buf, sizeof(buf), "%s+0x%llx", base ? base + 1 : m->path,
			 (unsigned long long)(pc - m->bias));
		f->function = strdup(buf);
	}
	return f->function ? 0 : -ENOMEM;
}

static size_t cache_slot(const struct ht_symbolizer *s, uint64_t addr)
{
	size_t mask = s->nslots - 1, i = hash_u64(addr) & mask;

	while (s->cache[i].addr && s->cache[i].addr != addr)
		i = (i + 1) & mask;
	return i;
}

static int cache_grow(struct ht_symbolizer *s)
{
	struct cached *old = s->cache;
	size_t n = s->nslots;

	s->cache = calloc(n * 2, sizeof(*s->cache));
	if (!s->cache) {
		s->cache = old;
		return -ENOMEM;
	}
	s->nslots = n * 2;
	for (size_t i = 0; i < n; i++)
		if (old[i].addr)
			s->cache[cache_slot(s, old[i].addr)] = old[i];
	free(old);
	return 0;
}

int symbolizer__resolve(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *out)
{
	size_t i;
	int err;

	if (!addr) {
		memset(out, 0, sizeof(*out));
		out->function = "[unknown]";
		return 0;
	}
	i = cache_slot(s, addr);
	if (!s->cache[i].addr) {
		if ((s->ncached + 1) * 2 > s->nslots) {
			err = cache_grow(s);
			if (err)
				return err;
			i = cache_slot(s, addr);
		}
		err = resolve(s, addr, &s->cache[i].f);
		if (err)
			return err;
		s->cache[i].addr = addr;
		s->ncached++;
	}
	*out = s->cache[i].f;
	return 0;
}

int symbolizer__resolve_inline(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *out,
			       int max)
{
	int err;

	if (max < 1)
		return -EINVAL;
	err = symbolizer__resolve(s, addr, out);
	return err ? err : 1;
}
