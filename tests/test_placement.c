// SPDX-License-Identifier: MIT
/* Unit tests of entry-probe placement on crafted x86-64 code. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "placement.h"

#define VADDR 0x401000ULL

/* Placement of code placed at VADDR, the function being exactly the buffer. */
#define PLACE(code, want_off, want_emul) \
	place_sized(code, sizeof(code), sizeof(code), want_off, want_emul)

static void place_sized(const uint8_t *code, size_t len, uint64_t func_size,
			uint64_t want_off, bool want_emul)
{
	uint64_t probe = 0;
	bool emul = !want_emul;

	assert_int_equal(placement__find(code, len, VADDR, func_size, &probe, &emul), 0);
	assert_int_equal(probe - VADDR, want_off);
	assert_int_equal(emul, want_emul);
}

static void glibc_free_like_test_je_probes_the_je(void **state __attribute__((unused)))
{
	/* test %rdi,%rdi; je +0x10; push %rbp; mov %rsp,%rbp; ...; ret */
	static const uint8_t code[] = {
		0x48, 0x85, 0xff, 0x74, 0x10, 0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3,
		0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xc3,
	};

	PLACE(code, 3, true);
}

static void endbr64_then_push_rbp_probes_the_push(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3 };

	PLACE(code, 4, true);
}

static void endbr64_then_push_r12_probes_the_push(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x54, 0x49, 0x89, 0xfc, 0xc3 };

	PLACE(code, 4, true);
}

static void push_r12_at_entry_stays_at_entry(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0x41, 0x54, 0x49, 0x89, 0xfc, 0x41, 0x5c, 0xc3 };

	PLACE(code, 0, true);
}

static void push_rbp_at_entry_never_moves_past_the_push(void **state __attribute__((unused)))
{
	/* push %rbp; test %rdi,%rdi; je: the push changes %rsp */
	static const uint8_t code[] = { 0x55, 0x48, 0x85, 0xff, 0x74, 0x01, 0x5d, 0xc3 };

	PLACE(code, 0, true);
}

static void mov_at_entry_stays_not_emulated(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0x48, 0x89, 0xf8, 0xc3 };

	PLACE(code, 0, false);
}

static void test_then_sub_rsp_stays_as_sub_is_not_emulated(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0x48, 0x83, 0xec, 0x08, 0xc3 };

	PLACE(code, 0, false);
}

static void jump_back_to_the_candidate_is_fine(void **state __attribute__((unused)))
{
	/* 0: test; 3: je 11; 5: mov %rdi,%rax; 8: jmp 3; 10: ret */
	static const uint8_t code[] = {
		0x48, 0x85, 0xff, 0x74, 0x06, 0x48, 0x89, 0xf8, 0xeb, 0xf9, 0xc3, 0xc3,
	};

	PLACE(code, 3, true);
}

static void jump_back_to_the_entry_is_fine(void **state __attribute__((unused)))
{
	/* 0: test; 3: je 11; 5: mov %rdi,%rax; 8: jmp 0; 10: ret */
	static const uint8_t code[] = {
		0x48, 0x85, 0xff, 0x74, 0x06, 0x48, 0x89, 0xf8, 0xeb, 0xf6, 0xc3, 0xc3,
	};

	PLACE(code, 3, true);
}

static void jump_to_a_skipped_instruction_stays_at_entry(void **state __attribute__((unused)))
{
	/* 0: endbr64; 4: test; 7: je 12; 9: jmp 4; 11: ret */
	static const uint8_t code[] = {
		0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x74, 0x03, 0xeb, 0xf9, 0xc3, 0xc3,
	};

	PLACE(code, 0, false);
}

static void jump_into_mid_skipped_instruction_stays(void **state __attribute__((unused)))
{
	/* 0: test; 3: je 7; 5: jmp 1; 7: ret */
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0x74, 0x02, 0xeb, 0xfa, 0xc3 };

	PLACE(code, 0, false);
}

static void call_to_a_skipped_instruction_stays(void **state __attribute__((unused)))
{
	/* 0: endbr64; 4: test; 7: je 0x15; 9: call 4; 14: ret */
	static const uint8_t code[] = {
		0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x74, 0x0c,
		0xe8, 0xf6, 0xff, 0xff, 0xff, 0xc3,
	};

	PLACE(code, 0, false);
}

