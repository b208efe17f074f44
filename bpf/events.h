/* SPDX-License-Identifier: MIT */
/*
 * The ABI shared by the BPF programs and user space: probe cookies, event
 * records and loss counters. Fixed-width types only; every record starts
 * with struct ht_event_hdr so a reader can dispatch on its type tag.
 */
#ifndef HEAPTRACE_EVENTS_H
#define HEAPTRACE_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HT_MAX_FRAMES 127
#define HT_MAX_STACK_BYTES 8192  /* raw stack copied for DWARF unwinding */

/*
 * Sampling: an allocation of size < sample_bytes is recorded with
 * probability p = 1 - exp(-size / sample_bytes) - what a Poisson process
 * over bytes with mean sample_bytes gives an allocation. p is quantized
 * into HT_SAMPLE_STEPS steps of size / sample_bytes and passed as a 32-bit
 * threshold (p * 2^32) in the record, so user space weighs each sample by
 * exactly 1/p as used: the estimates are unbiased.
 */
#define HT_SAMPLE_STEPS 4096

/*
 * How a probed function passes its arguments and result. One BPF program
 * per probe kind reads the arguments according to this layout, taken from
 * the low byte of the attachment's BPF cookie; the function's index in the
 * user-space probe table sits above it (cookie >> 8).
 */
enum ht_layout {
	HT_L_SIZE = 1,        /* p = f(size): malloc, valloc, pvalloc, new */
	HT_L_CALLOC,          /* p = f(n, size) */
	HT_L_REALLOC,         /* p = f(old, size) */
	HT_L_REALLOCARRAY,    /* p = f(old, n, size) */
	HT_L_ALIGN_SIZE,      /* p = f(align, size): memalign, aligned_alloc */
	HT_L_POSIX_MEMALIGN,  /* int f(void **out, align, size) */
	HT_L_FREE,            /* f(p) and f(p, ...): free, sized delete */
	HT_L_SIZE_FLAGS,      /* p = f(size, flags): jemalloc mallocx */
	HT_L_REALLOC_FLAGS,   /* p = f(old, size, flags): jemalloc rallocx */
	HT_L_SIZE_ALIGN,      /* p = f(size, align): aligned operator new */
	HT_L_XALLOCX,         /* usable = f(p, size, extra, flags): jemalloc xallocx,
			       * in place: usable >= size is a realloc of p to size */
	HT_L_HEAP_CALLOC,     /* p = f(heap, n, size): mimalloc mi_heap_calloc */
	HT_L_HEAP_REALLOC,    /* p = f(heap, old, size): mi_heap_realloc */
	HT_L_HEAP_REALLOCN,   /* p = f(heap, old, n, size): mi_heap_reallocn */
	HT_L_FREE_WRAP,       /* f(p, ...): a free that may call another probed free
			       * (jemalloc's aligned sized delete tail-calls sdallocx):
			       * recorded at entry, calls inside it are nested */
	__HT_L_MAX, /* below HT_COOKIE_LEAF */
};

/*
 * A cookie: the probe point's index, its layout, and HT_COOKIE_LEAF for an
 * entry point that reaches no other probed entry point while it runs
 * (glibc's malloc: not its realloc, whose realloc(NULL, n) calls malloc).
 * Only a leaf's return probe may be cancelled: nothing can nest in it, so
 * nothing needs to know when it returns.
 */
#define HT_COOKIE_LEAF 0x80
#define HT_COOKIE(func_idx, layout, leaf) \
	(((__u64)(func_idx) << 8) | (layout) | ((leaf) ? HT_COOKIE_LEAF : 0))
#define HT_COOKIE_LAYOUT(c) ((__u32)((c) & 0x7f))
#define HT_COOKIE_IS_LEAF(c) (!!((c) & HT_COOKIE_LEAF))
#define HT_COOKIE_FUNC(c) ((__u32)((c) >> 8))

enum ht_event_type {
	HT_EV_ALLOC = 1,  /* struct ht_alloc_event: an allocation or realloc */
	HT_EV_FREE,       /* struct ht_free_event */
	HT_EV_EXEC,       /* struct ht_event_hdr: the target ran execve() */
	HT_EV_MMAP,       /* struct ht_alloc_event (--mmap): an anonymous mmap
			   * returned addr, size bytes long; func is HT_MM_MAP */
	HT_EV_MAP_CHANGE, /* struct ht_map_event (--mmap): munmap, mremap */
};

