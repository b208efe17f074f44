// SPDX-License-Identifier: MIT
//! A Rust workload with a known heap profile, whose global allocator is
//! jemalloc linked into the executable under the `_rjem_` prefix (what
//! the jemallocator crate does; Debian ships jemalloc-sys only, so the
//! few lines of that crate's GlobalAlloc are written out here, with the
//! same calls: malloc/calloc/realloc/sdallocx for ordinary layouts,
//! mallocx/rallocx with MALLOCX_ALIGN for over-aligned ones). It also
//! calls glibc's malloc directly: two allocators in one process.
//!
//! Sites (the stacks through that workload function), all called from
//! workload::run, called from workload::main:
//!   workload::reserve_vecs    3 Vec::with_capacity: 1000 Box pointers
//!                             (8000 bytes), 50 (400), 50 usize (400), kept
//!   workload::keep_boxes      1000 x Box<[u8; 100]> pushed into the first
//!                             (no reallocation: capacity reserved), kept
//!   workload::churn_boxes     500 x Box<[u8; 64]>, each dropped at once
//!                             (sdallocx): temporary
//!   workload::aligned_boxes   50 x Box<Page> (4096 bytes, align 4096:
//!                             mallocx with MALLOCX_ALIGN), kept
//!   workload::libc_mallocs    50 x libc::malloc(64) - glibc - kept
//!   workload::grow_vec        a Vec<u64> grown by reserve_exact to 2, 4,
//!                             8, ... 512 elements: 1 allocation of 16
//!                             bytes, then 8 reallocations (32 ... 4096
//!                             bytes) through realloc, the last one kept
//!
//! `workload wait` writes 'R' on stdout and waits for a byte on stdin
//! before it starts, and writes 'D' when done.

use std::alloc::{GlobalAlloc, Layout};
use std::io::{Read, Write};
use std::os::raw::{c_int, c_void};

struct Jemalloc;

const MIN_ALIGN: usize = 16;

fn align_flags(align: usize, size: usize) -> c_int {
    if align <= MIN_ALIGN && align <= size {
        0
    } else {
        align.trailing_zeros() as c_int // MALLOCX_ALIGN(align)
    }
}

unsafe impl GlobalAlloc for Jemalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let flags = align_flags(layout.align(), layout.size());
        if flags == 0 {
            jemalloc_sys::malloc(layout.size()) as *mut u8
        } else {
            jemalloc_sys::mallocx(layout.size(), flags) as *mut u8
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let flags = align_flags(layout.align(), layout.size());
        if flags == 0 {
            jemalloc_sys::calloc(1, layout.size()) as *mut u8
        } else {
            jemalloc_sys::mallocx(layout.size(), flags | 0x40) as *mut u8 // MALLOCX_ZERO
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let flags = align_flags(layout.align(), layout.size());
        jemalloc_sys::sdallocx(ptr as *mut c_void, layout.size(), flags)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let flags = align_flags(layout.align(), new_size);
        if flags == 0 {
            jemalloc_sys::realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            jemalloc_sys::rallocx(ptr as *mut c_void, new_size, flags) as *mut u8
        }
    }
}

#[global_allocator]
static GLOBAL: Jemalloc = Jemalloc;

#[repr(C, align(4096))]
struct Page([u8; 4096]);

struct Kept {
    boxes: Vec<Box<[u8; 100]>>,
    pages: Vec<Box<Page>>,
    raw: Vec<usize>,
    grown: Vec<u64>,
}

#[inline(never)]
fn reserve_vecs() -> Kept {
    Kept {
        boxes: Vec::with_capacity(1000),
        pages: Vec::with_capacity(50),
        raw: Vec::with_capacity(50),
        grown: Vec::new(),
    }
}

#[inline(never)]
fn keep_boxes(v: &mut Vec<Box<[u8; 100]>>) {
    for i in 0..1000 {
        v.push(Box::new([i as u8; 100]));
    }
}

/// Takes the block, so that it can't be optimized away, and drops it.
#[inline(never)]
fn sink<T>(x: T) {
    drop(x)
}

#[inline(never)]
fn churn_boxes() {
    for i in 0..500 {
        sink(Box::new([i as u8; 64]));
    }
}

#[inline(never)]
fn aligned_boxes(v: &mut Vec<Box<Page>>) {
    for _ in 0..50 {
        v.push(Box::new(Page([0; 4096])));
    }
}

#[inline(never)]
fn libc_mallocs(v: &mut Vec<usize>) {
    for _ in 0..50 {
        v.push(unsafe { libc::malloc(64) } as usize);
    }
}

#[inline(never)]
fn grow_vec(v: &mut Vec<u64>) {
    let mut cap = 2;
    while cap <= 512 {
        v.reserve_exact(cap - v.len());
        while v.len() < cap {
            v.push(v.len() as u64);
        }
        cap *= 2;
    }
}

#[inline(never)]
fn run() -> Kept {
    let mut k = reserve_vecs();
    keep_boxes(&mut k.boxes);
    churn_boxes();
    aligned_boxes(&mut k.pages);
    libc_mallocs(&mut k.raw);
    grow_vec(&mut k.grown);
    k
}

fn main() {
    let wait = std::env::args().nth(1).as_deref() == Some("wait");
    if wait {
        let mut b = [0u8; 1];
        std::io::stdout().write_all(b"R").unwrap();
        std::io::stdout().flush().unwrap();
        if std::io::stdin().read(&mut b).unwrap_or(0) != 1 {
            std::process::exit(1);
        }
    }
    let kept = run();
    if wait {
        std::io::stdout().write_all(b"D").unwrap();
        std::io::stdout().flush().unwrap();
    }
    // Exit without running destructors: the blocks stay live, as leaks.
    std::mem::forget(kept);
    std::process::exit(0);
}