static void loop_to_a_skipped_instruction_stays(void **state __attribute__((unused)))
{
	/* 0: cmp %rsi,%rdi; 3: jae 7; 5: loop 1; 7: ret */
	static const uint8_t code[] = { 0x48, 0x39, 0xf7, 0x73, 0x02, 0xe2, 0xfa, 0xc3 };

	PLACE(code, 0, false);
}

static void test_then_je_rel32_probes_the_je(void **state __attribute__((unused)))
{
	static const uint8_t code[] = {
		0x48, 0x85, 0xff, 0x0f, 0x84, 0x00, 0x01, 0x00, 0x00, 0x55, 0xc3,
	};

	PLACE(code, 3, true);
}

static void cmp_reg_reg_then_jae_probes_the_jae(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0x48, 0x39, 0xf7, 0x73, 0x02, 0x31, 0xc0, 0xc3 };

	PLACE(code, 3, true);
}

static void endbr64_cmp_imm_then_ja_probes_the_ja(void **state __attribute__((unused)))
{
	/* endbr64; cmp $0x10,%rsi; ja +2; xor %eax,%eax; ret */
	static const uint8_t code[] = {
		0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xfe, 0x10, 0x77, 0x02, 0x31, 0xc0, 0xc3,
	};

	PLACE(code, 8, true);
}

static void test_imm_then_jne_probes_the_jne(void **state __attribute__((unused)))
{
	/* test $1,%dil; jne +1; ret; ret */
	static const uint8_t code[] = { 0x40, 0xf6, 0xc7, 0x01, 0x75, 0x01, 0xc3, 0xc3 };

	PLACE(code, 4, true);
}

static void odd_nop_then_test_je_probes_the_je(void **state __attribute__((unused)))
{
	/* nopl (%rax,%rax,1) (not a kernel nop); test; jne +1; ret; ret */
	static const uint8_t code[] = {
		0x0f, 0x1f, 0x04, 0x00, 0x48, 0x85, 0xff, 0x75, 0x01, 0xc3, 0xc3,
	};

	PLACE(code, 7, true);
}

static void kernel_nop_at_entry_stays_emulated(void **state __attribute__((unused)))
{
	/* nopw %cs:0(%rax,%rax,1) (the kernel's 10-byte nop); test; je */
	static const uint8_t code[] = {
		0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x48, 0x85, 0xff, 0x74, 0x01, 0xc3, 0xc3,
	};

	PLACE(code, 0, true);
}

static void endbr64_then_call_probes_the_call(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xe8, 0x10, 0x00, 0x00, 0x00, 0xc3 };

	PLACE(code, 4, true);
}

static void endbr64_then_jmp_rel32_probes_the_jmp(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xe9, 0x10, 0x00, 0x00, 0x00 };

	PLACE(code, 4, true);
}

static void endbr64_then_rex_w_push_stays(void **state __attribute__((unused)))
{
	/* rex.W push %rbp is single-stepped: only 41 is accepted as REX */
	static const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x55, 0xc3 };

	PLACE(code, 0, false);
}

static void operand_size_prefixed_jcc_stays(void **state __attribute__((unused)))
{
	/* test; data16 je: the kernel refuses 0x66 on branches */
	static const uint8_t code[] = {
		0x48, 0x85, 0xff, 0x66, 0x0f, 0x84, 0x10, 0x00, 0x00, 0x00, 0xc3, 0xc3,
	};

	PLACE(code, 0, false);
}

static void garbage_stays_at_entry(void **state __attribute__((unused)))
{
	/* 06 (push %es) and 27 (daa) do not exist in 64-bit mode */
	static const uint8_t code[] = { 0x06, 0x27, 0x06, 0x27, 0xff, 0xff, 0xff, 0xff };

	PLACE(code, 0, false);
}

static void garbage_after_harmless_run_stays_at_entry(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0x06, 0x74, 0x01, 0xc3 };

	PLACE(code, 0, false);
}

static void empty_code_stays_at_entry(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0x74, 0x01 };
	uint64_t probe = 0;
	bool emul = true;

	assert_int_equal(placement__find(code, 0, VADDR, 64, &probe, &emul), 0);
	assert_int_equal(probe, VADDR);
	assert_false(emul);
	assert_int_equal(placement__find(NULL, 0, VADDR, 64, &probe, &emul), 0);
	assert_int_equal(probe, VADDR);
	assert_false(emul);
}

