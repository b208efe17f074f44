/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The in-kernel unwinder (--unwind cfi), included by heaptrace.bpf.c.
 *
 * At an allocation's return it walks the user stack with the unwind rows
 * user space built from each object's DWARF CFI (events.h, user/cfitab.c):
 * for each frame, the kernel's own map of the process (bpf_find_vma) says
 * which file and offset the pc lies in - so mmap, munmap and dlopen need
 * no bookkeeping here - the object's rows are found by file identity in
 * `cfi_objs`, and a binary search in `cfi_rows` gives the rule that leads
 * to the caller. Only return addresses go into the record.
 *
 * Never a wrong frame: every address stored lies in an executable mapping
 * (and in an object heaptrace has a table for, or anonymous code such as
 * JIT output); anything else ends the stack, flagged with the reason
 * (enum ht_alloc_flags). Code without CFI - anonymous mappings, gaps
 * between FDEs, objects whose CFI is unusable - is walked by frame
 * pointer only while the chain stays inside the stack's mapping and
 * climbs. A return address replaced by a pending uretprobe's trampoline
 * is looked up in the task's uprobe return instances.
 */
#ifndef HEAPTRACE_UNWIND_BPF_H
#define HEAPTRACE_UNWIND_BPF_H

#define VM_EXEC 0x4
#ifndef EBUSY
#define EBUSY 16
#endif
#define UW_SEARCH_STEPS 24 /* binary search over up to 16M rows */
#define UW_URETPROBES 16   /* pending uretprobes searched per trampoline */
#define UW_BUSY_TRIES 4    /* bpf_find_vma tries while the mmap_lock is taken */

const volatile __u8 unwind_cfi = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ht_cfi_obj_key);
	__type(value, struct ht_cfi_obj);
} cfi_objs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, __u32);
	__type(value, struct ht_cfi_row);
} cfi_rows SEC(".maps");

enum uw_code { UW_CODE_TABLE = 1,
	       UW_CODE_FP,
	       UW_CODE_UPROBES };

struct uw_vma {
	__u64 start, end, pgoff, ino;
	__u32 dev;
	__u8 exec, file;
};

/* The walk's state, per thread in task storage: values loaded from a map
 * are not tracked by the verifier, so each step verifies once. */
#define UW_CACHE 8 /* code mappings remembered per thread, a power of 2 */

/* A code mapping [lo, hi): pc + to_vaddr is its ELF address, code its
 * enum uw_code, and its object's rows [row_start, row_start + row_count). */
struct uw_mapping {
	__u64 lo, hi;
	__s64 to_vaddr;
	__u32 row_start, row_count;
	__u8 code;
};

struct uw {
	__u64 pc, sp, bp;
	__u64 stop_pc;
	struct uw_mapping cur; /* the mapping pc is in */
	__u32 n, limit;
	__u16 stop; /* enum ht_alloc_flags, 0: ended normally */
	__u8 exact; /* pc is not a return address (frame 0, signal) */
	__u8 bp_ok; /* bp holds the frame's rbp */
	/*
	 * Kept from one walk to the next while no mapping of the process was
	 * removed or moved (maps_gen) and in the same mm (a task keeps its
	 * storage across execve, and after it the same addresses may hold
	 * other objects). Saves bpf_find_vma() and the mmap_lock it takes.
	 */
	__u64 mm;
	__u64 gen;
	__u32 next;               /* cache slot to fill next */
	__u64 stack_lo, stack_hi; /* the mapping the stack pointer is in */
	__u64 xol;                /* the [uprobes] page, 0 until needed */
	struct uw_mapping cache[UW_CACHE];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct uw);
} uw_tasks SEC(".maps");

struct uw_ctx {
	struct uw *u;
	struct ht_alloc_event *ev;
};

static long uw_vma_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct uw_vma *v = data;
	struct file *f = vma->vm_file;

	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->pgoff = vma->vm_pgoff;
	v->exec = !!(vma->vm_flags & VM_EXEC);
	v->file = !!f;
	if (f) {
		v->ino = BPF_CORE_READ(f, f_inode, i_ino);
		v->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	}
	return 0;
}

