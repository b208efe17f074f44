// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dwarf.h>
#include <gelf.h>
#include <elfutils/libdw.h>
#include "cfitab.h"
#include "util.h"

/* x86-64 DWARF register numbers. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

/* Bounds on the work hostile input can cause: rows per FDE (each costs a
 * run of the FDE's program) and rows per object. */
#define MAX_FDE_ROWS 4096
#define MAX_ROWS (16u << 20)

struct ht_cfitab {
	struct ht_cfi_row *rows;
	size_t n, cap;
	struct ht_cfitab_stats st;
};

struct fde {
	uint64_t lo, hi;
	uint64_t off; /* section offset of the entry */
};

struct cie {
	uint64_t off;
	uint8_t enc; /* FDE pointer encoding; 0xff: undecodable */
	bool z;      /* FDEs carry sized augmentation data */
	bool sane;   /* its initial instructions passed sane_program() */
};

struct builder {
	struct ht_cfitab *t;
	Elf_Data *data;
	uint64_t sec_addr; /* .eh_frame's address, for pc-relative pointers */
	bool eh;
	struct cie *cies;
	size_t ncies, cap_cies;
	struct fde *fdes;
	size_t nfdes, cap_fdes;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* LEB128; *sign set reads the signed form. */
static bool read_leb(const uint8_t **p, const uint8_t *end, bool sign, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int shift = 0;

	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (sign && shift < 64 && (b & 0x40))
				v |= ~0ULL << shift;
			*out = v;
			return true;
		}
	}
	return false;
}

/* Read a pointer of encoding enc (DW_EH_PE_*) at *p; pcrel applies to
 * the field's own address when with_base is set (address ranges are
 * plain values). Encodings not used for code addresses fail. */
static bool read_encoded(const struct builder *b, const uint8_t **p, const uint8_t *end,
			 uint8_t enc, bool with_base, uint64_t *out)
{
	const uint8_t *start = *p;
	uint64_t v = 0;
	size_t sz = 0;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		sz = 8;
		break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		sz = 4;
		break;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		sz = 2;
		break;
	case DW_EH_PE_uleb128:
	case DW_EH_PE_sleb128:
		if (!read_leb(p, end, (enc & 0x0f) == DW_EH_PE_sleb128, &v))
			return false;
		break;
	default:
		return false;
	}
	if (sz) {
		if ((size_t)(end - *p) < sz)
			return false;
		if (sz == 8) {
			memcpy(&v, *p, 8);
		} else if (sz == 4) {
			uint32_t u;

			memcpy(&u, *p, 4);
			v = (enc & 0x0f) == DW_EH_PE_sdata4 ? (uint64_t)(int64_t)(int32_t)u : u;
		} else {
			uint16_t u;

			memcpy(&u, *p, 2);
			v = (enc & 0x0f) == DW_EH_PE_sdata2 ? (uint64_t)(int64_t)(int16_t)u : u;
		}
		*p += sz;
	}
	if (!with_base) {
		*out = v;
		return true;
	}
	switch (enc & 0x70) {
	case DW_EH_PE_absptr:
		break;
	case DW_EH_PE_pcrel:
		v += b->sec_addr + (uint64_t)(start - (const uint8_t *)b->data->d_buf);
		break;
	default:
		return false;
	}
	*out = v;
	return true;
}

/* The largest DWARF register number accepted in CFI: x86-64 code saves
 * 0..16 (16 = return address); libdw sizes each frame state by the
 * largest number it meets, so hostile numbers would cost it gigabytes. */
#define MAX_CFI_REG 32
#define MAX_REMEMBER 32

/*
 * Check a CFA program before libdw runs it: known opcodes only, register
 * numbers up to MAX_CFI_REG, nesting of remember_state bounded, operands
 * inside the entry.
 */
