// SPDX-License-Identifier: MIT
/*
 * Entry-probe placement on x86-64 (see placement.h).
 *
 * What the kernel emulates is decided, as in arch/x86/kernel/uprobes.c, on
 * the raw bytes, so it is matched on bytes here too; capstone only gives
 * instruction lengths, operands and branch targets. Capstone 4's register
 * access lists are unreliable (it reports `test al,1` as writing al and
 * `lock cmpxchg` as writing nothing), so the harmless set is a short list
 * of instructions, not "whatever writes only flags".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>
#include "elfsym.h"
#include "log.h"
#include "placement.h"

/* The kernel's x86_nops[1..11] for 64-bit (asm/nops.h); uprobes emulate
 * exactly these since 6.16, and the 1- and 2-byte ones before that. */
static const struct {
	uint8_t len;
	uint8_t b[11];
} kernel_nops[] = {
	{ 1, { 0x90 } },
	{ 2, { 0x66, 0x90 } },
	{ 3, { 0x0f, 0x1f, 0x00 } },
	{ 4, { 0x0f, 0x1f, 0x40, 0x00 } },
	{ 5, { 0x0f, 0x1f, 0x44, 0x00, 0x00 } },
	{ 6, { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 } },
	{ 7, { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 } },
	{ 8, { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 } },
	{ 9, { 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 } },
	{ 10, { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 } },
	{ 11, { 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 } },
};

static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };

/*
 * Length of the first instruction of b/len when the kernel emulates it,
 * else 0. Every pattern is a whole instruction (no modrm/sib/disp follows),
 * so a prefix match is an exact match. Any legacy prefix (0x66 on a branch
 * is refused by the kernel, others are rare) or REX other than 0x41 on a
 * push means "not emulated": being wrong that way only costs speed.
 */
static size_t emulated_len(const uint8_t *b, size_t len)
{
	size_t i;

	if (!b || !len)
		return 0;
	/* push %reg: 50+r, or 41 50+r for %r8-%r15 (push_setup_xol_ops) */
	if (b[0] >= 0x50 && b[0] <= 0x57)
		return 1;
	if (b[0] == 0x41 && len >= 2 && b[1] >= 0x50 && b[1] <= 0x57)
		return 2;
	/* jcc rel8, jmp rel8 */
	if ((b[0] >= 0x70 && b[0] <= 0x7f) || b[0] == 0xeb)
		return len >= 2 ? 2 : 0;
	/* jmp rel32, call rel32 */
	if (b[0] == 0xe9 || b[0] == 0xe8)
		return len >= 5 ? 5 : 0;
	/* jcc rel32 */
	if (b[0] == 0x0f && len >= 6 && b[1] >= 0x80 && b[1] <= 0x8f)
		return 6;
	for (i = 0; i < sizeof(kernel_nops) / sizeof(kernel_nops[0]); i++) {
		if (len >= kernel_nops[i].len && !memcmp(b, kernel_nops[i].b, kernel_nops[i].len))
			return kernel_nops[i].len;
	}
	return 0;
}

bool placement__is_emulated(const uint8_t *code, size_t len)
{
	return emulated_len(code, len) != 0;
}

/*
 * A nop by its bytes: 90, or 0f 1f /0 (the architectural NOP r/m), after
 * operand-size or cs/ds prefixes only. The rest of the 0f 18-1f hint space
 * is not trusted: parts of it are real instructions (CET's rdssp, incssp)
 * that capstone 4 may not know.
 */
static bool bytes_are_nop(const uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i < n && (b[i] == 0x66 || b[i] == 0x2e || b[i] == 0x3e))
		i++;
	if (i + 1 == n && b[i] == 0x90)
		return true;
	return i + 3 <= n && b[i] == 0x0f && b[i + 1] == 0x1f && ((b[i + 2] >> 3) & 7) == 0;
}

/* A lock, rep or repne prefix among the legacy and REX prefixes. Read from
 * the bytes: capstone 4 drops a rep in front of test from its detail. */
