//! Low-2-GiB arena: one reserved address range near `0x4000_0000` from which module images,
//! kernel-symbol trampolines and kernel data symbols are carved.
//!
//! FreeBSD maps modules above `KERNBASE` in the top 2 GiB (`vm_map_find(kernel_map, ..,
//! KERNBASE, ..)` in `sys/kern/link_elf_obj.c`), so `-mcmodel=kernel` code reaches everything
//! with 32-bit sign-extended (`R_X86_64_32S`) or PC-relative (`R_X86_64_PC32`) displacements.
//! A Linux process cannot map there, but the low 2 GiB satisfy the same two constraints:
//! addresses below `0x8000_0000` are valid zero-extended *and* sign-extended 32-bit values.



/// Base address of the arena (hint; mapped with `MAP_FIXED_NOREPLACE`).
pub const ARENA_BASE: usize = 0x4000_0000;
/// Size of the reserved arena (512 MiB, well inside the low 2 GiB).
pub const ARENA_SIZE: usize = 512 << 20;
/// Smallest arena [`Arena::reserve`] settles for when something already lives inside the
/// preferred range: valgrind loads its tool at `0x5800_0000` (`valt_load_address` of its
/// amd64-linux build), which leaves 384 MiB below it. A simulation uses a few MiB.
pub const MIN_ARENA_SIZE: usize = 64 << 20;
/// Page size on amd64 (`PAGE_SIZE`, `sys/amd64/include/param.h`).
pub const PAGE_SIZE: usize = 4096;

/// Round `v` up to a multiple of `a` (a power of two).
pub fn round_up(v: usize, a: usize) -> usize {
    (v + a - 1) & !(a - 1)
}

/// The reserved region plus a first-fit free list of page runs.
#[derive(Debug)]
pub struct Arena {
    base: usize,
    size: usize,
    /// Free runs `(start, len)`, sorted by start, coalesced.
    free: Vec<(usize, usize)>,
}

/// Error raised when the arena cannot be reserved or is exhausted.
#[derive(Debug, thiserror::Error)]
pub enum ArenaError {
    /// `mmap` failed (address range taken, or out of memory).
    #[error("cannot reserve the low-2-GiB arena at {addr:#x}: {err}")]
    Reserve {
        /// Requested address.
        addr: usize,
        /// OS error.
        err: std::io::Error,
    },
    /// No free run large enough.
    #[error("arena exhausted: cannot allocate {0} bytes")]
    Exhausted(usize),
}

impl Arena {
    /// Reserve the arena (`PROT_NONE`) at [`ARENA_BASE`]: [`ARENA_SIZE`] bytes, or the largest
    /// run of at least [`MIN_ARENA_SIZE`] (in 16 MiB steps) that is free there.
    pub fn reserve() -> Result<Arena, ArenaError> {
        let mut size = ARENA_SIZE;
        loop {
            match Self::reserve_at(ARENA_BASE, size) {
                Ok(()) => return Ok(Arena { base: ARENA_BASE, size, free: vec![(ARENA_BASE, size)] }),
                Err(_) if size > MIN_ARENA_SIZE => size -= 16 << 20,
                Err(err) => return Err(ArenaError::Reserve { addr: ARENA_BASE, err }),
            }
        }
    }

    /// Maps `[addr, addr + size)` `PROT_NONE`, never replacing an existing mapping.
    fn reserve_at(addr: usize, size: usize) -> std::io::Result<()> {
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping; the range is
        // anonymous and private, so no other object is affected.
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                size,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        if p as usize != addr {
            // Old kernels, and valgrind, treat NOREPLACE as a hint and map elsewhere.
            // SAFETY: unmapping the mapping we just created.
            unsafe { libc::munmap(p, size) };
            return Err(std::io::Error::from_raw_os_error(libc::EEXIST));
        }
        Ok(())
    }

    /// The reserved range `[start, end)`.
    pub fn bounds(&self) -> (usize, usize) {
        (self.base, self.base + self.size)
    }

    /// Whether `addr` lies inside the arena.
    pub fn contains(&self, addr: usize) -> bool {
        addr >= self.base && addr < self.base + self.size
    }

    /// Allocate `len` bytes (rounded up to pages), zero-filled and mapped read-write.
    pub fn alloc(&mut self, len: usize) -> Result<usize, ArenaError> {
        let len = round_up(len.max(1), PAGE_SIZE);
        let i = self.free.iter().position(|&(_, l)| l >= len).ok_or(ArenaError::Exhausted(len))?;
        let (start, l) = self.free[i];
        if l == len {
            self.free.remove(i);
        } else {
            self.free[i] = (start + len, l - len);
        }
        // SAFETY: [start, start+len) is inside our reserved PROT_NONE arena and free;
        // MAP_FIXED replaces only our own reservation with fresh zero pages.
        let p = unsafe {
            libc::mmap(
                start as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        assert_eq!(p as usize, start, "mmap MAP_FIXED inside the arena failed");
        Ok(start)
    }

    /// Return a run obtained from [`Arena::alloc`]; its pages are discarded.
    pub fn free(&mut self, start: usize, len: usize) {
        let len = round_up(len.max(1), PAGE_SIZE);
        // SAFETY: the run belongs to the arena; replacing it with PROT_NONE pages drops the
        // contents, so stale pointers into an unloaded module fault instead of running.
        unsafe {
            libc::mmap(
                start as *mut libc::c_void,
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
                -1,
                0,
            );
        }
        let pos = self.free.partition_point(|&(s, _)| s < start);
        self.free.insert(pos, (start, len));
        // Coalesce with neighbours.
        if pos + 1 < self.free.len() && self.free[pos].0 + self.free[pos].1 == self.free[pos + 1].0 {
            self.free[pos].1 += self.free[pos + 1].1;
            self.free.remove(pos + 1);
        }
        if pos > 0 && self.free[pos - 1].0 + self.free[pos - 1].1 == self.free[pos].0 {
            self.free[pos - 1].1 += self.free[pos].1;
            self.free.remove(pos);
        }
    }

    /// Change the protection of pages `[start, start+len)`.
    pub fn protect(&self, start: usize, len: usize, prot: i32) {
        debug_assert!(self.contains(start));
        // SAFETY: the pages belong to the arena and are mapped.
        let r = unsafe { libc::mprotect(start as *mut libc::c_void, round_up(len, PAGE_SIZE), prot) };
        assert_eq!(r, 0, "mprotect in the arena failed");
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: the whole reservation is ours; nothing may run from it after the kernel is
        // gone (Kernel::drop ends every call first).
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size) };
    }
}