/* --mmap: what a mapping record says (ht_alloc_event.func, ht_map_event.kind). */
enum ht_map_kind {
	HT_MM_MAP = 1,     /* HT_EV_MMAP: a new anonymous mapping */
	HT_MM_UNMAP,       /* munmap(addr, len) entered (a failure is counted at exit) */
	HT_MM_REMAP_FROM,  /* mremap(addr, len, .., flags) entered: the old range */
	HT_MM_REMAP_TO,    /* its return: ret < 0 failed, else the new range (addr, len) */
	HT_MM_FIXED_OVER,  /* a file mapping was put over [addr, addr + len) (MAP_FIXED) */
};

struct ht_event_hdr {
	__u32 type;       /* enum ht_event_type */
	__u32 tid;        /* thread that made the call */
	__u64 ts;         /* CLOCK_MONOTONIC ns, at the call's return */
};

enum ht_alloc_flags {
	HT_AF_STACK_TRUNCATED = 1 << 0, /* the walk hit the depth limit */
	HT_AF_STACK_BROKEN = 1 << 1,    /* a frame could not be read */
	/* --unwind cfi: why a stack ended early (at most one is set) */
	HT_AF_NO_MAPPING = 1 << 2,      /* next address in no executable mapping */
	HT_AF_NO_TABLE = 1 << 3,        /* in an object without a table yet: stop_pc */
	HT_AF_BAD_RULE = 1 << 4,        /* a CFI rule not followed (or rbp unknown) */
	HT_AF_FP_INVALID = 1 << 5,      /* no CFI, and the frame-pointer chain left the stack */
	HT_AF_UPROBE = 1 << 6,          /* a pending uretprobe's return that can't be resolved */
	HT_AF_VMA_BUSY = 1 << 7,        /* the memory map was locked by a writer */
};

/*
 * An allocation that returned `addr`. A realloc that moved or resized a
 * block carries the old address in `old_addr` (0 for a plain allocation):
 * user space frees the old block and records the new one, in that order.
 *
 * `data` holds `nr_ips` return addresses walked through frame pointers,
 * innermost first (ips[0] is the return address into the function that
 * called the allocator), followed by `stack_len` bytes of raw user stack
 * copied from `sp` upwards - present only when user space asked for them,
 * to unwind code built without frame pointers through its CFI.
 * `sp` and `bp` are the registers at the allocator's return.
 * With --unwind cfi, `ips` is the whole unwound stack, no raw window
 * follows, and `stop_pc` is the address in an object without a table
 * (HT_AF_NO_TABLE) for user space to build one.
 */
struct ht_alloc_event {
	struct ht_event_hdr hdr;
	__u64 addr;
	__u64 size;
	__u64 old_addr;
	__u64 sp;
	__u64 bp;
	__u64 stop_pc;
	__u32 func;       /* index into the user-space probe table */
	__u16 flags;      /* enum ht_alloc_flags */
	__u16 nr_ips;
	__u32 stack_len;
	__u32 sample_thr; /* sampled with p = sample_thr / 2^32; 0 = always */
	__u64 ips[HT_MAX_FRAMES + HT_MAX_STACK_BYTES / 8];
};

#define HT_ALLOC_EVENT_SIZE(nr) \
	(sizeof(struct ht_alloc_event) - sizeof(((struct ht_alloc_event *)0)->ips) + \
	 (nr) * sizeof(__u64))

/* The raw stack bytes that follow the addresses. */
#define HT_ALLOC_EVENT_STACK(e) ((const __u8 *)&(e)->ips[(e)->nr_ips])

/* Syscall records are emitted where ordering is safe: what frees
 * addresses at the call's entry (before another thread can get them),
 * what maps them at its return. */
struct ht_map_event {
	struct ht_event_hdr hdr;
	__u64 addr;
	__u64 len;
	__s64 ret;        /* HT_MM_REMAP_TO: the syscall's result */
	__u32 kind;       /* enum ht_map_kind */
	__u32 flags;      /* HT_MM_REMAP_FROM: mremap's flags */
};

struct ht_free_event {
	struct ht_event_hdr hdr;
	__u64 addr;
	__u32 func;
	__u32 pad;
};

