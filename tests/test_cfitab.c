// SPDX-License-Identifier: MIT
/*
 * Unit tests of the unwind-table builder (user/cfitab.c): exact rows for
 * functions whose CFI this file writes itself in assembly, glibc's tables,
 * and hostile input (a corrupted or truncated .eh_frame) that must give
 * an error or a sorted table, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <dlfcn.h>
#include <link.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gelf.h>
#include "cfitab.h"

/*
 * Functions with hand-written CFI: a frame-pointer frame, a signal frame,
 * an outermost frame (return address undefined) and a CFA expression
 * heaptrace does not follow, each preceded by a gap without CFI.
 */
void cfi_fp_fn(void);
void cfi_signal_fn(void);
void cfi_end_fn(void);
void cfi_expr_fn(void);
__asm__(".text\n"
	".p2align 4\n"
	".globl cfi_fp_fn\n"
	"cfi_fp_fn:\n"
	".cfi_startproc\n"
	"	push %rbp\n" /* +0: CFA rsp+8 */
	".cfi_def_cfa_offset 16\n"
	".cfi_offset %rbp, -16\n"
	"	mov %rsp, %rbp\n" /* +1: CFA rsp+16, rbp at CFA-16 */
	".cfi_def_cfa_register %rbp\n"
	"	nop\n"      /* +4: CFA rbp+16 */
	"	pop %rbp\n" /* +5 */
	".cfi_def_cfa %rsp, 8\n"
	".cfi_same_value %rbp\n"
	"	ret\n" /* +6: CFA rsp+8, rbp unchanged */
	".cfi_endproc\n"
	"	nop; nop; nop; nop\n" /* +7: no CFI */
	".globl cfi_signal_fn\n"
	"cfi_signal_fn:\n"
	".cfi_startproc\n"
	".cfi_signal_frame\n"
	"	nop\n"
	"	ret\n"
	".cfi_endproc\n"
	"	nop; nop\n"
	".globl cfi_end_fn\n"
	"cfi_end_fn:\n"
	".cfi_startproc\n"
	".cfi_undefined %rip\n"
	"	nop\n"
	"	ret\n"
	".cfi_endproc\n"
	"	nop; nop\n"
	".globl cfi_expr_fn\n"
	"cfi_expr_fn:\n"
	".cfi_startproc\n"
	/* DW_CFA_def_cfa_expression: DW_OP_breg7 8; DW_OP_breg16 0; DW_OP_plus */
	".cfi_escape 0x0f, 0x05, 0x77, 0x08, 0x80, 0x00, 0x22\n"
	"	nop\n"
	"	ret\n"
	".cfi_endproc\n"
	"	nop; nop\n");

static uint64_t exe_bias(void)
{
	struct link_map *lm = NULL;
	void *h = dlopen(NULL, RTLD_NOW);

	/* the executable is the first link map entry */
	if (h && !dlinfo(h, RTLD_DI_LINKMAP, &lm) && lm)
		return lm->l_addr;
	return 0;
}

