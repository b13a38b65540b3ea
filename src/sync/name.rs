//! Lock names that default to the constructor's `file:line`, NUL-terminated, in static
//! storage, without allocation.
//!
//! FreeBSD keeps the name pointers it is given: `lo_name` for the lock's lifetime, and
//! WITNESS keeps the first lock's name of each type (`w_name`, compared with `strcmp` when
//! later locks enroll, sys/kern/subr_witness.c `enroll`), so a name must live as long as
//! the module, like the string literals a C module passes. `#[track_caller]` gives the file
//! (a `'static` C string: `Location::file_as_c_str`) and the line (a number), but no
//! `'static` "file:line" string. This table formats each constructor call site once into a
//! slot of the module's own `.bss` and hands out that slot for every lock built there, so
//! locks from one call site share one WITNESS type, as the same literal does in C. The
//! table has [`SLOTS`] entries; when it is full, further call sites are named after their
//! file only.

use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::panic::Location;
use core::sync::atomic::{AtomicU8, AtomicU32, AtomicUsize, Ordering};

/// Call sites the table can name (one slot each, [`NAME_LEN`] bytes).
pub const SLOTS: usize = 64;
/// Longest name, with its NUL; longer `file:line` names keep the tail of the file path.
pub const NAME_LEN: usize = 48;

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const READY: u8 = 2;

struct Slot {
    state: AtomicU8,
    file: AtomicUsize,
    line: AtomicU32,
    name: UnsafeCell<[u8; NAME_LEN]>,
}

// SAFETY: `name` is written only by the thread that moved `state` from EMPTY to WRITING,
// and read only after `state` is READY (Release/Acquire); it is never written again.
unsafe impl Sync for Slot {}

static TABLE: [Slot; SLOTS] = [const {
    Slot { state: AtomicU8::new(EMPTY), file: AtomicUsize::new(0), line: AtomicU32::new(0), name: UnsafeCell::new([0; NAME_LEN]) }
}; SLOTS];

/// The name of the lock constructed at `loc`: `"file:line"` (the tail of a long path).
pub fn for_location(loc: &'static Location<'static>) -> &'static CStr {
    let (file, line) = (loc.file().as_ptr() as usize, loc.line());
    for slot in &TABLE {
        match slot.state.load(Ordering::Acquire) {
            READY if slot.file.load(Ordering::Relaxed) == file && slot.line.load(Ordering::Relaxed) == line => {
                return ready_name(slot);
            }
            READY | WRITING => continue,
            _ => {}
        }
        if slot.state.compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Relaxed).is_err() {
            continue; // another thread claimed it; a duplicate of this site elsewhere is harmless
        }
        // SAFETY: this thread moved the slot to WRITING: nobody else reads or writes `name`.
        let buf = unsafe { &mut *slot.name.get() };
        format_name(buf, loc.file().as_bytes(), line);
        slot.file.store(file, Ordering::Relaxed);
        slot.line.store(line, Ordering::Relaxed);
        slot.state.store(READY, Ordering::Release);
        return ready_name(slot);
    }
    loc.file_as_c_str()
}

fn ready_name(slot: &'static Slot) -> &'static CStr {
    // SAFETY: READY slots are never written again and hold a NUL-terminated name.
    let buf: &'static [u8; NAME_LEN] = unsafe { &*slot.name.get() };
    CStr::from_bytes_until_nul(buf).unwrap_or(c"?")
}

/// Writes `file:line\0` into `buf`, keeping the end of `file` when it does not fit.
fn format_name(buf: &mut [u8; NAME_LEN], file: &[u8], line: u32) {
    let mut digits = [0u8; 10];
    let mut n = 0;
    let mut l = line;
    loop {
        digits[n] = b'0' + (l % 10) as u8;
        n += 1;
        l /= 10;
        if l == 0 {
            break;
        }
    }
    let room = NAME_LEN - 1 - 1 - n; // NUL, ':', digits
    let file = if file.len() > room { &file[file.len() - room..] } else { file };
    let file = file.iter().map(|&b| if b == 0 { b'?' } else { b }); // a NUL in a path cannot end the name early
    let mut i = 0;
    for b in file {
        buf[i] = b;
        i += 1;
    }
    buf[i] = b':';
    i += 1;
    for k in (0..n).rev() {
        buf[i] = digits[k];
        i += 1;
    }
    buf[i] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn here() -> &'static CStr {
        for_location(Location::caller())
    }

    #[test]
    fn names_are_file_colon_line_and_shared_per_call_site() {
        let mut names = std::vec::Vec::new();
        for _ in 0..3 {
            names.push(here());
        }
        let line = line!() - 2;
        assert_eq!(names[0].to_str().unwrap(), format!("src/sync/name.rs:{line}"));
        assert!(names.iter().all(|n| n.as_ptr() == names[0].as_ptr()), "one slot per call site");
        let other = here();
        assert_ne!(other.as_ptr(), names[0].as_ptr());
    }

    #[test]
    fn long_paths_keep_their_tail() {
        let mut buf = [0xffu8; NAME_LEN];
        let long = b"/home/someone/projects/a-very-long-directory-name/src/driver/locks.rs";
        format_name(&mut buf, long, 1234);
        let s = CStr::from_bytes_until_nul(&buf).unwrap().to_str().unwrap();
        assert_eq!(s.len(), NAME_LEN - 1);
        assert!(s.ends_with("src/driver/locks.rs:1234"), "{s}");
        let mut buf = [0xffu8; NAME_LEN];
        format_name(&mut buf, b"a.rs", 7);
        assert_eq!(CStr::from_bytes_until_nul(&buf).unwrap(), c"a.rs:7");
    }
}