static bool sane_program(const struct builder *b, const uint8_t *p, const uint8_t *end,
			 uint8_t enc)
{
	uint64_t reg, v;
	int depth = 0;

	while (p < end) {
		uint8_t op = *p++;

		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
			continue;
		case DW_CFA_offset:
			if ((op & 0x3f) > MAX_CFI_REG || !read_leb(&p, end, false, &v))
				return false;
			continue;
		case DW_CFA_restore:
			if ((op & 0x3f) > MAX_CFI_REG)
				return false;
			continue;
		}
		reg = 0;
		switch (op) {
		case DW_CFA_nop:
			break;
		case DW_CFA_set_loc:
			if (!read_encoded(b, &p, end, enc & 0x0f, false, &v))
				return false;
			break;
		case DW_CFA_advance_loc1:
		case DW_CFA_advance_loc2:
		case DW_CFA_advance_loc4:
			v = op == DW_CFA_advance_loc1 ? 1 : op == DW_CFA_advance_loc2 ? 2 :
											4;
			if ((uint64_t)(end - p) < v)
				return false;
			p += v;
			break;
		case DW_CFA_offset_extended:
		case DW_CFA_offset_extended_sf:
		case DW_CFA_register:
		case DW_CFA_def_cfa:
		case DW_CFA_def_cfa_sf:
		case DW_CFA_val_offset:
		case DW_CFA_val_offset_sf:
		case DW_CFA_GNU_negative_offset_extended:
			if (!read_leb(&p, end, false, &reg) || !read_leb(&p, end, true, &v))
				return false;
			if (op == DW_CFA_register && v > MAX_CFI_REG)
				return false;
			break;
		case DW_CFA_restore_extended:
		case DW_CFA_undefined:
		case DW_CFA_same_value:
		case DW_CFA_def_cfa_register:
			if (!read_leb(&p, end, false, &reg))
				return false;
			break;
		case DW_CFA_remember_state:
			if (++depth > MAX_REMEMBER)
				return false;
			break;
		case DW_CFA_restore_state:
			depth--;
			break;
		case DW_CFA_def_cfa_offset:
		case DW_CFA_def_cfa_offset_sf:
		case DW_CFA_GNU_args_size:
			if (!read_leb(&p, end, op == DW_CFA_def_cfa_offset_sf, &v))
				return false;
			break;
		case DW_CFA_expression:
		case DW_CFA_val_expression:
			if (!read_leb(&p, end, false, &reg))
				return false;
			/* fall through */
		case DW_CFA_def_cfa_expression:
			if (!read_leb(&p, end, false, &v) || v > (uint64_t)(end - p))
				return false;
			p += v;
			break;
		default:
			return false;
		}
		if (reg > MAX_CFI_REG)
			return false;
	}
	return true;
}

/* The FDE pointer encoding a CIE announces (its 'R' augmentation). */
static uint8_t cie_encoding(const struct builder *b, const Dwarf_CIE *c)
{
	const char *aug = c->augmentation;
	const uint8_t *p = c->augmentation_data;
	const uint8_t *end = p ? p + c->augmentation_data_size : NULL;
	uint8_t enc = DW_EH_PE_absptr;
	uint64_t dummy;

	if (!aug || aug[0] != 'z')
		return aug && aug[0] ? 0xff : DW_EH_PE_absptr;
	for (aug++; *aug; aug++) {
		switch (*aug) {
		case 'L':
			if (!p || p >= end)
				return 0xff;
			p++;
			break;
		case 'R':
			if (!p || p >= end)
				return 0xff;
			enc = *p++;
			break;
		case 'P':
			if (!p || p >= end)
				return 0xff;
			{
				uint8_t penc = *p++;

				if (!read_encoded(b, &p, end, penc & 0x0f, false, &dummy))
					return 0xff;
			}
			break;
		case 'S':
		case 'B':
			break;
		default:
			return 0xff;
		}
	}
	return enc;
}

static const struct cie *find_cie(const struct builder *b, uint64_t off)
{
	for (size_t i = b->ncies; i-- > 0;)
		if (b->cies[i].off == off)
			return &b->cies[i];
	return NULL;
}

struct pending_fde {
	uint64_t off, cie_off;
	const uint8_t *start, *end;
};

