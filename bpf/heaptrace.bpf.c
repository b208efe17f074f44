// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * heaptrace probe programs.
 *
 * One program per probe kind, attached to many allocator functions; each
 * attachment's BPF cookie says which function it is and how that function
 * passes its arguments (see enum ht_layout in events.h):
 *
 *   ht_enter  - entry of an allocating function: remember its arguments
 *   ht_exit   - return of an allocating function: emit the allocation with
 *               the caller's stack, walked through frame pointers here or
 *               unwound from CFI tables (unwind.h)
 *   ht_free   - entry of a freeing function: emit the free
 *   ht_session - both ht_enter and ht_exit, as one session uprobe (Linux
 *               6.12+): its entry returns 1 for a call whose return needs no
 *               look (left out by sampling or a size filter, nested), which
 *               cancels that return probe - one trap instead of two
 *   ht_exec   - the target called execve(): its old heap is gone
 *
 * A per-thread nesting depth makes each user-level call count once: glibc
 * calls its own entry points (realloc(NULL, n) calls malloc), and only the
 * outermost call of a thread is recorded.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load. */
const volatile __u32 target_tgid = 0;
const volatile __u32 max_depth = 64;
const volatile __u64 ring_bytes = 1024 * 1024; /* size of `events` */
const volatile __u32 stack_bytes = 0;  /* raw stack to copy, multiple of 8 */
const volatile __u64 sample_bytes = 0; /* 0: record every allocation */
const volatile __u64 min_size = 0;     /* record only sizes >= min_size ... */
const volatile __u64 max_size = 0;     /* ... and <= max_size (0: no limit) */
const volatile __u64 sample_seed = 0;
const volatile __u32 sample_thr[HT_SAMPLE_STEPS] = {}; /* p(step) * 2^32 */

/* execve()s of the target: user space compares this with the exec records
 * it has read to know whether /proc/PID/maps still shows the program its
 * pending events came from. */
__u64 exec_count = 0;

/* Changes of the target's link map: the dynamic linker calls
 * _dl_debug_state (r_brk of _r_debug) before and after each dlopen and
 * dlclose; user space looks for new objects when this moves. */
__u64 dl_changes = 0;

/* Loss and anomaly counters (enum ht_counter), one set per CPU so that no
 * event writes a shared cache line; user space sums them at report time. */
struct ht_counters {
	__u64 c[__HT_C_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ht_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024); /* resized by user space */
} events SEC(".maps");

/* Sampling: the blocks that were recorded, so that only their frees are. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);  /* sized by user space when sampling */
	__type(key, __u64);
	__type(value, __u8);
} sampled SEC(".maps");

/* Per-thread state: the call in flight and a scratch record. */
struct ht_task {
	__u64 sp;         /* stack pointer at the outermost entry */
	__u64 size;
	__u64 arg;        /* realloc's old pointer, posix_memalign's out */
	__u32 cookie_lo;  /* layout */
	__u32 func;
	__u32 depth;
	__u32 thr;        /* this call's sampling threshold; 0 = recorded exactly */
	__u64 stack_top;  /* mm->start_stack: no frames live above it */
	__u64 rng;        /* xorshift64* state; 0 = not seeded yet */
	__u8 skip;        /* this call was left out by sampling */
	struct ht_alloc_event ev;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ht_task);
} tasks SEC(".maps");

static __always_inline void count(enum ht_counter c)
{
	__u32 zero = 0;
	struct ht_counters *cs = bpf_map_lookup_elem(&counters, &zero);

	/* atomic: another task's program may preempt this one on this CPU */
	if (cs && c < __HT_C_MAX)
		__sync_fetch_and_add(&cs->c[c], 1);
}

/* Sampling or size filters: recorded blocks are kept in `sampled` so that
 * only their frees are recorded. */
static __always_inline int tracking(void)
{
	return sample_bytes || min_size || max_size;
}

