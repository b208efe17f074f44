// SPDX-License-Identifier: MIT
/*
 * bench_symbolize: how long a report's symbolization takes. Builds the
 * module table of this process (libc, libstdc++, libdw, libelf, libbpf,
 * libcapstone, libz, ... are mapped), draws distinct code addresses inside
 * the functions of the biggest libraries, groups them into stacks of
 * ~10 frames, and resolves every frame of every stack with a fresh
 * symbolizer - once with inline expansion (resolve_inline), once without
 * (resolve) - then once more from the cache.
 *
 * Usage: bench_symbolize [STACKS [FRAMES [SEED]]]   (10000 10 1)
 * With HT_BENCH_DUMP=FILE, the first pass writes every address's frames
 * to FILE (to compare symbolizer versions).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "elfsym.h"
#include "modules.h"
#include "symbolize.h"

struct pick {
	uint64_t *addrs;
	size_t n, cap;
	uint64_t bias;
};

/* Libraries to draw addresses from (base name prefixes), if mapped. */
static const char *const libs[] = {
	"libc.so", "libstdc++.so", "libdw", "libelf", "libz.so", "libbpf", "libcapstone",
	"libLLVM",
};

/* Loaded here so that they are mapped; those missing are left out. */
static const char *const extra[] = {
	"libbpf.so.1", "libcapstone.so.4", "libLLVM-14.so.1",
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Every function of the module: its start and end. */
struct funcs {
	uint64_t (*r)[2];
	size_t n, cap;
};

static int add_func(const struct ht_elf_sym *sym, void *ctx)
{
	struct funcs *f = ctx;

	if (sym->size < 8)
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		void *p = realloc(f->r, cap * sizeof(*f->r));

		if (!p)
			return -ENOMEM;
		f->r = p;
		f->cap = cap;
	}
	f->r[f->n][0] = sym->vaddr;
	f->r[f->n][1] = sym->vaddr + sym->size;
	f->n++;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t nstacks = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000;
	size_t depth = argc > 2 ? strtoul(argv[2], NULL, 0) : 10;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL | 1;
	size_t want = nstacks * depth, total = 0, per_lib, nframes, known, lines, inlined;
	struct ht_frame fr[HT_MAX_INLINE];
	struct ht_modules *ms;
	uint64_t *all;
	double t0, t1;

	if (!dlopen("libstdc++.so.6", RTLD_NOW) || !nstacks || !depth) {
		fprintf(stderr, "usage: %s [STACKS [FRAMES [SEED]]]\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		dlopen(extra[i], RTLD_LAZY | RTLD_LOCAL);
	ms = modules__new(getpid());
	if (!ms || modules__refresh(ms))
		return 1;
	all = calloc(want * 2, sizeof(*all));
	if (!all)
		return 1;
	/* twice what is needed: duplicates go */
	per_lib = want * 2 / (sizeof(libs) / sizeof(libs[0]));

	/* Distinct addresses inside functions, an equal share per library. */
	for (size_t l = 0; l < sizeof(libs) / sizeof(libs[0]); l++) {
		struct funcs f = { 0 };
		struct ht_module *m = NULL;
		size_t got = 0;

		for (size_t i = 0; i < modules__count(ms); i++) {
			struct ht_module *c = modules__get(ms, i);
			const char *b = strrchr(c->path, '/');

			if (c->has_exec && c->bias_known && b &&
			    !strncmp(b + 1, libs[l], strlen(libs[l])))
				m = c;
		}
		if (!m || !modules__elf(m) || ht_elf__foreach_func(modules__elf(m), add_func, &f) ||
		    !f.n) {
			fprintf(stderr, "skipping %s: not mapped or no symbols\n", libs[l]);
			free(f.r);
			continue;
		}
		for (size_t t = 0; got < per_lib && total < want * 2 && t < per_lib * 4; t++) {
			size_t k = rnd(&x) % f.n;
			uint64_t len = f.r[k][1] - f.r[k][0];

			/* a "return address": pc + 1 inside the function */
			all[total++] = f.r[k][0] + 1 + rnd(&x) % (len - 1) + m->bias + 1;
			got++;
		}
		printf("%-14s %6zu functions, %6zu addresses drawn  %s\n", libs[l], f.n, got,
		       m->path);
		free(f.r);
	}
	qsort(all, total, sizeof(*all), cmp_u64);
	{
		size_t u = 0;

		for (size_t i = 0; i < total; i++)
			if (!u || all[u - 1] != all[i])
				all[u++] = all[i];
		total = u;
	}
	/* shuffle: stacks mix libraries, as real ones do */
	for (size_t i = total; i > 1; i--) {
		size_t j = rnd(&x) % i;
		uint64_t t = all[i - 1];

		all[i - 1] = all[j];
		all[j] = t;
	}
	if (total > want)
		total = want;
	printf("%zu stacks x %zu frames: %zu distinct addresses\n", total / depth, depth, total);

	for (int pass = 0; pass < 2; pass++) {
		struct ht_symbolizer *s = symbolizer__new(ms, NULL);
		FILE *dump = NULL;

		if (!pass && getenv("HT_BENCH_DUMP"))
			dump = fopen(getenv("HT_BENCH_DUMP"), "we");

		if (!s)
			return 1;
		nframes = known = lines = inlined = 0;
		t0 = now();
		for (size_t i = 0; i < total; i++) {
			int n = pass ? (symbolizer__resolve(s, all[i], fr) ? -1 : 1)
				     : symbolizer__resolve_inline(s, all[i], fr, HT_MAX_INLINE);

			if (n < 0)
				return 1;
			for (int k = 0; dump && k < n; k++)
				fprintf(dump, "%llx %s%s %s:%d %s\n", (unsigned long long)all[i],
					fr[k].inlined ? "[inlined] " : "", fr[k].function,
					fr[k].file ? fr[k].file : "?", fr[k].line,
					fr[k].module ? fr[k].module : "-");
			for (int k = 0; k < n; k++) {
				nframes++;
				known += fr[k].known;
				lines += fr[k].file != NULL;
				inlined += fr[k].inlined;
			}
		}
		t1 = now();
		if (dump)
			fclose(dump);
		printf("%s: %.3f s (%.1f us/address), %zu frames: %zu named, %zu with file:line, "
		       "%zu inlined\n", pass ? "resolve (no inline expansion)" :
		       "resolve_inline              ", t1 - t0, (t1 - t0) * 1e6 / (double)total,
		       nframes, known, lines, inlined);
		if (!pass) {
			t0 = now();
			for (size_t i = 0; i < total; i++)
				if (symbolizer__resolve_inline(s, all[i], fr, HT_MAX_INLINE) < 0)
					return 1;
			printf("resolve_inline, cached      : %.3f s\n", now() - t0);
		}
		symbolizer__free(s);
	}
	modules__free(ms);
	free(all);
	return 0;
}