static bool bytes_have_lock_rep(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (b[i]) {
		case 0xf0: case 0xf2: case 0xf3:
			return true;
		case 0x26: case 0x2e: case 0x36: case 0x3e:
		case 0x64: case 0x65: case 0x66: case 0x67:
			continue;
		default:
			if ((b[i] & 0xf0) == 0x40)	/* REX */
				continue;
			return false;
		}
	}
	return false;
}

/*
 * An instruction we may move the probe past: it writes no register but
 * the flags, no memory and not %rsp, and cannot branch or fault.
 */
static bool insn_is_harmless(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (insn->size == sizeof(endbr64) && !memcmp(insn->bytes, endbr64, sizeof(endbr64)))
		return true;
	if (insn->id == X86_INS_NOP)
		return bytes_are_nop(insn->bytes, insn->size);
	if (insn->id != X86_INS_TEST && insn->id != X86_INS_CMP)
		return false;
	/* lock/rep make it something else than a plain flag write */
	if (x->prefix[0] || bytes_have_lock_rep(insn->bytes, insn->size))
		return false;
	/* a memory operand could fault before the moved probe fires */
	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG)
		return false;
	return x->operands[1].type == X86_OP_REG || x->operands[1].type == X86_OP_IMM;
}

/* The target of a direct jump, jcc, call, loop or jrcxz. */
static bool insn_branch_target(const cs_insn *insn, uint64_t *target)
{
	const cs_detail *d = insn->detail;
	bool branch = false;
	uint8_t i;

	for (i = 0; i < d->groups_count; i++) {
		if (d->groups[i] == X86_GRP_JUMP || d->groups[i] == X86_GRP_CALL ||
		    d->groups[i] == X86_GRP_BRANCH_RELATIVE)
			branch = true;
	}
	if (!branch)
		return false;
	for (i = 0; i < d->x86.op_count; i++) {
		if (d->x86.operands[i].type == X86_OP_IMM) {
			*target = (uint64_t)d->x86.operands[i].imm;
			return true;
		}
	}
	return false;
}

int placement__find(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t func_size,
		    uint64_t *probe_vaddr, bool *emulated)
{
	cs_insn *insns = NULL;
	uint64_t cand_addr, target;
	size_t n, i, cand, win;
	cs_err cerr;
	csh cs;

	*probe_vaddr = vaddr;
	*emulated = placement__is_emulated(code, len);
	/* Already cheap, or nothing to look at */
	if (*emulated || !code || !len)
		return 0;
	/* Never decode past the function: what follows is another one */
	win = len;
	if (func_size < win)
		win = func_size;
	if (!win)
		return 0;

	cerr = cs_open(CS_ARCH_X86, CS_MODE_64, &cs);
	if (cerr != CS_ERR_OK)
		return cerr == CS_ERR_MEM ? -ENOMEM : -EINVAL;
	if (cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
		cs_close(&cs);
		return -EINVAL;
	}
	/* Stops at the first undecodable byte: we judge what decoded */
	n = cs_disasm(cs, code, win, vaddr, 0, &insns);

	for (cand = 0; cand < n && insn_is_harmless(&insns[cand]); cand++)
		;
	/* Entry not harmless (and not emulated), or no end seen to the run */
	if (cand == 0 || cand == n)
		goto out;
	if (emulated_len(insns[cand].bytes, insns[cand].size) != insns[cand].size)
		goto out;
	cand_addr = insns[cand].address;
	if (cand_addr - vaddr + insns[cand].size > func_size)
		goto out;
	/* A jump into the skipped run would enter without being seen */
	for (i = 0; i < n; i++) {
		if (insn_branch_target(&insns[i], &target) && target > vaddr && target < cand_addr)
			goto out;
	}
	*probe_vaddr = cand_addr;
	*emulated = true;
out:
	if (n)
		cs_free(insns, n);
	cs_close(&cs);
	return 0;
}