/* xorshift64*: a reproducible stream per thread for a given --seed. */
static __always_inline __u32 next_rand(struct ht_task *t)
{
	__u64 x = t->rng;

	if (!x)
		x = (sample_seed ^ ((__u64)(__u32)bpf_get_current_pid_tgid() *
				    0x9e3779b97f4a7c15ULL)) | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return (__u32)((x * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Decide whether an allocation of size is recorded; sets t->thr. */
static __always_inline int sample_out(struct ht_task *t, __u64 size)
{
	__u64 step;
	__u32 thr;

	t->thr = 0;
	if (!sample_bytes || size >= sample_bytes)
		return 0;
	step = size * HT_SAMPLE_STEPS / sample_bytes;
	if (step >= HT_SAMPLE_STEPS)
		return 0;
	thr = sample_thr[step];
	t->thr = thr;
	return next_rand(t) >= thr;
}

static __always_inline int is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

/* Wake the consumer only once a quarter of the ring waits (used: bytes in
 * the ring): a wakeup per record costs more than the probe itself. User
 * space also polls on a short timer. */
static __always_inline __u64 rb_flags(__u64 used)
{
	return used >= ring_bytes / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/*
 * A call at the very stack pointer of the open call: a jump from it into
 * another entry point (glibc's aligned_alloc and memalign into malloc for
 * small alignments), if the return address there is the [uprobes]
 * trampoline the open call's return probe put in its place; else a new
 * call after a return that was never seen.
 */
static __always_inline int tail_called(__u64 sp)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 ret, xol = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);

	return xol && !bpf_probe_read_user(&ret, sizeof(ret), (void *)sp) && ret >= xol &&
	       ret < xol + 4096;
}

/*
 * Decide whether this call is the thread's outermost traced call. A depth
 * left over from a call whose return never came (its frame is gone: the
 * stack pointer is no deeper than it was) is reset and counted.
 */
static __always_inline int tail_called(__u64 sp);

static __always_inline int nested(struct ht_task *t, __u64 sp)
{
	if (!t->depth)
		return 0;
	if (sp < t->sp || (sp == t->sp && tail_called(sp)))
		return 1;
	count(HT_C_STALE_CALL);
	t->depth = 0;
	return 0;
}

static __always_inline void emit_free(__u64 addr, __u32 func);
static __always_inline int take_sampled(__u64 addr);

#include "unwind.h"

/* A block realloc/xallocx consumes that was recorded: its return matters
 * even when the call itself was left out. */
static __always_inline int frees_recorded(struct ht_task *t)
{
	switch (t->cookie_lo) {
	case HT_L_REALLOC:
	case HT_L_REALLOC_FLAGS:
	case HT_L_REALLOCARRAY:
	case HT_L_HEAP_REALLOC:
	case HT_L_HEAP_REALLOCN:
	case HT_L_XALLOCX:
		return t->arg && bpf_map_lookup_elem(&sampled, &t->arg);
	default:
		return 0;
	}
}

/*
 * A call left out whose return needs no look: with session uprobes, cancel
 * its return probe (returns 1) - only for a leaf (HT_COOKIE_LEAF), in which
 * no probed call can nest. Any other call left out keeps its return probe,
 * which ends its nesting: a cancelled call's end could only be guessed from
 * its return address staying on the stack, and a slot nothing overwrote
 * after it returned (CPython's eval loop) made later calls look nested.
 */
static __always_inline int cancel_return(struct ht_task *t, __u64 cookie, int session)
{
	if (!session || !HT_COOKIE_IS_LEAF(cookie) || frees_recorded(t))
		return 0;
	t->depth = 0;
	return 1;
}

/* The entry of an allocating call. Returns 1 when its return probe may be
 * cancelled (session uprobes only), else 0. */
static __always_inline int on_enter(struct pt_regs *ctx, int session)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 layout = HT_COOKIE_LAYOUT(cookie);
	__u64 sp = PT_REGS_SP(ctx);
	struct ht_task *t;

	if (!is_target())
		return session;
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		count(HT_C_NO_STATE);
		return session;
	}
	if (nested(t, sp)) {
		/* with its return cancelled, it needs no depth to undo */
		if (!session)
			t->depth++;
		count(HT_C_NESTED);
		return session;
	}

	t->depth = 1;
	t->sp = sp;
	t->cookie_lo = layout;
	t->func = HT_COOKIE_FUNC(cookie);
	t->arg = 0;
	switch (layout) {
	case HT_L_SIZE:
	case HT_L_SIZE_FLAGS:
	case HT_L_SIZE_ALIGN:
		t->size = PT_REGS_PARM1(ctx);
		break;
	case HT_L_CALLOC:
		t->size = PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx);
		break;
	case HT_L_REALLOC:
	case HT_L_REALLOC_FLAGS:
	case HT_L_XALLOCX:
		t->arg = PT_REGS_PARM1(ctx);
		t->size = PT_REGS_PARM2(ctx);
		break;
	case HT_L_REALLOCARRAY:
		t->arg = PT_REGS_PARM1(ctx);
		t->size = PT_REGS_PARM2(ctx) * PT_REGS_PARM3(ctx);
		break;
	case HT_L_HEAP_CALLOC:
		t->size = PT_REGS_PARM2(ctx) * PT_REGS_PARM3(ctx);
		break;
	case HT_L_HEAP_REALLOC:
		t->arg = PT_REGS_PARM2(ctx);
		t->size = PT_REGS_PARM3(ctx);
		break;
	case HT_L_HEAP_REALLOCN:
		t->arg = PT_REGS_PARM2(ctx);
		t->size = PT_REGS_PARM3(ctx) * PT_REGS_PARM4(ctx);
		break;
	case HT_L_ALIGN_SIZE:
		t->size = PT_REGS_PARM2(ctx);
		break;
	case HT_L_POSIX_MEMALIGN:
		t->arg = PT_REGS_PARM1(ctx);
		t->size = PT_REGS_PARM3(ctx);
		break;
	case HT_L_FREE_WRAP:
		/* Recorded now, before the block can be reused; a probed free
		 * it calls - even tail-calls, at this very stack pointer - is
		 * nested (sp < t->sp). Its return only ends the nesting. */
		t->sp += 8;
		t->thr = 0;
		t->skip = 1;
		t->arg = PT_REGS_PARM1(ctx);
		if (t->arg && (!tracking() || take_sampled(t->arg)))
			emit_free(t->arg, t->func);
		return 0;
	default:
		t->depth = 0;
		return session;
	}
	if ((min_size && t->size < min_size) || (max_size && t->size > max_size)) {
		/* In-kernel size filter: no stack, no record, no free record. */
		t->thr = 0;
		t->skip = 1;
		count(HT_C_FILTERED);
		return cancel_return(t, cookie, session);
	}
	t->skip = sample_out(t, t->size);
	if (!t->skip)
		return 0;
	count(HT_C_UNSAMPLED);
	return cancel_return(t, cookie, session);
}