static void candidate_cut_by_len_stays_at_entry(void **state __attribute__((unused)))
{
	/* the je's rel32 is cut off: the run has no visible end */
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0x00, 0x01, 0x00, 0x00 };

	place_sized(code, 7, 64, 0, false);
}

static void function_shorter_than_candidate_stays_at_entry(void **state __attribute__((unused)))
{
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0x74, 0x01, 0xc3, 0xc3 };

	place_sized(code, sizeof(code), 4, 0, false);
	place_sized(code, sizeof(code), 0, 0, false);
	/* exactly long enough */
	place_sized(code, sizeof(code), 5, 3, true);
}

static void targets_past_the_function_size_are_not_scanned(void **state __attribute__((unused)))
{
	/* bytes after the function's end (another function) jump to 1: ignored */
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0x74, 0x01, 0xc3, 0xeb, 0xf9 };

	place_sized(code, sizeof(code), 6, 3, true);
	place_sized(code, sizeof(code), sizeof(code), 0, false);
}

static void lock_prefixed_instruction_before_jump_stays(void **state __attribute__((unused)))
{
	/* test; lock cmpxchg %rdx,(%rdi); je */
	static const uint8_t code[] = {
		0x48, 0x85, 0xff, 0xf0, 0x48, 0x0f, 0xb1, 0x17, 0x74, 0x01, 0xc3, 0xc3,
	};

	PLACE(code, 0, false);
}

static void rep_prefixed_test_stays(void **state __attribute__((unused)))
{
	/* rep test %rdi,%rdi; je; and the same with repne */
	static const uint8_t rep[] = { 0xf3, 0x48, 0x85, 0xff, 0x74, 0x01, 0xc3, 0xc3 };
	static const uint8_t repne[] = { 0xf2, 0x48, 0x85, 0xff, 0x74, 0x01, 0xc3, 0xc3 };

	PLACE(rep, 0, false);
	PLACE(repne, 0, false);
}

static void memory_write_before_jump_stays(void **state __attribute__((unused)))
{
	/* test; mov %rdi,(%rsi); je */
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0x48, 0x89, 0x3e, 0x74, 0x01, 0xc3, 0xc3 };

	PLACE(code, 0, false);
}

static void memory_cmp_before_jump_stays(void **state __attribute__((unused)))
{
	/* cmpq $0,(%rdi); je: reads memory, may fault before the probe */
	static const uint8_t code[] = { 0x48, 0x83, 0x3f, 0x00, 0x74, 0x01, 0xc3, 0xc3 };

	PLACE(code, 0, false);
}

static void rsp_write_before_jump_stays(void **state __attribute__((unused)))
{
	/* endbr64; sub $8,%rsp; je */
	static const uint8_t code[] = {
		0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xec, 0x08, 0x74, 0x01, 0xc3, 0xc3,
	};

	PLACE(code, 0, false);
}

static void cet_hint_space_instruction_is_not_a_nop(void **state __attribute__((unused)))
{
	/* rdsspq %rax lives in the 0f 1e hint space but writes %rax */
	static const uint8_t code[] = {
		0xf3, 0x48, 0x0f, 0x1e, 0xc8, 0x48, 0x85, 0xff, 0x74, 0x01, 0xc3, 0xc3,
	};

	PLACE(code, 0, false);
}

