//! Kernel printing without format-string bugs and without allocation.
//!
//! The macros format with `core::fmt` into a 256-byte stack buffer and pass it to the
//! kernel through a constant `"%.*s"` format, so user text is never interpreted as a
//! printf(9) format. A short message is one printf call (lines stay whole in `dmesg`);
//! longer text is sent in chunks.
//!
//! The kernel's `%.*s` stops at a NUL byte (`kvprintf` in kern/subr_prf.c reads
//! `for (n = 0; n < dwidth && p[n]; n++)`), which would drop the rest of the text and its
//! newline; a NUL inside printed text is therefore written as the two characters `\0`.
//!
//! [`kprint!`](crate::kprint) and [`klog!`](crate::klog) do not sleep.
//! [`uprint!`](crate::uprint)/[`uprintln!`](crate::uprintln) **may sleep**: uprintf(9)
//! takes `proctree_lock` (an sx lock: `sx_slock(&proctree_lock)` in `uprintf()`,
//! kern/subr_prf.c), so call them only where sleeping is allowed (module load/unload,
//! syscalls, ioctl) and never with a mutex held, in a critical section or an interrupt
//! filter.
//!
//! | macro | kernel function | goes to |
//! |---|---|---|
//! | [`kprint!`](crate::kprint) / [`kprintln!`](crate::kprintln) | printf(9) | console and message buffer (`dmesg`) |
//! | [`uprint!`](crate::uprint) / [`uprintln!`](crate::uprintln) | uprintf(9) | the current process's terminal |
//! | [`klog!`](crate::klog) | log(9) | syslog, with a priority |

use crate::fmt_buf::ChunkWriter;
use core::ffi::c_int;
use core::fmt::{self, Write};
use freebsd_kpi::kpi::Kpi;

/// Where a message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    /// printf(9).
    Console,
    /// uprintf(9).
    Terminal,
    /// log(9) with a `LOG_*` priority.
    Log(c_int),
}

/// Stack buffer size for one message.
pub const BUFFER: usize = 256;

fn emit<K: Kpi>(sink: Sink, bytes: &[u8]) {
    match sink {
        Sink::Console => K::print(bytes),
        Sink::Terminal => K::uprint(bytes),
        Sink::Log(priority) => K::log(priority, bytes),
    }
}

/// Formats `args` and writes them to `sink` (the macros' implementation).
pub fn write_fmt<K: Kpi>(sink: Sink, args: fmt::Arguments<'_>) {
    if let Some(s) = args.as_str()
        && !s.as_bytes().contains(&0)
    {
        emit::<K>(sink, s.as_bytes());
        return;
    }
    let mut w = NulEscape(ChunkWriter::<_, BUFFER>::new(|chunk: &[u8]| emit::<K>(sink, chunk)));
    // ChunkWriter never fails; a Display impl that fails just ends the message early.
    let _ = w.write_fmt(args);
    w.0.finish();
}

/// Writes each NUL byte as `\0`: the kernel's `%.*s` would stop at it.
struct NulEscape<W: Write>(W);

impl<W: Write> Write for NulEscape<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut parts = s.split('\0');
        if let Some(first) = parts.next() {
            self.0.write_str(first)?;
        }
        for part in parts {
            self.0.write_str("\\0")?;
            self.0.write_str(part)?;
        }
        Ok(())
    }
}

/// Prints to the console (printf(9)), like `print!`.
///
/// ```no_run
/// freebsd_kmi::kprint!("loaded {} buffers", 4);
/// ```
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => {
        $crate::print::write_fmt::<$crate::kernel::Kernel>($crate::print::Sink::Console, ::core::format_args!($($arg)*))
    };
}

/// Prints a line to the console (printf(9)), like `println!`.
///
/// ```no_run
/// freebsd_kmi::kprintln!("hello from {}", "Rust");
/// ```
#[macro_export]
macro_rules! kprintln {
    () => { $crate::kprint!("\n") };
    ($($arg:tt)*) => {
        $crate::print::write_fmt::<$crate::kernel::Kernel>(
            $crate::print::Sink::Console,
            ::core::format_args!("{}\n", ::core::format_args!($($arg)*)),
        )
    };
}

