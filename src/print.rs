//! Kernel printing without format-string bugs and without allocation.
//!
//! The macros format with `core::fmt` into a 256-byte stack buffer and pass it to the
//! kernel through a constant `"%.*s"` format, so user text is never interpreted as a
//! printf(9) format. A short message is one printf call (lines stay whole in `dmesg`);
//! longer text is sent in chunks.
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
    if let Some(s) = args.as_str() {
        emit::<K>(sink, s.as_bytes());
        return;
    }
    let mut w = ChunkWriter::<_, BUFFER>::new(|chunk: &[u8]| emit::<K>(sink, chunk));
    // ChunkWriter never fails; a Display impl that fails just ends the message early.
    let _ = w.write_fmt(args);
    w.finish();
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

/// Prints to the current process's terminal (uprintf(9)).
#[macro_export]
macro_rules! uprint {
    ($($arg:tt)*) => {
        $crate::print::write_fmt::<$crate::kernel::Kernel>($crate::print::Sink::Terminal, ::core::format_args!($($arg)*))
    };
}

/// Prints a line to the current process's terminal (uprintf(9)).
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