uint64_t placement__probe_offset(struct ht_elf *e, const struct ht_elf_sym *sym, uint64_t off)
{
	uint8_t code[1024];
	uint64_t at, moved_off;
	bool emulated;
	long n;

	n = ht_elf__read_code(e, sym->vaddr, code,
			      sym->size && sym->size < sizeof(code) ? sym->size : sizeof(code));
	if (n <= 0 || placement__find(code, (size_t)n, sym->vaddr, sym->size, &at, &emulated))
		return off;
	if (at == sym->vaddr || ht_elf__symbol_starts_within(e, sym->vaddr + 1, at + 1) ||
	    ht_elf__vaddr_to_offset(e, at, &moved_off))
		return off;
	pr_debug("probe for '%s' moved +%llu to an emulated instruction\n", sym->name,
		 (unsigned long long)(at - sym->vaddr));
	return moved_off;
}

struct ht_placement {
	csh cs;
};

struct ht_placement *placement__new(void)
{
	struct ht_placement *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &pl->cs) != CS_ERR_OK) {
		free(pl);
		errno = EINVAL;
		return NULL;
	}
	if (cs_option(pl->cs, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
		cs_close(&pl->cs);
		free(pl);
		errno = EINVAL;
		return NULL;
	}
	return pl;
}

void placement__free(struct ht_placement *pl)
{
	if (!pl)
		return;
	cs_close(&pl->cs);
	free(pl);
}

static int32_t rd32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

/* The symbol a jump or call to `to` reaches through a PLT stub
 * (endbr64 and a bnd prefix, then jmp *GOT(%rip)). */
static const char *plt_target(struct ht_elf *e, uint64_t to)
{
	uint8_t c[16];
	long n;
	size_t i = 0;

	if (!ht_elf__in_plt(e, to))
		return NULL;
	n = ht_elf__read_code(e, to, c, sizeof(c));
	if (n <= 0)
		return NULL;
	if (n >= 4 && !memcmp(c, endbr64, sizeof(endbr64)))
		i = 4;
	if (i < (size_t)n && c[i] == 0xf2)
		i++;
	if (i + 6 > (size_t)n || c[i] != 0xff || c[i + 1] != 0x25)
		return NULL;
	return ht_elf__got_symbol(e, to + i + 6 + (int64_t)rd32(c + i + 2));
}

/*
 * An instruction that only sets up registers for a tail call: it writes
 * a general register other than the stack pointer, and no memory (it may
 * read memory: mimalloc loads its thread's heap). A short list, not
 * capstone 4's register access lists, which are unreliable.
 */
static bool is_setup(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	x86_reg r;

	switch (insn->id) {
	case X86_INS_NOP:
	case X86_INS_ENDBR64:
		return true;
	case X86_INS_MOV:
	case X86_INS_MOVABS:
	case X86_INS_MOVZX:
	case X86_INS_MOVSX:
	case X86_INS_MOVSXD:
	case X86_INS_LEA:
	case X86_INS_XOR:
	case X86_INS_AND:
	case X86_INS_OR:
	case X86_INS_ADD:
	case X86_INS_SUB:
	case X86_INS_SHL:
	case X86_INS_SHR:
		break;
	default:
		return false;
	}
	if (x->op_count < 1 || x->operands[0].type != X86_OP_REG)
		return false;
	r = x->operands[0].reg;
	return r != X86_REG_RSP && r != X86_REG_ESP && r != X86_REG_SP && r != X86_REG_SPL &&
	       r != X86_REG_RIP;
}

/* A jmp/call with one operand: its direct target (*to) and the symbol it
 * reaches through the PLT or GOT (*name). False for other instructions. */