static void *read_file(const char *path, size_t *len)
{
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

static struct ht_cfitab *self_table(void)
{
	size_t len;
	void *buf = read_file("/proc/self/exe", &len);
	struct ht_cfitab *t = cfitab__new_mem(buf, len);

	free(buf);
	assert_non_null(t);
	return t;
}

static void expect_row(const struct ht_cfitab *t, uint64_t pc, int kind, int cfa_off, int rbp,
		       int rbp_off)
{
	const struct ht_cfi_row *r = cfitab__find(t, pc);

	assert_non_null(r);
	assert_int_equal(HT_CFI_KIND(r), kind);
	if (kind == HT_CFI_RSP || kind == HT_CFI_RBP) {
		assert_int_equal(r->cfa_off8 * 8, cfa_off);
		assert_int_equal(HT_CFI_RBP_RULE(r), rbp);
		if (rbp == HT_RBP_AT_CFA)
			assert_int_equal(r->rbp_off8 * 8, rbp_off);
	}
}

static void rows_sorted(const struct ht_cfitab *t)
{
	size_t n;
	const struct ht_cfi_row *r = cfitab__rows(t, &n);

	for (size_t i = 1; i < n; i++)
		assert_true(r[i].pc > r[i - 1].pc);
}

static void test_rows_of_handwritten_cfi(void **state)
{
	struct ht_cfitab *t = self_table();
	uint64_t fp = (uintptr_t)cfi_fp_fn - exe_bias();
	uint64_t sig = (uintptr_t)cfi_signal_fn - exe_bias();
	uint64_t end = (uintptr_t)cfi_end_fn - exe_bias();
	uint64_t expr = (uintptr_t)cfi_expr_fn - exe_bias();

	rows_sorted(t);
	expect_row(t, fp + 0, HT_CFI_RSP, 8, HT_RBP_SAME, 0);
	expect_row(t, fp + 1, HT_CFI_RSP, 16, HT_RBP_AT_CFA, -16);
	expect_row(t, fp + 4, HT_CFI_RBP, 16, HT_RBP_AT_CFA, -16);
	expect_row(t, fp + 5, HT_CFI_RBP, 16, HT_RBP_AT_CFA, -16);
	expect_row(t, fp + 6, HT_CFI_RSP, 8, HT_RBP_SAME, 0);
	expect_row(t, fp + 7, HT_CFI_NONE, 0, 0, 0);
	expect_row(t, sig, HT_CFI_SIGNAL, 0, 0, 0);
	expect_row(t, sig + 2, HT_CFI_NONE, 0, 0, 0);
	expect_row(t, end + 1, HT_CFI_END, 0, 0, 0);
	expect_row(t, expr, HT_CFI_BAD, 0, 0, 0);
	expect_row(t, expr + 2, HT_CFI_NONE, 0, 0, 0);
	cfitab__free(t);
}

/* glibc's malloc (2.36): push %r12; push %rbp; push %rbx - CFA moves by
 * 8 per push, rbp saved from its second push on. */
static void test_glibc_malloc_rows(void **state)
{
	size_t len, n;
	void *buf = read_file("/lib/x86_64-linux-gnu/libc.so.6", &len);
	struct ht_cfitab *t = cfitab__new_mem(buf, len);
	struct ht_cfitab_stats st;
	Dl_info di;

	free(buf);
	assert_non_null(t);
	rows_sorted(t);
	cfitab__rows(t, &n);
	cfitab__stats(t, &st);
	assert_int_equal(st.rows, n);
	assert_int_equal(st.bytes, n * sizeof(struct ht_cfi_row));
	assert_true(st.fdes > 1000);
	assert_true(dladdr((void *)malloc, &di));
	{
		uint64_t m = (uintptr_t)malloc - (uintptr_t)di.dli_fbase;

		expect_row(t, m, HT_CFI_RSP, 8, HT_RBP_SAME, 0);
		expect_row(t, m + 2, HT_CFI_RSP, 16, HT_RBP_SAME, 0);
		expect_row(t, m + 3, HT_CFI_RSP, 24, HT_RBP_AT_CFA, -24);
	}
	cfitab__free(t);
}

static void test_no_cfi_is_enodata(void **state)
{
	/* an ELF header only: no sections at all */
	size_t len;
	char *buf = read_file("/proc/self/exe", &len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

	eh->e_shnum = 0;
	eh->e_shoff = 0;
	errno = 0;
	assert_null(cfitab__new_mem(buf, sizeof(*eh)));
	assert_true(errno == ENODATA || errno == EINVAL);
	free(buf);
}

/* Corrupted and truncated .eh_frame: an error or a sorted table. */
static void test_hostile_eh_frame(void **state)
{
	size_t len, off = 0, size = 0;
	uint8_t *buf = read_file("/proc/self/exe", &len), *copy = malloc(len);
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	uint64_t rng = 42;

	assert_non_null(copy);
	elf_version(EV_CURRENT);
	e = elf_memory((char *)buf, len);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		gelf_getshdr(scn, &sh);
		if (!strcmp(elf_strptr(e, shstrndx, sh.sh_name), ".eh_frame")) {
			off = sh.sh_offset;
			size = sh.sh_size;
		}
	}
	elf_end(e);
	assert_true(size > 64);
	for (int i = 0; i < 300; i++) {
		struct ht_cfitab *t;

		memcpy(copy, buf, len);
		for (int k = 0; k < 1 + i % 8; k++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			copy[off + rng % size] = (uint8_t)(rng >> 32);
		}
		t = cfitab__new_mem(copy, i % 3 ? len : off + (rng >> 8) % size);
		if (t) {
			rows_sorted(t);
			cfitab__free(t);
		}
	}
	free(copy);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_of_handwritten_cfi),
		cmocka_unit_test(test_glibc_malloc_rows),
		cmocka_unit_test(test_no_cfi_is_enodata),
		cmocka_unit_test(test_hostile_eh_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