/// Prints to the current process's terminal (uprintf(9)). May sleep (uprintf takes
/// `proctree_lock`, kern/subr_prf.c): not with a mutex held, in a critical section or an
/// interrupt filter.
///
/// ```no_run
/// freebsd_kmi::uprint!("{} devices attached", 2);
/// ```
#[macro_export]
macro_rules! uprint {
    ($($arg:tt)*) => {
        $crate::print::write_fmt::<$crate::kernel::Kernel>($crate::print::Sink::Terminal, ::core::format_args!($($arg)*))
    };
}

/// Prints a line to the current process's terminal (uprintf(9)). May sleep, like
/// [`uprint!`](crate::uprint).
///
/// ```no_run
/// freebsd_kmi::uprintln!("mydrv: firmware {} loaded", "1.2");
/// ```
#[macro_export]
macro_rules! uprintln {
    () => { $crate::uprint!("\n") };
    ($($arg:tt)*) => {
        $crate::print::write_fmt::<$crate::kernel::Kernel>(
            $crate::print::Sink::Terminal,
            ::core::format_args!("{}\n", ::core::format_args!($($arg)*)),
        )
    };
}

/// Logs a line with a syslog priority (log(9)).
///
/// ```no_run
/// use freebsd_kmi::kernel::LOG_WARNING;
/// freebsd_kmi::klog!(LOG_WARNING, "queue {} is full", 3);
/// ```
#[macro_export]
macro_rules! klog {
    ($priority:expr, $($arg:tt)*) => {
        $crate::print::write_fmt::<$crate::kernel::Kernel>(
            $crate::print::Sink::Log($priority),
            ::core::format_args!("{}\n", ::core::format_args!($($arg)*)),
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{self, MockKernel};

    #[test]
    fn short_message_is_one_print() {
        mock::reset();
        write_fmt::<MockKernel>(Sink::Console, format_args!("loaded {} of {}\n", 3, 4));
        mock::with(|s| {
            assert_eq!(s.console, b"loaded 3 of 4\n");
            assert_eq!(s.prints, 1);
        });
    }

    #[test]
    fn format_characters_are_data() {
        mock::reset();
        let hostile = "%s%n%x";
        write_fmt::<MockKernel>(Sink::Console, format_args!("{hostile}"));
        mock::with(|s| assert_eq!(s.console, b"%s%n%x"));
    }

    #[test]
    fn long_message_is_chunked_without_loss() {
        mock::reset();
        let long = "x".repeat(1000);
        write_fmt::<MockKernel>(Sink::Console, format_args!("{long}{}", 1));
        mock::with(|s| {
            assert_eq!(s.console.len(), 1001);
            assert_eq!(s.prints, 1001usize.div_ceil(BUFFER));
        });
    }

    #[test]
    fn embedded_nul_does_not_cut_the_line() {
        mock::reset();
        let name = "a\0b";
        write_fmt::<MockKernel>(Sink::Console, format_args!("name {name} end\n"));
        write_fmt::<MockKernel>(Sink::Console, format_args!("static\0tail\n"));
        mock::with(|s| {
            assert_eq!(s.console, b"name a\\0b end\nstatic\\0tail\n");
            assert_eq!(s.prints, 2, "still one printf per short line");
        });
    }

    #[test]
    fn terminal_and_log_sinks() {
        mock::reset();
        write_fmt::<MockKernel>(Sink::Terminal, format_args!("to {}", "tty"));
        write_fmt::<MockKernel>(Sink::Log(freebsd_kpi::common::syslog::LOG_WARNING), format_args!("warn {}", 1));
        mock::with(|s| {
            assert_eq!(s.terminal, b"to tty");
            assert_eq!(s.log, vec![(4, b"warn 1".to_vec())]);
        });
    }
}