SEC("uprobe")
int ht_enter(struct pt_regs *ctx)
{
	on_enter(ctx, 0);
	return 0;
}

static __always_inline void emit_free(__u64 addr, __u32 func)
{
	struct ht_free_event e = {};

	e.hdr.type = HT_EV_FREE;
	e.hdr.tid = (__u32)bpf_get_current_pid_tgid();
	e.hdr.ts = bpf_ktime_get_ns();
	e.addr = addr;
	e.func = func;
	if (bpf_ringbuf_output(&events, &e, sizeof(e),
			       rb_flags(bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA))))
		count(HT_C_RINGBUF_FULL_FREE);
}

/*
 * Walk the frame-pointer chain of the caller. At a function's return the
 * instruction pointer is already in the caller and %rbp is the caller's
 * frame: ips[0] is the return address into the caller, then each frame's
 * saved return address at [fp + 8].
 */
static __always_inline __u32 walk_stack(struct pt_regs *ctx, struct ht_alloc_event *ev)
{
	struct {
		__u64 fp;
		__u64 ret;
	} frame;
	__u64 fp = PT_REGS_FP(ctx);
	__u32 n = 1, i;

	ev->ips[0] = PT_REGS_IP(ctx);
	for (i = 1; i < HT_MAX_FRAMES; i++) {
		if (i >= max_depth) {
			ev->flags |= HT_AF_STACK_TRUNCATED;
			break;
		}
		if (!fp)
			break;
		if (bpf_probe_read_user(&frame, sizeof(frame), (void *)fp)) {
			ev->flags |= HT_AF_STACK_BROKEN;
			break;
		}
		if (!frame.ret)
			break;
		ev->ips[i] = frame.ret;
		n = i + 1;
		if (frame.fp <= fp)
			break;
		fp = frame.fp;
	}
	return n;
}

/*
 * Copy raw stack from sp up, right after the n addresses, for user space
 * to unwind frames that have no frame pointer. A window that runs past
 * the end of the stack mapping is cut back to sp's own page.
 */