/*
 * Look up the mapping at addr; 0, or the flag that ends the stack. The
 * mmap_lock is only tried: a writer holding it (another tool attaching a
 * uprobe to a library write-locks every process that maps it, briefly)
 * is waited out for a few tries, then the stack ends, counted.
 */
static __always_inline __u16 uw_find_vma(__u64 addr, struct uw_vma *v)
{
	long err = -EBUSY;

	v->file = 0;
	for (int i = 0; i < UW_BUSY_TRIES && err == -EBUSY; i++)
		err = bpf_find_vma(bpf_get_current_task_btf(), addr, uw_vma_cb, v, 0);
	if (err == -EBUSY)
		return HT_AF_VMA_BUSY;
	return err ? HT_AF_NO_MAPPING : 0;
}

static __always_inline __u64 uw_xol(struct uw *u)
{
	if (!u->xol) {
		struct task_struct *task = bpf_get_current_task_btf();

		u->xol = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
		if (!u->xol)
			u->xol = 1;
	}
	return u->xol;
}

/*
 * The same, shared by the process's threads (a new thread's first walks
 * would otherwise all need bpf_find_vma, while its siblings' mmaps hold
 * the lock): slots under a sequence lock - a writer makes the count odd
 * with a compare-and-swap (or leaves the slot to another writer), a
 * reader uses a copy only if the count was the same even value before
 * and after.
 */
#define UW_SHARED 16

struct uw_shared_slot {
	__u64 seq;
	__u64 gen; /* maps_gen when it was looked up */
	struct uw_mapping m;
};

static struct uw_shared_slot uw_shared[UW_SHARED];

static __always_inline void uw_remember(struct uw *u)
{
	struct uw_shared_slot *e = &uw_shared[(u->cur.lo >> 12) & (UW_SHARED - 1)];
	__u64 seq = e->seq;

	u->cache[u->next++ & (UW_CACHE - 1)] = u->cur;
	if ((seq & 1) || __sync_val_compare_and_swap(&e->seq, seq, seq + 1) != seq)
		return;
	e->gen = u->gen;
	e->m = u->cur;
	__sync_fetch_and_add(&e->seq, 1);
}

/* A shared slot's copy of the mapping at pc, if it is whole and current. */
static __always_inline int uw_shared_find(struct uw *u, __u64 pc)
{
	for (int i = 0; i < UW_SHARED; i++) {
		struct uw_shared_slot *e = &uw_shared[i];
		struct uw_mapping m;
		__u64 seq = *(volatile __u64 *)&e->seq, gen;

		if (seq & 1)
			continue;
		asm volatile("" ::
				     : "memory");
		m = e->m;
		gen = e->gen;
		asm volatile("" ::
				     : "memory");
		if (*(volatile __u64 *)&e->seq != seq || gen != u->gen || pc < m.lo || pc >= m.hi)
			continue;
		u->cur = m;
		u->cache[u->next++ & (UW_CACHE - 1)] = m;
		return 1;
	}
	return 0;
}

/*
 * Bumped whenever the target may remove or move a mapping (munmap, mremap,
 * mmap over existing ones, shmdt): only then can an address stop meaning
 * the same file and offset. mprotect and plain mmaps change no address's
 * file and offset, so they keep the per-thread caches.
 */
__u64 maps_gen = 0;

#define NR_MMAP 9
#define NR_MUNMAP 11
#define NR_MREMAP 25
#define NR_SHMDT 67
#define MAP_FIXED 0x10

SEC("tp_btf/sys_enter")
int BPF_PROG(ht_maps_change, struct pt_regs *regs, long id)
{
	struct uw_vma v;
	__u64 addr, len;

	if (id != NR_MUNMAP && id != NR_MREMAP && id != NR_SHMDT && id != NR_MMAP)
		return 0;
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	if (id == NR_MMAP && !(BPF_CORE_READ(regs, r10) & MAP_FIXED))
		return 0;
	/* A range inside one mapping that is not file-backed code (malloc
	 * trimming a heap, a thread stack going) changes no cached mapping. */
	addr = BPF_CORE_READ(regs, di);
	len = id == NR_SHMDT ? 0 : BPF_CORE_READ(regs, si);
	if (len && !uw_find_vma(addr, &v) && addr + len <= v.end && addr + len > addr &&
	    !(v.exec && v.file))
		return 0;
	__sync_fetch_and_add(&maps_gen, 1);
	return 0;
}