static bool branch_of(struct ht_elf *e, const cs_insn *insn, uint64_t *to, const char **name)
{
	const cs_x86 *x = &insn->detail->x86;
	const cs_x86_op *op = &x->operands[0];

	*to = 0;
	*name = NULL;
	if ((insn->id != X86_INS_JMP && insn->id != X86_INS_CALL) || x->op_count != 1)
		return false;
	if (op->type == X86_OP_IMM) {
		*to = (uint64_t)op->imm;
		*name = plt_target(e, *to);
	} else if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP &&
		   op->mem.index == X86_REG_INVALID) {
		*name = ht_elf__got_symbol(e, insn->address + insn->size + (uint64_t)op->mem.disp);
	}
	return true;
}

/* The first (at most) max instructions of the code at vaddr, decoded from
 * up to 96 bytes; 0 when none (*insns is then NULL). */
static size_t decode_at(struct ht_placement *pl, struct ht_elf *e, uint64_t vaddr, size_t max,
			cs_insn **insns)
{
	uint8_t code[96];
	long len = ht_elf__read_code(e, vaddr, code, sizeof(code));

	*insns = NULL;
	return len > 0 ? cs_disasm(pl->cs, code, (size_t)len, vaddr, max, insns) : 0;
}

bool placement__tail_call(struct ht_placement *pl, struct ht_elf *e, uint64_t vaddr,
			  uint64_t *to, const char **name)
{
	cs_insn *insns;
	size_t n = decode_at(pl, e, vaddr, 12, &insns);
	bool ok = false;

	*to = 0;
	*name = NULL;
	for (size_t i = 0; i < n; i++) {
		if (is_setup(&insns[i]))
			continue;
		if (insns[i].id != X86_INS_JMP || !branch_of(e, &insns[i], to, name))
			break;
		if (*name)
			*to = 0;
		ok = *to || *name;
		break;
	}
	if (insns)
		cs_free(insns, n);
	return ok;
}

int placement__foreach_branch(struct ht_placement *pl, struct ht_elf *e,
			      const struct ht_elf_sym *fn,
			      int (*cb)(uint64_t to, const char *name, void *ctx), void *ctx)
{
	uint8_t code[1024];
	size_t len = fn->size && fn->size < sizeof(code) ? fn->size : sizeof(code);
	cs_insn *insns = NULL;
	long got = ht_elf__read_code(e, fn->vaddr, code, len);
	size_t n;
	int ret = 0;

	if (got <= 0)
		return 0;
	n = cs_disasm(pl->cs, code, (size_t)got, fn->vaddr, 0, &insns);
	for (size_t i = 0; i < n && !ret; i++) {
		const char *name;
		uint64_t to;

		if (branch_of(e, &insns[i], &to, &name) && (to || name))
			ret = cb(to, name, ctx);
	}
	if (insns)
		cs_free(insns, n);
	return ret;
}

bool placement__jump_slot(struct ht_placement *pl, struct ht_elf *e, uint64_t vaddr,
			  uint64_t *slot)
{
	cs_insn *insns;
	size_t n = decode_at(pl, e, vaddr, 16, &insns);
	bool ok = false;

	*slot = 0;
	for (size_t i = 0; i < n; i++) {
		const cs_detail *d = insns[i].detail;
		const cs_x86_op *op = &d->x86.operands[0];
		bool stop = insns[i].id == X86_INS_UD2 || insns[i].id == X86_INS_HLT;

		for (uint8_t g = 0; g < d->groups_count; g++)
			stop |= d->groups[g] == X86_GRP_CALL || d->groups[g] == X86_GRP_RET ||
				d->groups[g] == X86_GRP_INT || d->groups[g] == X86_GRP_IRET;
		if (stop)
			break;
		if (insns[i].id != X86_INS_JMP)
			continue;  /* a conditional branch falls through */
		if (d->x86.op_count == 1 && op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP &&
		    op->mem.index == X86_REG_INVALID) {
			*slot = insns[i].address + insns[i].size + (uint64_t)op->mem.disp;
			ok = true;
		}
		break;
	}
	if (insns)
		cs_free(insns, n);
	return ok;
}
