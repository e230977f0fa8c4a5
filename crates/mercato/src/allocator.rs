//! The binaries' allocator is mimalloc rather than glibc's: glibc keeps the memory a
//! thread freed in that thread's arena, so after a burst of sign-ins (19 MiB per
//! password hash) or image decodes, on whichever blocking threads ran them, the process
//! stayed hundreds of MiB larger for good. Each binary declares
//! `#[global_allocator] static ALLOCATOR: mimalloc::MiMalloc` and calls [`install`].

/// Has the memory a large job freed (see `platform::work::Reservation`) given back to
/// the system as the job ends.
pub fn install() {
    platform::work::set_memory_release(release_freed_memory);
}

/// Gives back to the system the pages mimalloc holds freed, at once rather than after
/// its purge delay (which it only acts on when asked to allocate again), and what
/// glibc's malloc holds freed for the C libraries that allocate through it (libwebp's
/// encoder buffers, kept per thread arena). Without it a shop that decoded one 24 MP
/// image and went quiet kept about 200 MiB.
#[expect(
    unsafe_code,
    reason = "two calls into the allocators' C API, argued below"
)]
pub fn release_freed_memory() {
    // SAFETY: both only walk their allocator's own structures, under its own locks;
    // any thread may call them at any time.
    unsafe {
        libmimalloc_sys::mi_collect(true);
        libc::malloc_trim(0);
    }
}