/*
 * Make u->cur the code mapping of pc: an executable mapping
 * of an object with a table (or with none usable: frame pointers), of
 * anonymous code (frame pointers), or the [uprobes] page. 0, or the flag
 * that ends the stack.
 */
static __always_inline __u16 uw_code_at(struct uw *u, __u64 pc)
{
	struct ht_cfi_obj_key key = {};
	struct ht_cfi_obj *obj;
	struct uw_vma v;
	__u16 err;

	if (pc >= u->cur.lo && pc < u->cur.hi)
		return 0;
	for (int i = 0; i < UW_CACHE; i++) {
		struct uw_mapping *c = &u->cache[i];

		if (pc >= c->lo && pc < c->hi) {
			u->cur = *c;
			return 0;
		}
	}
	if (uw_shared_find(u, pc))
		return 0;
	err = uw_find_vma(pc, &v);
	if (err)
		return err;
	if (!v.exec)
		return HT_AF_NO_MAPPING;
	u->cur.lo = v.start;
	u->cur.hi = v.end;
	u->cur.row_count = 0;
	if (!v.file) {
		u->cur.code = v.start == uw_xol(u) ? UW_CODE_UPROBES : UW_CODE_FP;
		uw_remember(u);
		return 0;
	}
	key.ino = v.ino;
	key.dev = v.dev;
	obj = bpf_map_lookup_elem(&cfi_objs, &key);
	if (!obj) {
		u->cur.lo = u->cur.hi = 0;
		u->stop_pc = pc;
		return HT_AF_NO_TABLE;
	}
	u->cur.code = obj->row_count ? UW_CODE_TABLE : UW_CODE_FP;
	u->cur.row_start = obj->row_start;
	u->cur.row_count = obj->row_count;
	u->cur.to_vaddr = (__s64)(v.pgoff << 12) - (__s64)v.start + obj->off_to_vaddr;
	uw_remember(u);
	return 0;
}

struct uw_search {
	__u64 vaddr;
	__u32 lo, hi; /* the row is in [lo, hi) */
	__u8 failed;
};

/* One step of the binary search for the last row with row.pc <= vaddr. */
static long uw_search_step(__u32 i, void *data)
{
	struct uw_search *s = data;
	struct ht_cfi_row *r;
	__u32 mid;

	if (s->hi - s->lo <= 1)
		return 1;
	mid = s->lo + (s->hi - s->lo) / 2;
	r = bpf_map_lookup_elem(&cfi_rows, &mid);
	if (!r) {
		s->failed = 1;
		return 1;
	}
	if (r->pc <= s->vaddr)
		s->lo = mid;
	else
		s->hi = mid;
	return 0;
}

/* The row covering pc in the current object; kind NONE when none does. */
static __always_inline void uw_row(struct uw *u, __u64 pc, struct ht_cfi_row *out)
{
	struct uw_search s = {};
	struct ht_cfi_row *r;

	out->rule = HT_CFI_NONE;
	s.vaddr = pc + (__u64)u->cur.to_vaddr;
	if (u->cur.code != UW_CODE_TABLE || s.vaddr > 0xffffffffULL)
		return;
	s.lo = u->cur.row_start;
	s.hi = u->cur.row_start + u->cur.row_count;
	bpf_loop(UW_SEARCH_STEPS, uw_search_step, &s, 0);
	r = bpf_map_lookup_elem(&cfi_rows, &s.lo);
	if (!r || s.failed || s.hi - s.lo > 1) {
		out->rule = HT_CFI_BAD;
		return;
	}
	if (r->pc <= s.vaddr)
		*out = *r;
}

/* Keep [stack_lo, stack_hi) the mapping of sp, for frame-pointer steps
 * (a signal handler may run on its alternate stack). */
static __always_inline __u16 uw_stack_at(struct uw *u, __u64 sp)
{
	struct uw_vma v;
	__u16 err;

	if (sp >= u->stack_lo && sp < u->stack_hi)
		return 0;
	err = uw_find_vma(sp, &v);
	if (err)
		return err == HT_AF_NO_MAPPING ? HT_AF_STACK_BROKEN : err;
	u->stack_lo = v.start;
	u->stack_hi = v.end;
	return 0;
}

