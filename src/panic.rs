//! The panic handler and the alloc-error handler, and the pieces to write your own.
//!
//! By default the crate installs (on the kernel target) a `#[panic_handler]` that calls
//! panic(9) with the message and location, and an `#[alloc_error_handler]` that panics the
//! kernel naming the size and alignment. Neither allocates, neither passes user text as a
//! format, neither spins. The features `GLOBAL_ALLOC_EXCLUDE_PANICHANDLER` and
//! `GLOBAL_ALLOC_EXCLUDE_ALLOC_ERROR_HNDL` leave them out; a replacement is a few lines:
//!
//! ```ignore
//! #[panic_handler]
//! fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
//!     // e.g. flush your device first, then:
//!     freebsd_kmi::panic::report_panic::<freebsd_kmi::kernel::Kernel>(info)
//! }
//! ```

use crate::fmt_buf::FmtBuf;
use core::alloc::Layout;
use core::fmt::{self, Write};
use core::panic::{Location, PanicInfo};
use core::sync::atomic::{AtomicBool, Ordering};
use freebsd_kpi::kpi::Kpi;

/// Size of the stack buffer a panic message is formatted into.
pub const MESSAGE_BUFFER: usize = 256;

static PANICKING: AtomicBool = AtomicBool::new(false);

/// Formats `rust panic: <message> at <file>:<line>:<column>` into `buf`. A message too
/// long for the buffer is cut (ending in `...`) before the location, which is kept.
pub fn format_panic<const N: usize>(buf: &mut FmtBuf<N>, message: &dyn fmt::Display, location: Option<&Location<'_>>) {
    let mut at = FmtBuf::<N>::new();
    if let Some(loc) = location {
        let _ = write!(at, " at {}:{}:{}", loc.file(), loc.line(), loc.column());
    }
    buf.reserve_tail(at.as_bytes().len());
    let _ = write!(buf, "rust panic: {message}");
    buf.release_tail();
    // The location fits: the message left it room.
    // `at` holds text written by `write!`, cut on a character boundary: valid UTF-8.
    let _ = buf.write_str(core::str::from_utf8(at.as_bytes()).unwrap_or(""));
}

/// Reports a Rust panic through panic(9): message and location, formatted on the stack.
/// A panic while formatting (a panicking `Display`) reports a constant message instead.
pub fn report_panic<K: Kpi>(info: &PanicInfo<'_>) -> ! {
    if PANICKING.swap(true, Ordering::SeqCst) {
        K::panic(b"rust panic: panicked while formatting a panic message")
    }
    let mut buf = FmtBuf::<MESSAGE_BUFFER>::new();
    format_panic(&mut buf, &info.message(), info.location());
    K::panic(buf.as_bytes())
}

/// Formats `rust: memory allocation of <size> bytes (align <align>) failed` into `buf`.
pub fn format_alloc_error<const N: usize>(buf: &mut FmtBuf<N>, layout: Layout) {
    let _ = write!(buf, "rust: memory allocation of {} bytes (align {}) failed", layout.size(), layout.align());
}

/// Reports a failed infallible allocation through panic(9).
pub fn report_alloc_error<K: Kpi>(layout: Layout) -> ! {
    let mut buf = FmtBuf::<MESSAGE_BUFFER>::new();
    format_alloc_error(&mut buf, layout);
    K::panic(buf.as_bytes())
}

#[cfg(default_panic_handler)]
#[panic_handler]
fn panic_handler(info: &PanicInfo<'_>) -> ! {
    report_panic::<crate::kernel::Kernel>(info)
}

#[cfg(default_alloc_error_handler)]
#[alloc_error_handler]
fn alloc_error_handler(layout: Layout) -> ! {
    report_alloc_error::<crate::kernel::Kernel>(layout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::MockKernel;

    #[test]
    fn panic_message_has_message_and_location() {
        let mut buf = FmtBuf::<MESSAGE_BUFFER>::new();
        let loc = Location::caller();
        format_panic(&mut buf, &format_args!("index {} out of range", 7), Some(loc));
        let text = std::str::from_utf8(buf.as_bytes()).unwrap();
        assert!(text.starts_with("rust panic: index 7 out of range at src/panic.rs:"), "{text}");
    }

    #[test]
    fn long_panic_messages_are_truncated_not_lost() {
        let mut buf = FmtBuf::<MESSAGE_BUFFER>::new();
        let long = "y".repeat(1000);
        format_panic(&mut buf, &long, None);
        assert_eq!(buf.as_bytes().len(), MESSAGE_BUFFER);
        assert!(buf.as_bytes().ends_with(b"..."));
    }

    #[test]
    fn long_panic_messages_keep_their_location() {
        let mut buf = FmtBuf::<MESSAGE_BUFFER>::new();
        let long = "z".repeat(1000);
        let loc = Location::caller();
        format_panic(&mut buf, &format_args!("{long}"), Some(loc));
        let text = std::str::from_utf8(buf.as_bytes()).unwrap();
        let at = format!(" at {}:{}:{}", loc.file(), loc.line(), loc.column());
        assert!(text.starts_with("rust panic: zzz"), "{text}");
        assert!(text.ends_with(&format!("...{at}")), "the location survives truncation: {text}");
        assert_eq!(text.len(), MESSAGE_BUFFER);
        assert!(buf.truncated());
    }

    #[test]
    #[should_panic(expected = "kernel panic: rust: memory allocation of 4096 bytes (align 64) failed")]
    fn alloc_error_reports_size_and_alignment() {
        report_alloc_error::<MockKernel>(Layout::from_size_align(4096, 64).unwrap());
    }
}
