//! A global allocator that counts the bytes live on the heap, for the memory tests and
//! measurements (counted, not timed). A test binary installs it with
//! `#[global_allocator] static GLOBAL: Counting = Counting;` and reads [`Counting::live`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// The system allocator, counting the bytes allocated and not yet freed.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

impl Counting {
    /// Bytes allocated and not yet freed, in the whole process, since it started.
    pub fn live() -> isize {
        LIVE.load(Ordering::SeqCst)
    }
}

// SAFETY: every call goes to the system allocator unchanged; only the count is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}