static __always_inline __u32 copy_stack(struct ht_task *t, struct ht_alloc_event *ev,
					 __u32 n)
{
	__u32 len = stack_bytes, off = n * 8;
	__u64 sp = ev->sp;
	__u8 *dst;

	if (!len)
		return 0;
	/* Near the top of the main thread's stack, a window running past
	 * the mapping would fault (costly) - and no frame lives above
	 * start_stack anyway. */
	if (!t->stack_top) {
		struct task_struct *task = (void *)bpf_get_current_task();

		t->stack_top = BPF_CORE_READ(task, mm, start_stack);
	}
	/* argc, argv[] and auxv (>= 256 bytes) are mapped above it */
	if (sp < t->stack_top && t->stack_top + 256 - sp < len)
		len = (t->stack_top + 256 - sp) & ~7U;
	if (len > HT_MAX_STACK_BYTES)
		len = HT_MAX_STACK_BYTES;
	if (len < 8)
		return 0;
	if (off > HT_MAX_FRAMES * 8)
		return 0;
	dst = (__u8 *)ev->ips + off;
	if (!bpf_probe_read_user(dst, len, (void *)sp))
		return len;
	len = 4096 - (sp & 4095);
	if (len > HT_MAX_STACK_BYTES)
		return 0;
	if (bpf_probe_read_user(dst, len, (void *)sp))
		return 0;
	return len;
}

/*
 * Is there room for an allocation record of size bytes, leaving the last
 * eighth of the ring to frees? A lost allocation only makes the numbers
 * lower bounds (its free becomes an unknown free); a lost free leaves its
 * block live for ever, a leak that never was. So allocations give way
 * first: under pressure their raw stack window goes (the frame-pointer
 * stack stays), then the record itself.
 */
static __always_inline int room_for_alloc(__u64 used, __u64 size)
{
	return used + size + 8 + ring_bytes / 8 <= ring_bytes;
}

/*
 * Fill t->ev as a record of type with the stack at ctx and send it; the
 * caller counts the stack's flags. Returns 0, or -1 if the ring had no room.
 * Allocation records count the stack windows they leave out; mapping
 * records (type HT_EV_MMAP) keep the heap's counters as they are.
 */
static __always_inline int send_stacked(struct pt_regs *ctx, struct ht_task *t, __u32 type,
					__u64 addr, __u64 size, __u64 old, __u32 func, __u32 thr)
{
	struct ht_alloc_event *ev = &t->ev;
	__u64 used = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u32 n, len;

	ev->hdr.type = type;
	ev->hdr.tid = (__u32)bpf_get_current_pid_tgid();
	ev->hdr.ts = bpf_ktime_get_ns();
	ev->addr = addr;
	ev->size = size;
	ev->old_addr = old;
	ev->func = func;
	ev->flags = 0;
	ev->sample_thr = thr;
	ev->sp = PT_REGS_SP(ctx);
	ev->bp = PT_REGS_FP(ctx);
	n = unwind_cfi ? unwind_cfi_stack(ctx, ev) : walk_stack(ctx, ev);
	if (n > HT_MAX_FRAMES)
		n = HT_MAX_FRAMES;
	ev->nr_ips = n;
	len = 0;
	if (stack_bytes) {
		/* windows only while the ring is at most half full */
		if (room_for_alloc(used, HT_ALLOC_EVENT_SIZE(n) + stack_bytes +
					   ring_bytes * 3 / 8))
			len = copy_stack(t, ev, n);
		else if (type == HT_EV_ALLOC)
			count(HT_C_WINDOW_DROPPED);
	}
	ev->stack_len = len;
	if (!room_for_alloc(used, HT_ALLOC_EVENT_SIZE(n) + len) ||
	    bpf_ringbuf_output(&events, ev, HT_ALLOC_EVENT_SIZE(n) + len, rb_flags(used)))
		return -1;
	return 0;
}

static __always_inline void emit_alloc(struct pt_regs *ctx, struct ht_task *t, __u64 addr,
				       __u64 old)
{
	__u16 flags;

	if (send_stacked(ctx, t, HT_EV_ALLOC, addr, t->size, old, t->func, t->thr))
		count(HT_C_RINGBUF_FULL_ALLOC);
	flags = t->ev.flags;
	if (flags & HT_AF_STACK_TRUNCATED)
		count(HT_C_STACK_TRUNCATED);
	if (flags & HT_AF_STACK_BROKEN)
		count(HT_C_STACK_BROKEN);
	if (flags & ~(HT_AF_STACK_TRUNCATED | HT_AF_STACK_BROKEN))
		count_unwind_stop(flags);
}