/* The real return address behind a pending uretprobe's trampoline,
 * stored at slot; 0 if not found. */
static __always_inline __u64 uw_uretprobe_ra(__u64 slot)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct return_instance *ri = BPF_CORE_READ(task, utask, return_instances);
	int i;

	for (i = 0; i < UW_URETPROBES && ri; i++) {
		if (BPF_CORE_READ(ri, stack) == slot)
			return BPF_CORE_READ(ri, orig_ret_vaddr);
		ri = BPF_CORE_READ(ri, next);
	}
	return 0;
}

static __always_inline long uw_stop(struct uw *u, __u16 why)
{
	u->stop = why;
	return 1;
}

/* x86-64 rt_sigframe: the ucontext at the handler's return, its saved
 * rbp, rsp and rip (struct sigcontext inside uc_mcontext). */
#define UC_RBP 120
#define UC_RSP 160
#define UC_RIP 168

/* One frame: from (pc, sp, bp) to the caller's; 1 ends the walk. */
static long uw_step(__u32 i, void *data)
{
	struct uw_ctx *c = data;
	struct ht_alloc_event *ev = c->ev;
	struct uw *u = c->u;
	struct ht_cfi_row row;
	__u64 cfa, ra, slot, newbp = u->bp;
	__u8 bp_ok = u->bp_ok, signal = 0;
	__u16 err;

	uw_row(u, u->exact ? u->pc : u->pc - 1, &row);
	switch (HT_CFI_KIND(&row)) {
	case HT_CFI_END:
		return 1;
	case HT_CFI_BAD:
		return uw_stop(u, HT_AF_BAD_RULE);
	case HT_CFI_SIGNAL: {
		__u64 regs[7]; /* rbp rbx rdx rax rcx rsp rip, interrupted */

		if (bpf_probe_read_user(regs, sizeof(regs), (void *)(u->sp + UC_RBP)))
			return uw_stop(u, HT_AF_STACK_BROKEN);
		ra = regs[6];
		cfa = regs[5];
		newbp = regs[0];
		bp_ok = 1;
		signal = 1;
		slot = 0;
		break;
	}
	case HT_CFI_NONE: {
		__u64 frame[2];

		/* frame pointers, only while the chain stays in the stack */
		err = uw_stack_at(u, u->sp);
		if (err)
			return uw_stop(u, err);
		if (!u->bp_ok || u->bp < u->sp || u->bp + 16 > u->stack_hi || (u->bp & 7))
			return uw_stop(u, HT_AF_FP_INVALID);
		if (bpf_probe_read_user(frame, sizeof(frame), (void *)u->bp))
			return uw_stop(u, HT_AF_STACK_BROKEN);
		cfa = u->bp + 16;
		slot = u->bp + 8;
		ra = frame[1];
		newbp = frame[0];
		bp_ok = 1;
		break;
	}
	default:
		if (HT_CFI_KIND(&row) == HT_CFI_RSP) {
			cfa = u->sp + (__s64)row.cfa_off8 * 8;
		} else {
			if (!u->bp_ok)
				return uw_stop(u, HT_AF_BAD_RULE);
			cfa = u->bp + (__s64)row.cfa_off8 * 8;
			if (HT_CFI_KIND(&row) == HT_CFI_RBP_DEREF &&
			    bpf_probe_read_user(&cfa, sizeof(cfa), (void *)cfa))
				return uw_stop(u, HT_AF_STACK_BROKEN);
		}
		slot = cfa - 8;
		if (bpf_probe_read_user(&ra, sizeof(ra), (void *)slot))
			return uw_stop(u, HT_AF_STACK_BROKEN);
		if (HT_CFI_RBP_RULE(&row) == HT_RBP_AT_CFA) {
			if (bpf_probe_read_user(&newbp, sizeof(newbp),
						(void *)(cfa + (__s64)row.rbp_off8 * 8)))
				return uw_stop(u, HT_AF_STACK_BROKEN);
			bp_ok = 1;
		} else if (HT_CFI_RBP_RULE(&row) == HT_RBP_LOST) {
			bp_ok = 0;
		}
		break;
	}
	/* A caller's frame lies above its callee's (a signal handler may
	 * have run on another stack). CFI needs no stack bounds - what it
	 * reads is read or counted - frame pointers do (uw_stack_at). */
	if (!signal && cfa <= u->sp)
		return uw_stop(u, HT_AF_STACK_BROKEN);
	if (!ra)
		return 1;
	err = uw_code_at(u, ra);
	if (err)
		return uw_stop(u, err);
	if (u->cur.code == UW_CODE_UPROBES && signal)
		return uw_stop(u, HT_AF_UPROBE);
	if (u->cur.code == UW_CODE_UPROBES) {
		ra = uw_uretprobe_ra(slot);
		if (!ra)
			return uw_stop(u, HT_AF_UPROBE);
		err = uw_code_at(u, ra);
		if (err)
			return uw_stop(u, err);
		if (u->cur.code == UW_CODE_UPROBES)
			return uw_stop(u, HT_AF_UPROBE);
	}
	if (u->n >= u->limit)
		return uw_stop(u, HT_AF_STACK_TRUNCATED);
	ev->ips[u->n & 127] = ra;
	u->n++;
	u->pc = ra;
	u->sp = cfa;
	u->bp = newbp;
	u->bp_ok = bp_ok;
	u->exact = signal; /* a signal interrupted pc: not a return address */
	return 0;
}