static void is_emulated_recognises_the_kernel_set(void **state __attribute__((unused)))
{
	static const uint8_t push_rbp[] = { 0x55 };
	static const uint8_t push_r15[] = { 0x41, 0x57 };
	static const uint8_t nop1[] = { 0x90 };
	static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	static const uint8_t jmp8[] = { 0xeb, 0xfe };
	static const uint8_t jcc8[] = { 0x74, 0x05 };
	static const uint8_t jcc32[] = { 0x0f, 0x85, 0x00, 0x01, 0x00, 0x00 };
	static const uint8_t call[] = { 0xe8, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	static const uint8_t test[] = { 0x48, 0x85, 0xff };
	static const uint8_t rexw_push[] = { 0x48, 0x55 };
	static const uint8_t call16[] = { 0x66, 0xe8, 0x00, 0x00 };
	static const uint8_t ret[] = { 0xc3 };
	static const uint8_t jcc32_cut[] = { 0x0f, 0x85, 0x00, 0x01 };
	static const uint8_t pause[] = { 0xf3, 0x90 };

	assert_true(placement__is_emulated(push_rbp, sizeof(push_rbp)));
	assert_true(placement__is_emulated(push_r15, sizeof(push_r15)));
	assert_true(placement__is_emulated(nop1, sizeof(nop1)));
	assert_true(placement__is_emulated(nop5, sizeof(nop5)));
	assert_true(placement__is_emulated(jmp8, sizeof(jmp8)));
	assert_true(placement__is_emulated(jcc8, sizeof(jcc8)));
	assert_true(placement__is_emulated(jcc32, sizeof(jcc32)));
	assert_true(placement__is_emulated(call, sizeof(call)));
	assert_false(placement__is_emulated(endbr, sizeof(endbr)));
	assert_false(placement__is_emulated(test, sizeof(test)));
	assert_false(placement__is_emulated(rexw_push, sizeof(rexw_push)));
	assert_false(placement__is_emulated(call16, sizeof(call16)));
	assert_false(placement__is_emulated(ret, sizeof(ret)));
	assert_false(placement__is_emulated(jcc32_cut, sizeof(jcc32_cut)));
	assert_false(placement__is_emulated(pause, sizeof(pause)));
	assert_false(placement__is_emulated(push_rbp, 0));
	assert_false(placement__is_emulated(NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(glibc_free_like_test_je_probes_the_je),
		cmocka_unit_test(endbr64_then_push_rbp_probes_the_push),
		cmocka_unit_test(endbr64_then_push_r12_probes_the_push),
		cmocka_unit_test(push_r12_at_entry_stays_at_entry),
		cmocka_unit_test(push_rbp_at_entry_never_moves_past_the_push),
		cmocka_unit_test(mov_at_entry_stays_not_emulated),
		cmocka_unit_test(test_then_sub_rsp_stays_as_sub_is_not_emulated),
		cmocka_unit_test(jump_back_to_the_candidate_is_fine),
		cmocka_unit_test(jump_back_to_the_entry_is_fine),
		cmocka_unit_test(jump_to_a_skipped_instruction_stays_at_entry),
		cmocka_unit_test(jump_into_mid_skipped_instruction_stays),
		cmocka_unit_test(call_to_a_skipped_instruction_stays),
		cmocka_unit_test(loop_to_a_skipped_instruction_stays),
		cmocka_unit_test(test_then_je_rel32_probes_the_je),
		cmocka_unit_test(cmp_reg_reg_then_jae_probes_the_jae),
		cmocka_unit_test(endbr64_cmp_imm_then_ja_probes_the_ja),
		cmocka_unit_test(test_imm_then_jne_probes_the_jne),
		cmocka_unit_test(odd_nop_then_test_je_probes_the_je),
		cmocka_unit_test(kernel_nop_at_entry_stays_emulated),
		cmocka_unit_test(endbr64_then_call_probes_the_call),
		cmocka_unit_test(endbr64_then_jmp_rel32_probes_the_jmp),
		cmocka_unit_test(endbr64_then_rex_w_push_stays),
		cmocka_unit_test(operand_size_prefixed_jcc_stays),
		cmocka_unit_test(garbage_stays_at_entry),
		cmocka_unit_test(garbage_after_harmless_run_stays_at_entry),
		cmocka_unit_test(empty_code_stays_at_entry),
		cmocka_unit_test(candidate_cut_by_len_stays_at_entry),
		cmocka_unit_test(function_shorter_than_candidate_stays_at_entry),
		cmocka_unit_test(targets_past_the_function_size_are_not_scanned),
		cmocka_unit_test(lock_prefixed_instruction_before_jump_stays),
		cmocka_unit_test(rep_prefixed_test_stays),
		cmocka_unit_test(memory_write_before_jump_stays),
		cmocka_unit_test(memory_cmp_before_jump_stays),
		cmocka_unit_test(rsp_write_before_jump_stays),
		cmocka_unit_test(cet_hint_space_instruction_is_not_a_nop),
		cmocka_unit_test(is_emulated_recognises_the_kernel_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