/* Is addr a recorded block? Forgets it: its free is being recorded. */
static __always_inline int take_sampled(__u64 addr)
{
	return addr && !bpf_map_delete_elem(&sampled, &addr);
}

/*
 * Decode an allocating call's return into the block it produced (addr) and
 * the block it consumed (old): addr alone is a new block, both a realloc
 * (moved or resized in place), old alone a block freed by realloc(p, 0).
 * Returns 0 if the call did neither.
 */
static __always_inline int decode_exit(struct ht_task *t, __u64 ret, __u64 *addr, __u64 *old)
{
	*addr = ret;
	*old = 0;
	switch (t->cookie_lo) {
	case HT_L_FREE_WRAP:
		return 0;
	case HT_L_POSIX_MEMALIGN:
		if ((int)ret != 0 || t->skip)
			return 0;
		if (bpf_probe_read_user(addr, sizeof(*addr), (void *)t->arg)) {
			count(HT_C_OUT_READ_FAIL);
			return 0;
		}
		break;
	case HT_L_XALLOCX:
		/* ret is the usable size: >= size means resized in place,
		 * to the size asked for; less, the block is unchanged */
		if (ret < t->size || !t->arg)
			return 0;
		*addr = *old = t->arg;
		break;
	case HT_L_REALLOC:
	case HT_L_REALLOC_FLAGS:
	case HT_L_REALLOCARRAY:
	case HT_L_HEAP_REALLOC:
	case HT_L_HEAP_REALLOCN:
		*old = t->arg;
		/* realloc(p, 0) returning NULL freed p; any other NULL failed */
		if (!ret && t->size)
			*old = 0;
		break;
	default:
		break;
	}
	return *addr || *old;
}

/*
 * Sampling and size filters: only recorded blocks are in `sampled`. An old
 * block counts only if it was recorded (else it was never seen); the new
 * block of a call left out is not recorded, so a realloc left out frees
 * its recorded old block.
 */
static __always_inline void track(struct ht_task *t, __u64 *addr, __u64 *old)
{
	__u8 one = 1;

	if (*old && !take_sampled(*old))
		*old = 0;
	if (t->skip)
		*addr = 0;
	if (*addr && bpf_map_update_elem(&sampled, addr, &one, BPF_ANY))
		count(HT_C_SAMPLED_MAP_FULL);
}

/* The return of an allocating call. */
static __always_inline int on_exit(struct pt_regs *ctx)
{
	struct ht_task *t;
	__u64 addr, old;

	if (!is_target())
		return 0;
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, 0);
	if (!t || !t->depth)
		return 0;
	if (--t->depth)
		return 0;

	if (!decode_exit(t, PT_REGS_RC(ctx), &addr, &old))
		return 0;
	if (tracking())
		track(t, &addr, &old);
	if (addr)
		emit_alloc(ctx, t, addr, old);
	else if (old)
		emit_free(old, t->func);
	return 0;
}

SEC("uretprobe")
int ht_exit(struct pt_regs *ctx)
{
	return on_exit(ctx);
}

extern bool bpf_session_is_return(void) __ksym __weak;

/* Attached by user space only where the kernel has session uprobes. */
SEC("uprobe")
int ht_session(struct pt_regs *ctx)
{
	if (bpf_session_is_return())
		return on_exit(ctx);
	return on_enter(ctx, 1);
}

SEC("uprobe")
int ht_free(struct pt_regs *ctx)
{
	__u64 addr = PT_REGS_PARM1(ctx);
	struct ht_task *t;

	if (!addr || !is_target())
		return 0;
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, 0);
	if (t && nested(t, PT_REGS_SP(ctx))) {
		count(HT_C_NESTED);
		return 0;
	}
	/* Sampling: a block never recorded has a free not worth recording. */
	if (tracking() && !take_sampled(addr))
		return 0;
	emit_free(addr, HT_COOKIE_FUNC(bpf_get_attach_cookie(ctx)));
	return 0;
}