/* Count a stack cut short for a reason other than depth or a bad read. */
static __always_inline void count_unwind_stop(__u16 flags)
{
	if (flags & HT_AF_NO_MAPPING)
		count(HT_C_UW_NO_MAPPING);
	else if (flags & HT_AF_NO_TABLE)
		count(HT_C_UW_NO_TABLE);
	else if (flags & HT_AF_BAD_RULE)
		count(HT_C_UW_BAD_RULE);
	else if (flags & HT_AF_FP_INVALID)
		count(HT_C_UW_FP_INVALID);
	else if (flags & HT_AF_UPROBE)
		count(HT_C_UW_UPROBE);
	else if (flags & HT_AF_VMA_BUSY)
		count(HT_C_UW_VMA_BUSY);
}

/*
 * Unwind the caller's stack at an allocator's return into ev->ips.
 * Returns the number of frames; sets ev->flags to why it ended early.
 */
static __always_inline __u32 unwind_cfi_stack(struct pt_regs *ctx, struct ht_alloc_event *ev)
{
	struct uw_ctx c = { .ev = ev };
	struct uw *u;
	__u64 mm, gen;
	__u16 err;

	/* Frame 0 is where the allocator returned to: code, for certain. */
	ev->ips[0] = PT_REGS_IP(ctx);
	ev->stop_pc = 0;
	u = bpf_task_storage_get(&uw_tasks, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!u) {
		ev->flags |= HT_AF_STACK_BROKEN;
		return 1;
	}
	__builtin_memset(u, 0, offsetof(struct uw, mm));
	gen = *(volatile __u64 *)&maps_gen;
	mm = (__u64)bpf_get_current_task_btf()->mm;
	if (gen != u->gen || mm != u->mm) {
		/* mappings may have gone or moved since the last walk */
		__builtin_memset(&u->mm, 0, sizeof(*u) - offsetof(struct uw, mm));
		u->gen = gen;
		u->mm = mm;
	}
	u->pc = PT_REGS_IP(ctx);
	u->sp = PT_REGS_SP(ctx);
	u->bp = PT_REGS_FP(ctx);
	u->bp_ok = 1;
	u->exact = 1; /* at the return address itself: the caller's state there */
	u->limit = max_depth < HT_MAX_FRAMES ? max_depth : HT_MAX_FRAMES;
	u->n = 1;
	c.u = u;
	err = uw_code_at(u, u->pc);
	if (!err && u->cur.code == UW_CODE_UPROBES)
		err = HT_AF_UPROBE;
	if (!err) {
		bpf_loop(HT_MAX_FRAMES, uw_step, &c, 0);
		err = u->stop;
	}
	ev->flags |= err;
	ev->stop_pc = u->stop_pc;
	return u->n < HT_MAX_FRAMES ? u->n : HT_MAX_FRAMES;
}

#endif /* HEAPTRACE_UNWIND_BPF_H */
