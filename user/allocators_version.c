// SPDX-License-Identifier: MIT
/* Allocator versions (see allocators_version.h). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "allocators_version.h"
#include "elfsym.h"

static void jemalloc_version(struct ht_elf *e, char *out, size_t len)
{
	size_t n = 0;
	const uint8_t *ro = ht_elf__section_bytes(e, ".rodata", &n), *p;

	for (p = ro; p && (p = memmem(p, n - (size_t)(p - ro), "-g", 2)); p += 2) {
		const uint8_t *start = p, *end = p + 2;
		int dots = 0, dashes = 0, other = 0;

		while (end < ro + n && isxdigit(*end))
			end++;
		if (end - (p + 2) != 40 || end >= ro + n || *end)
			continue;
		while (start > ro && start[-1] && p - start < 24)
			start--;
		if (start > ro && start[-1])
			continue;
		for (const uint8_t *q = start; q < p; q++) {
			dots += *q == '.';
			dashes += *q == '-';
			other += *q != '.' && *q != '-' && !isdigit(*q);
		}
		if (dots != 2 || dashes != 1 || other || !isdigit(*start))
			continue;
		if (!strncmp((const char *)start, "0.0.0-", 6))
			return;
		snprintf(out, len, "%.*s", (int)strcspn((const char *)start, "-"), start);
		return;
	}
}

/* "gperftools 2.10" in .rodata. */
static void tcmalloc_version(struct ht_elf *e, char *out, size_t len)
{
	size_t n = 0;
	const uint8_t *ro = ht_elf__section_bytes(e, ".rodata", &n), *p;

	if (!ro || !(p = memmem(ro, n, "gperftools ", 11)) || p + 11 >= ro + n ||
	    !isdigit(p[11]))
		return;
	p += 11;
	snprintf(out, len, "%.*s", (int)strnlen((const char *)p, (size_t)(ro + n - p)), p);
	out[strspn(out, "0123456789.")] = '\0';
}

/* "... release version 2.36." in libc's banner, when linked in. */
static void glibc_version(struct ht_elf *e, char *out, size_t len)
{
	static const char key[] = "release version ";
	size_t n = 0;
	const uint8_t *ro = ht_elf__section_bytes(e, ".rodata", &n), *p;

	if (!ro || !(p = memmem(ro, n, key, sizeof(key) - 1)))
		return;
	p += sizeof(key) - 1;
	snprintf(out, len, "%.*s", (int)strnlen((const char *)p, (size_t)(ro + n - p)), p);
	out[strspn(out, "0123456789.")] = '\0';
	if (*out && out[strlen(out) - 1] == '.')
		out[strlen(out) - 1] = '\0';
}

/* mi_version() is `mov $MI_MALLOC_VERSION, %eax; ret` (209 = 2.0.9). */
static void mimalloc_version(struct ht_elf *e, const struct ht_elf_symidx *ix, char *out,
			     size_t len)
{
	const struct ht_elf_sym *s = ht_elf_symidx__func(ix, "mi_version");
	uint8_t c[16];
	long n;
	size_t i;
	int32_t v;

	if (!s || (n = ht_elf__read_code(e, s->vaddr, c, sizeof(c))) < 6)
		return;
	/* after an endbr64 */
	i = c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa ? 4 : 0;
	if (i + 6 > (size_t)n || c[i] != 0xb8 || c[i + 5] != 0xc3)
		return;
	memcpy(&v, c + i + 1, sizeof(v));  /* x86-64: little-endian */
	if (v > 0 && v < 10000)
		snprintf(out, len, "%d.%d.%d", v / 100, v / 10 % 10, v % 10);
}

/* CPython 3.11+ exports Py_Version, PY_VERSION_HEX: 0x030b02f0 = 3.11.2. */
static void pymalloc_version(struct ht_elf *e, const struct ht_elf_symidx *ix, char *out,
			     size_t len)
{
	const struct ht_elf_sym *s = ht_elf_symidx__find(ix, "Py_Version");
	uint8_t b[4];
	uint32_t v;

	if (!s || s->func || ht_elf__read_code(e, s->vaddr, b, sizeof(b)) != sizeof(b))
		return;
	v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	if (v >> 24 == 3)
		snprintf(out, len, "%u.%u.%u", v >> 24, v >> 16 & 0xff, v >> 8 & 0xff);
}

void allocators__version(struct ht_elf *e, const struct ht_elf_symidx *ix,
			 enum alloc_family_id fam, char *out, size_t len)
{
	out[0] = '\0';
	switch (fam) {
	case FAM_JEMALLOC:
		jemalloc_version(e, out, len);
		break;
	case FAM_TCMALLOC:
		tcmalloc_version(e, out, len);
		break;
	case FAM_MIMALLOC:
		mimalloc_version(e, ix, out, len);
		break;
	case FAM_PYMALLOC:
		pymalloc_version(e, ix, out, len);
		break;
	case FAM_GLIBC:
		glibc_version(e, out, len);
		break;
	default:
		break;
	}
}