SEC("uprobe")
int ht_dl_change(struct pt_regs *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&dl_changes, 1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ht_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ht_event_hdr h = {};

	if (BPF_CORE_READ(p, tgid) != target_tgid)
		return 0;
	__sync_fetch_and_add(&exec_count, 1);
	h.type = HT_EV_EXEC;
	h.tid = BPF_CORE_READ(p, pid);
	h.ts = bpf_ktime_get_ns();
	if (bpf_ringbuf_output(&events, &h, sizeof(h), BPF_RB_FORCE_WAKEUP))
		count(HT_C_RINGBUF_FULL_EXEC);
	return 0;
}

/*
 * --mmap: the target's anonymous mmap, munmap and mremap calls, from the
 * syscall tracepoints (they see the allocator's own mmaps and inline
 * syscalls alike, at a fraction of a uprobe's cost). Addresses are freed
 * at a call's entry and mapped at its return, so that records of two
 * threads racing for the same addresses arrive in a possible order. At
 * the return the saved user registers still hold the arguments (the
 * syscall ABI preserves them), and the user stack is unwound from there
 * as at an allocator's return - frame 0 is the syscall's own pc.
 * Attached only with --mmap.
 */
#define MAP_ANONYMOUS 0x20

static __always_inline void emit_map_change(__u32 kind, __u64 addr, __u64 len, __s64 ret,
					    __u32 flags)
{
	struct ht_map_event e = {};

	e.hdr.type = HT_EV_MAP_CHANGE;
	e.hdr.tid = (__u32)bpf_get_current_pid_tgid();
	e.hdr.ts = bpf_ktime_get_ns();
	e.addr = addr;
	e.len = len;
	e.ret = ret;
	e.kind = kind;
	e.flags = flags;
	if (bpf_ringbuf_output(&events, &e, sizeof(e),
			       rb_flags(bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA))))
		count(HT_C_RINGBUF_FULL_UNMAP);
}

/* munmap(addr, len) past the kernel's argument checks (what fails them,
 * EINVAL, changes nothing): page-aligned, not empty, below task_size. */
static __always_inline bool munmap_valid(__u64 addr, __u64 len)
{
	__u64 size = BPF_CORE_READ(bpf_get_current_task_btf(), mm, task_size);

	return !(addr & 4095) && len && addr <= size && len <= size - addr;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ht_mmap_enter, struct pt_regs *regs, long id)
{
	__u64 addr, len;

	if ((id != NR_MUNMAP && id != NR_MREMAP) || !is_target())
		return 0;
	addr = BPF_CORE_READ(regs, di);
	len = BPF_CORE_READ(regs, si);
	if (id == NR_MREMAP) {
		emit_map_change(HT_MM_REMAP_FROM, addr, len, 0, (__u32)BPF_CORE_READ(regs, r10));
		return 0;
	}
	if (munmap_valid(addr, len))
		emit_map_change(HT_MM_UNMAP, addr, len, 0, 0);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ht_mmap_exit, struct pt_regs *regs, long ret)
{
	long id = BPF_CORE_READ(regs, orig_ax);
	struct ht_task *t;
	__u64 flags;

	if ((id != NR_MMAP && id != NR_MUNMAP && id != NR_MREMAP) || !is_target())
		return 0;
	if (id == NR_MUNMAP) {
		if (ret && munmap_valid(BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si)))
			count(HT_C_MUNMAP_FAILED);
		return 0;
	}
	if (id == NR_MREMAP) {
		emit_map_change(HT_MM_REMAP_TO, ret < 0 ? 0 : ret, BPF_CORE_READ(regs, dx), ret, 0);
		return 0;
	}
	if (ret < 0 && ret > -4096)
		return 0; /* failed */
	flags = BPF_CORE_READ(regs, r10);
	if (!(flags & MAP_ANONYMOUS)) {
		if (flags & MAP_FIXED)
			emit_map_change(HT_MM_FIXED_OVER, ret, BPF_CORE_READ(regs, si), 0, 0);
		return 0;
	}
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		count(HT_C_MMAP_NO_STATE);
		return 0;
	}
	/* t->ev is scratch: an allocator call in flight (malloc mapping a
	 * large block) keeps its state in the other fields */
	if (send_stacked(regs, t, HT_EV_MMAP, ret, BPF_CORE_READ(regs, si), 0, HT_MM_MAP, 0))
		count(HT_C_RINGBUF_FULL_MMAP);
	if (t->ev.flags)
		count(HT_C_MMAP_STACK_SHORT);
	return 0;
}
