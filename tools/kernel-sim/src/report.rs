//! Fault reports: what went wrong in module code, where (symbol + offset), and a message in
//! the style of the amd64 `trap_fatal()` (`sys/amd64/amd64/trap.c`).

use std::fmt;
use std::time::Duration;

/// What kind of failure stopped module code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Page fault (SIGSEGV) at a data address.
    PageFault {
        /// Faulting address (`cr2`).
        addr: usize,
    },
    /// General protection fault (privileged instruction, non-canonical address).
    ProtectionFault,
    /// Bus error.
    BusError {
        /// Faulting address.
        addr: usize,
    },
    /// Illegal instruction (e.g. `ud2`).
    IllegalInstruction,
    /// Integer divide error.
    DivideError,
    /// Breakpoint / trace trap.
    Breakpoint,
    /// The kernel stack overflowed into its guard page.
    StackOverflow {
        /// Faulting address in the guard page.
        addr: usize,
    },
    /// The call did not return before the watchdog deadline.
    Timeout(Duration),
    /// `panic(9)` with its formatted message.
    Panic(String),
}

/// A failure of module code, with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What happened.
    pub kind: FaultKind,
    /// Instruction pointer (for panics: the caller of `panic`, if known).
    pub rip: usize,
    /// `symbol+0xoff (file.ko)` of `rip`, or a description when not in a module.
    pub location: String,
    /// The module symbol alone (None when `rip` is not in a module).
    pub symbol: Option<String>,
    /// Offset of `rip` from `symbol`.
    pub offset: usize,
    /// The kernel thread that was running, `(tid, name)`, when it was not thread 0 (the
    /// thread of the process that entered the kernel: kldload, kldunload, a command).
    pub thread: Option<(u32, String)>,
}

impl Fault {
    /// Panic message, if this is a panic.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.kind {
            FaultKind::Panic(m) => Some(m),
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_kind(f)?;
        if let Some((tid, name)) = &self.thread {
            write!(f, "\ncurrent thread\t\t= tid {tid} (\"{name}\")")?;
        }
        Ok(())
    }
}

impl Fault {
    fn fmt_kind(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FaultKind::PageFault { addr } => write!(
                f,
                "Fatal trap 12: page fault while in kernel mode\nfault virtual address\t= {addr:#x}\ninstruction pointer\t= {:#x} ({})",
                self.rip, self.location
            ),
            FaultKind::StackOverflow { addr } => write!(
                f,
                "Fatal trap 12: page fault while in kernel mode (kernel stack overflow into the guard page)\nfault virtual address\t= {addr:#x}\ninstruction pointer\t= {:#x} ({})",
                self.rip, self.location
            ),
            FaultKind::ProtectionFault => write!(
                f,
                "Fatal trap 9: general protection fault while in kernel mode\ninstruction pointer\t= {:#x} ({})",
                self.rip, self.location
            ),
            FaultKind::BusError { addr } => write!(
                f,
                "Fatal trap: bus error while in kernel mode\nfault address\t= {addr:#x}\ninstruction pointer\t= {:#x} ({})",
                self.rip, self.location
            ),
            FaultKind::IllegalInstruction => write!(
                f,
                "Fatal trap 1: privileged instruction fault while in kernel mode\ninstruction pointer\t= {:#x} ({})",
                self.rip, self.location
            ),
            FaultKind::DivideError => write!(
                f,
                "Fatal trap 18: integer divide fault while in kernel mode\ninstruction pointer\t= {:#x} ({})",
                self.rip, self.location
            ),
            FaultKind::Breakpoint => write!(
                f,
                "Fatal trap 3: breakpoint instruction fault while in kernel mode\ninstruction pointer\t= {:#x} ({})",
                self.rip, self.location
            ),
            FaultKind::Timeout(d) => write!(
                f,
                "kernel-sim watchdog: module code did not return within {d:?}; stopped at {:#x} ({})",
                self.rip, self.location
            ),
            FaultKind::Panic(m) => write!(f, "panic: {m}\ncalled from {:#x} ({})", self.rip, self.location),
        }
    }
}

impl std::error::Error for Fault {}