/*
 * In-kernel unwinding (--unwind cfi). User space turns each object's DWARF
 * CFI into rows sorted by pc (an ELF virtual address; each row holds from
 * its pc up to the next row's) telling how to find the caller's frame:
 * CFA (the stack pointer before the call) from rsp or rbp, the return
 * address at CFA - 8 (always, on x86-64; other rules make a HT_CFI_BAD
 * row) and the caller's rbp either unchanged or saved at CFA + rbp_off.
 * Offsets are stored in units of 8 bytes (8 bytes a row); one that is
 * not a multiple of 8 or out of range makes a HT_CFI_BAD row.
 */
enum ht_cfi_kind {
	HT_CFI_NONE = 0,   /* no CFI covers this pc: frame pointers, checked */
	HT_CFI_RSP,        /* CFA = rsp + cfa_off */
	HT_CFI_RBP,        /* CFA = rbp + cfa_off */
	HT_CFI_RBP_DEREF,  /* CFA = *(rbp + cfa_off) (a realigned stack, e.g. main) */
	HT_CFI_END,        /* return address undefined: the outermost frame */
	HT_CFI_SIGNAL,     /* signal trampoline: registers saved in the ucontext at rsp */
	HT_CFI_BAD,        /* a rule heaptrace does not follow: the stack ends, counted */
};

enum ht_cfi_rbp {
	HT_RBP_SAME = 0,   /* the caller's rbp is this frame's */
	HT_RBP_AT_CFA,     /* saved at CFA + rbp_off */
	HT_RBP_LOST,       /* undefined or in a place not followed: unknown */
};

struct ht_cfi_row {
	__u32 pc;
	__s16 cfa_off8;    /* CFA offset / 8 */
	__u8 rule;         /* enum ht_cfi_kind | enum ht_cfi_rbp << 4 */
	__s8 rbp_off8;     /* rbp saved at CFA + 8 * rbp_off8 */
};

#define HT_CFI_KIND(r) ((r)->rule & 0xf)
#define HT_CFI_RBP_RULE(r) ((r)->rule >> 4)

/*
 * The objects the BPF side has tables for, by file identity (the kernel's
 * s_dev of the file's superblock and its inode number): a code address in
 * a mapping of the file at file offset `off` has ELF virtual address
 * off + off_to_vaddr. An object with row_count 0 has no usable CFI
 * (missing, malformed or too large): frame pointers only, checked.
 */
struct ht_cfi_obj_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct ht_cfi_obj {
	__u32 row_start;   /* into the rows map */
	__u32 row_count;
	__s64 off_to_vaddr;
};

/* Per-CPU counters of everything the BPF side could not record. */
enum ht_counter {
	HT_C_RINGBUF_FULL_ALLOC, /* allocation records dropped: ring full */
	HT_C_RINGBUF_FULL_FREE,  /* free records dropped: ring full */
	HT_C_NO_STATE,           /* per-thread state could not be created */
	HT_C_STALE_CALL,         /* an entry whose return never came */
	HT_C_NESTED,             /* calls skipped as nested in a traced call */
	HT_C_STACK_TRUNCATED,    /* stacks cut at the depth limit */
	HT_C_STACK_BROKEN,       /* stacks whose walk hit an unreadable frame */
	HT_C_OUT_READ_FAIL,      /* posix_memalign result unreadable */
	HT_C_SAMPLED_MAP_FULL,   /* sampled blocks whose free can't be matched */
	HT_C_UNSAMPLED,          /* allocations left out by sampling (not a loss) */
	HT_C_WINDOW_DROPPED,     /* raw stack windows left out: ring nearly full */
	HT_C_FILTERED,           /* allocations outside --min-size/--max-size */
	HT_C_RINGBUF_FULL_EXEC,  /* exec records dropped: ring full */
	/* --unwind cfi: stacks cut short, by reason (enum ht_alloc_flags) */
	HT_C_UW_NO_MAPPING,
	HT_C_UW_NO_TABLE,
	HT_C_UW_BAD_RULE,
	HT_C_UW_FP_INVALID,
	HT_C_UW_UPROBE,
	HT_C_UW_VMA_BUSY,
	/* --mmap */
	HT_C_RINGBUF_FULL_MMAP,  /* mmap records dropped: ring full */
	HT_C_RINGBUF_FULL_UNMAP, /* munmap/mremap records dropped: ring full */
	HT_C_MMAP_NO_STATE,      /* mmaps missed: no per-thread state */
	HT_C_MUNMAP_FAILED,      /* munmaps recorded at entry that then failed */
	HT_C_MMAP_STACK_SHORT,   /* mmap stacks cut short (any reason) */
	__HT_C_MAX,
};

#endif /* HEAPTRACE_EVENTS_H */