/* Read every FDE's range [lo, hi) from the section. */
static int collect_fdes(struct builder *b, const unsigned char *ident)
{
	struct pending_fde *pend = NULL;
	size_t npend = 0, cap = 0;
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry ent;
	int err = 0, r;

	while (off < b->data->d_size) {
		r = dwarf_next_cfi(ident, b->data, b->eh, off, &next, &ent);
		if (r > 0)
			break;
		if (r < 0 || next <= off) {
			err = -EINVAL;
			goto out;
		}
		if (ent.CIE_id == DW_CIE_ID_64) {
			err = grow_array((void **)&b->cies, &b->cap_cies, b->ncies + 1,
					 sizeof(*b->cies));
			if (err)
				goto out;
			b->cies[b->ncies].off = off;
			b->cies[b->ncies].z = ent.cie.augmentation && ent.cie.augmentation[0] == 'z';
			b->cies[b->ncies].enc = cie_encoding(b, &ent.cie);
			b->cies[b->ncies].sane =
				b->cies[b->ncies].enc != 0xff &&
				ent.cie.return_address_register == REG_RA &&
				sane_program(b, ent.cie.initial_instructions,
					     ent.cie.initial_instructions_end, b->cies[b->ncies].enc);
			b->ncies++;
		} else {
			err = grow_array((void **)&pend, &cap, npend + 1, sizeof(*pend));
			if (err)
				goto out;
			pend[npend].off = off;
			pend[npend].cie_off = ent.fde.CIE_pointer;
			pend[npend].start = ent.fde.start;
			pend[npend++].end = ent.fde.end;
		}
		off = next;
	}
	b->t->st.fdes = npend;
	for (size_t i = 0; i < npend; i++) {
		const struct cie *c = find_cie(b, pend[i].cie_off);
		const uint8_t *p = pend[i].start;
		uint64_t lo, len, aug = 0;

		if (!c || !c->sane ||
		    !read_encoded(b, &p, pend[i].end, c->enc, true, &lo) ||
		    !read_encoded(b, &p, pend[i].end, c->enc, false, &len) ||
		    (c->z && (!read_leb(&p, pend[i].end, false, &aug) ||
			      aug > (uint64_t)(pend[i].end - p))) ||
		    !sane_program(b, p + aug, pend[i].end, c->enc)) {
			/* undecodable, or a program libdw is not to run: libdw
			 * could pick this entry for any pc, so none is used */
			err = -EINVAL;
			goto out;
		}
		if (!len)
			continue;
		if (len > UINT32_MAX || lo > UINT32_MAX - len) {
			/* beyond the 32-bit pcs rows hold: no rows there */
			b->t->st.skipped_fdes++;
			continue;
		}
		err = grow_array((void **)&b->fdes, &b->cap_fdes, b->nfdes + 1, sizeof(*b->fdes));
		if (err)
			goto out;
		b->fdes[b->nfdes].lo = lo;
		b->fdes[b->nfdes].off = pend[i].off;
		b->fdes[b->nfdes++].hi = lo + len;
	}
out:
	free(pend);
	return err;
}

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh) || sh->sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static bool has_fde_at(const struct builder *b, uint64_t off)
{
	size_t lo = 0, hi = b->nfdes;

	/* b->fdes is still in section order here */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->fdes[mid].off == off)
			return true;
		if (b->fdes[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * libdw finds a pc's FDE through .eh_frame_hdr's search table when there
 * is one: every entry of it must name an FDE that collect_fdes() checked,
 * or a hostile table would make libdw run unchecked bytes.
 */
static int check_eh_frame_hdr(struct builder *b, Elf *elf)
{
	const uint8_t *p, *end;
	uint64_t eh_ptr, count;
	uint8_t ptr_enc, count_enc;
	Elf_Data *d;
	GElf_Shdr sh;
	Elf_Scn *scn;

	scn = find_section(elf, ".eh_frame_hdr", &sh);
	if (!scn)
		return 0;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || d->d_size < 4)
		return -EINVAL;
	p = d->d_buf;
	end = p + d->d_size;
	if (p[0] != 1)
		return -EINVAL;
	if (p[2] == DW_EH_PE_omit || p[3] == DW_EH_PE_omit)
		return 0; /* no search table: libdw reads .eh_frame in order */
	if (p[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4) || (p[2] & 0x70))
		return -EINVAL;
	ptr_enc = p[1];
	count_enc = p[2];
	p += 4;
	/* the pointer's value is not needed, only its size */
	if (!read_encoded(b, &p, end, ptr_enc & 0x0f, false, &eh_ptr) ||
	    !read_encoded(b, &p, end, count_enc & 0x0f, false, &count))
		return -EINVAL;
	if (count > (uint64_t)(end - p) / 8)
		return -EINVAL;
	for (uint64_t i = 0; i < count; i++, p += 8) {
		int32_t fde;
		uint64_t addr;

		memcpy(&fde, p + 4, 4);
		addr = sh.sh_addr + (uint64_t)(int64_t)fde;
		if (addr < b->sec_addr || !has_fde_at(b, addr - b->sec_addr))
			return -EINVAL;
	}
	return 0;
}

static int cmp_fde(const void *a, const void *b)
{
	const struct fde *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static bool same_rule(const struct ht_cfi_row *a, const struct ht_cfi_row *b)
{
	return a->rule == b->rule && a->cfa_off8 == b->cfa_off8 && a->rbp_off8 == b->rbp_off8;
}

/* Append a row at pc; one that repeats the rule in force adds nothing. */
static int add_row(struct ht_cfitab *t, const struct ht_cfi_row *r)
{
	if (t->n && same_rule(&t->rows[t->n - 1], r))
		return 0;
	if (t->n && t->rows[t->n - 1].pc == r->pc) {
		t->rows[t->n - 1] = *r; /* an empty range: the later rule wins */
		if (t->n > 1 && same_rule(&t->rows[t->n - 2], r))
			t->n--;
		return 0;
	}
	if (t->n >= MAX_ROWS)
		return -E2BIG;
	if (grow_array((void **)&t->rows, &t->cap, t->n + 1, sizeof(*t->rows)))
		return -ENOMEM;
	t->rows[t->n++] = *r;
	if (HT_CFI_KIND(r) == HT_CFI_BAD)
		t->st.bad_rows++;
	return 0;
}

bool cfitab__saved_at_cfa(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (nops == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*off = 0;
		return true;
	}
	if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa &&
	    ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

/* One CFI row as the BPF side follows it. */
static void frame_to_row(Dwarf_Frame *frame, int ra_reg, bool signal, uint32_t pc,
			 struct ht_cfi_row *r)
{
	Dwarf_Op mem[3], *ops;
	uint8_t kind, rbp = HT_RBP_SAME;
	int64_t off, cfa_off;
	size_t nops;

	memset(r, 0, sizeof(*r));
	r->pc = pc;
	r->rule = HT_CFI_BAD;
	if (signal) {
		r->rule = HT_CFI_SIGNAL;
		return;
	}
	if (ra_reg != REG_RA)
		return;
	if (dwarf_frame_register(frame, REG_RA, mem, &ops, &nops))
		return;
	/* libdw: no ops and *ops set means "undefined", *ops NULL "same value" */
	if (nops == 0 && ops) {
		r->rule = HT_CFI_END;
		return;
	}
	if (!cfitab__saved_at_cfa(ops, nops, &off) || off != -8)
		return;
	if (dwarf_frame_cfa(frame, &ops, &nops))
		return;
	if (nops == 1 && (ops[0].atom == DW_OP_breg7 || ops[0].atom == DW_OP_breg6)) {
		kind = ops[0].atom == DW_OP_breg7 ? HT_CFI_RSP : HT_CFI_RBP;
		cfa_off = (int64_t)ops[0].number;
	} else if (nops == 1 && ops[0].atom == DW_OP_bregx &&
		   (ops[0].number == REG_RSP || ops[0].number == REG_RBP)) {
		kind = ops[0].number == REG_RSP ? HT_CFI_RSP : HT_CFI_RBP;
		cfa_off = (int64_t)ops[0].number2;
	} else if (nops == 2 && ops[0].atom == DW_OP_breg6 && ops[1].atom == DW_OP_deref) {
		kind = HT_CFI_RBP_DEREF;
		cfa_off = (int64_t)ops[0].number;
	} else {
		return;
	}
	if ((cfa_off & 7) || cfa_off / 8 < INT16_MIN || cfa_off / 8 > INT16_MAX)
		return;
	r->cfa_off8 = (int16_t)(cfa_off / 8);
	if (dwarf_frame_register(frame, REG_RBP, mem, &ops, &nops)) {
		rbp = HT_RBP_LOST;
	} else if (nops == 0) {
		rbp = ops ? HT_RBP_LOST : HT_RBP_SAME;
	} else if (cfitab__saved_at_cfa(ops, nops, &off) && !(off & 7) && off / 8 >= INT8_MIN &&
		   off / 8 <= INT8_MAX) {
		rbp = HT_RBP_AT_CFA;
		r->rbp_off8 = (int8_t)(off / 8);
	} else {
		rbp = HT_RBP_LOST; /* a rule that needs it later is caught in BPF */
	}
	r->rule = kind | rbp << 4;
}

/* The rows of one FDE's range [lo, hi), then a NONE row at hi unless
 * the next FDE starts there. */
static int walk_fde(struct builder *b, Dwarf_CFI *cfi, uint64_t lo, uint64_t hi,
		    uint64_t next_lo)
{
	struct ht_cfi_row r;
	uint64_t pc = lo;
	int err, rows = 0;

	while (pc < hi) {
		Dwarf_Addr start, end;
		Dwarf_Frame *frame;
		bool signal = false;
		int ra;

		if (rows++ >= MAX_FDE_ROWS || dwarf_cfi_addrframe(cfi, pc, &frame)) {
			/* libdw can't run this FDE's program (or it is huge):
			 * the stack ends in it, counted */
			memset(&r, 0, sizeof(r));
			r.pc = (uint32_t)pc;
			r.rule = HT_CFI_BAD;
			err = add_row(b->t, &r);
			if (err)
				return err;
			break;
		}
		ra = dwarf_frame_info(frame, &start, &end, &signal);
		frame_to_row(frame, ra, signal, (uint32_t)pc, &r);
		free(frame);
		err = add_row(b->t, &r);
		if (err)
			return err;
		if (ra < 0 || end <= pc)
			break;
		pc = end;
	}
	if (next_lo > hi) {
		memset(&r, 0, sizeof(r));
		r.pc = (uint32_t)hi;
		r.rule = HT_CFI_NONE;
		return add_row(b->t, &r);
	}
	return 0;
}

static int build(struct ht_cfitab *t, Elf *elf)
{
	struct builder b = { .t = t };
	unsigned char *ident;
	Dwarf_CFI *cfi = NULL;
	Dwarf *dw = NULL;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Scn *scn;
	int err;

	ident = (unsigned char *)elf_getident(elf, NULL);
	if (!ident || !gelf_getehdr(elf, &eh) || ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64)
		return -EINVAL;
	scn = find_section(elf, ".eh_frame", &sh);
	b.eh = true;
	if (!scn) {
		scn = find_section(elf, ".debug_frame", &sh);
		b.eh = false;
	}
	if (!scn)
		return -ENODATA;
	if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return -EINVAL;
	b.data = elf_getdata(scn, NULL);
	if (!b.data || !b.data->d_buf || !b.data->d_size)
		return -ENODATA;
	b.sec_addr = sh.sh_addr;
	if (b.eh) {
		cfi = dwarf_getcfi_elf(elf);
	} else {
		dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
		cfi = dw ? dwarf_getcfi(dw) : NULL;
	}
	if (!cfi) {
		err = -EINVAL;
		goto out;
	}
	err = collect_fdes(&b, ident);
	if (!err && b.eh)
		err = check_eh_frame_hdr(&b, elf);
	if (err)
		goto out;
	if (!b.nfdes) {
		err = -ENODATA;
		goto out;
	}
	qsort(b.fdes, b.nfdes, sizeof(*b.fdes), cmp_fde);
	for (size_t i = 0; i < b.nfdes && !err; i++) {
		uint64_t lo = b.fdes[i].lo, hi = b.fdes[i].hi;
		uint64_t next_lo = i + 1 < b.nfdes ? b.fdes[i + 1].lo : UINT64_MAX;

		if (t->n && lo < t->rows[t->n - 1].pc) {
			/* overlaps a previous FDE's rows: only rows in order */
			t->st.skipped_fdes++;
			continue;
		}
		if (next_lo < hi)
			hi = next_lo; /* overlapping FDEs: the next one wins */
		err = walk_fde(&b, cfi, lo, hi, next_lo);
	}
out:
	if (b.eh && cfi)
		dwarf_cfi_end(cfi);
	if (dw)
		dwarf_end(dw);
	free(b.cies);
	free(b.fdes);
	return err;
}

struct ht_cfitab *cfitab__new(Elf *elf)
{
	struct ht_cfitab *t = calloc(1, sizeof(*t));
	uint64_t t0 = now_ns();
	int err;

	if (!t)
		return NULL;
	err = elf ? build(t, elf) : -EINVAL;
	if (err) {
		cfitab__free(t);
		errno = -err;
		return NULL;
	}
	t->st.rows = t->n;
	t->st.bytes = t->n * sizeof(*t->rows);
	t->st.build_ns = now_ns() - t0;
	return t;
}

struct ht_cfitab *cfitab__new_mem(const void *buf, size_t len)
{
	struct ht_cfitab *t;
	char *copy;
	Elf *elf;
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = EINVAL;
		return NULL;
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		return NULL;
	memcpy(copy, buf, len);
	elf = elf_memory(copy, len);
	t = cfitab__new(elf);
	err = errno;
	elf_end(elf);
	free(copy);
	errno = err;
	return t;
}

void cfitab__free(struct ht_cfitab *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

const struct ht_cfi_row *cfitab__rows(const struct ht_cfitab *t, size_t *n)
{
	*n = t->n;
	return t->rows;
}

void cfitab__stats(const struct ht_cfitab *t, struct ht_cfitab_stats *out)
{
	*out = t->st;
}

const struct ht_cfi_row *cfitab__find(const struct ht_cfitab *t, uint64_t pc)
{
	size_t lo = 0, hi = t->n;

	if (!t->n || pc < t->rows[0].pc || pc > UINT32_MAX)
		return NULL;
	/* the last row with row.pc <= pc */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return &t->rows[lo];
}
