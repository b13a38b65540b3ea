//! Running commands as a simulated user process: [`crate::Kernel::spawn`],
//! [`crate::Kernel::syscall`] and [`crate::Kernel::run_command`] (`sh -c 'CMD'`).
//!
//! A command line is split into words like sh does (blanks separate words; single and
//! double quotes group; `\` escapes one character) with the redirections `> PATH`,
//! `>> PATH` and `< PATH`. The first word names the command ([`super::commands::COMMANDS`]);
//! an unknown one is sh's `sh: NAME: not found` with status 127.

use super::Ucred;
use super::errno::strerror;
use crate::{Fault, Kernel};

/// What one command did.
#[derive(Debug, Clone, Default)]
pub struct CommandOutput {
    /// The command line.
    pub line: String,
    /// What it wrote to its standard output.
    pub stdout: Vec<u8>,
    /// What it wrote to its standard error (error messages).
    pub stderr: String,
    /// Exit status (0: success).
    pub status: i32,
    /// Module code crashed during one of its system calls (the kernel is dead).
    pub fault: Option<Box<Fault>>,
}

/// A parsed command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CmdLine {
    /// Words (argv).
    pub argv: Vec<String>,
    /// `> PATH` (false) or `>> PATH` (true).
    pub stdout_to: Option<(String, bool)>,
    /// `< PATH`.
    pub stdin_from: Option<String>,
}

/// Split a command line like sh.
pub fn parse(line: &str) -> Result<CmdLine, String> {
    let mut words: Vec<(String, bool)> = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err("Syntax error: Unterminated quoted string".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x)
                            }
                            None => return Err("Syntax error: Unterminated quoted string".into()),
                        },
                        Some(x) => cur.push(x),
                        None => return Err("Syntax error: Unterminated quoted string".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            '>' | '<' => {
                if in_word {
                    words.push((std::mem::take(&mut cur), false));
                    in_word = false;
                }
                let op = if c == '>' && chars.peek() == Some(&'>') {
                    chars.next();
                    ">>"
                } else if c == '>' {
                    ">"
                } else {
                    "<"
                };
                words.push((op.into(), true));
            }
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push((std::mem::take(&mut cur), false));
                    in_word = false;
                }
            }
            _ => {
                in_word = true;
                cur.push(c)
            }
        }
    }
    if in_word {
        words.push((cur, false));
    }
    let mut out = CmdLine::default();
    let mut it = words.into_iter();
    while let Some((w, op)) = it.next() {
        if op {
            let Some((target, false)) = it.next() else {
                return Err("Syntax error: redirection unexpected".into());
            };
            match w.as_str() {
                ">" => out.stdout_to = Some((target, false)),
                ">>" => out.stdout_to = Some((target, true)),
                _ => out.stdin_from = Some(target),
            }
        } else {
            out.argv.push(w);
        }
    }
    Ok(out)
}

/// The process a command runs in, with its standard streams. Commands call the kernel
/// through it.
pub struct Shell<'k> {
    /// The kernel.
    pub k: &'k mut Kernel,
    /// The process.
    pub pid: i32,
    /// Standard output: a descriptor of a device (redirection) or the collected bytes.
    pub stdout_fd: Option<i32>,
    /// Standard input from a redirection.
    pub stdin_fd: Option<i32>,
    /// Collected standard output.
    pub out: Vec<u8>,
    /// Collected standard error.
    pub err: String,
    /// Bytes written to standard output so far.
    pub printed: usize,
    /// A crash of module code during a system call.
    pub fault: Option<Box<Fault>>,
}

/// The most a command may write to its standard output: a device that never reports EOF
/// (`cat /dev/zero`-like) stops the command instead of running forever.
pub const OUTPUT_LIMIT: usize = 64 << 20;

/// `EFBIG` (sys/sys/errno.h).
const EFBIG: i32 = 27;

impl<'k> Shell<'k> {
    /// Run `f` as a system call of this process (on thread 0, through the gate). After a
    /// crash every later call fails with `EIO` (the kernel is dead).
    pub fn sys<R>(&mut self, f: impl FnOnce() -> Result<R, i32>) -> Result<R, i32> {
        if self.fault.is_some() {
            return Err(super::errno::EIO);
        }
        match self.k.syscall(self.pid, f) {
            Ok(r) => r,
            Err(fault) => {
                self.fault = Some(Box::new(fault));
                Err(super::errno::EIO)
            }
        }
    }

    /// A shell for process `pid` (its standard streams collected), to make system calls
    /// from a test or a tool.
    pub fn new(k: &'k mut Kernel, pid: i32) -> Shell<'k> {
        Shell { k, pid, stdout_fd: None, stdin_fd: None, out: Vec::new(), err: String::new(), printed: 0, fault: None }
    }

    /// Allocate `n` bytes of the process's memory.
    pub fn alloc(&mut self, n: usize) -> Option<usize> {
        let pid = self.pid;
        crate::kern::with(|k| k.user.procs.get_mut(&pid)?.vm.alloc(n))
    }

    /// Bytes of the process's memory (copied out).
    pub fn peek(&self, addr: usize, len: usize) -> Vec<u8> {
        let pid = self.pid;
        crate::kern::with(|k| k.user.procs.get(&pid).map(|p| p.vm.bytes(addr, len).to_vec())).unwrap_or_default()
    }

    /// The first address past the process's memory (what lies there is unmapped).
    pub fn user_end(&self) -> usize {
        let pid = self.pid;
        crate::kern::with(|k| k.user.procs.get(&pid).map(|p| p.vm.base + p.vm.len)).unwrap_or(0)
    }

    /// Write bytes into the process's memory.
    pub fn poke(&mut self, addr: usize, data: &[u8]) {
        let pid = self.pid;
        crate::kern::with(|k| {
            if let Some(p) = k.user.procs.get_mut(&pid) {
                p.vm.bytes_mut(addr, data.len()).copy_from_slice(data)
            }
        })
    }

    /// Open `path`.
    pub fn open(&mut self, path: &str, flags: i32) -> Result<i32, i32> {
        let p = path.to_string();
        self.sys(move || crate::kern::sys_generic::sys_open(&p, flags))
    }

    /// Close `fd`.
    pub fn close(&mut self, fd: i32) -> Result<(), i32> {
        self.sys(move || crate::kern::sys_generic::sys_close(fd))
    }

    /// `read(fd, buf, len)` into user memory at `buf`.
    pub fn read(&mut self, fd: i32, buf: usize, len: usize) -> Result<usize, i32> {
        self.sys(move || crate::kern::sys_generic::sys_rw(fd, &[(buf, len)], None, false))
    }

    /// `write(fd, buf, len)` from user memory at `buf`.
    pub fn write(&mut self, fd: i32, buf: usize, len: usize) -> Result<usize, i32> {
        self.sys(move || crate::kern::sys_generic::sys_rw(fd, &[(buf, len)], None, true))
    }

    /// `lseek(fd, off, whence)`.
    pub fn lseek(&mut self, fd: i32, off: i64, whence: i32) -> Result<i64, i32> {
        self.sys(move || crate::kern::sys_generic::sys_lseek(fd, off, whence))
    }

    /// `ioctl(fd, com, data)`.
    pub fn ioctl(&mut self, fd: i32, com: u64, data: usize) -> Result<(), i32> {
        self.sys(move || crate::kern::sys_generic::sys_ioctl(fd, com, data))
    }

    /// `poll(fds, nfds, timeout_ms)` for `fds` = `(fd, events)` (the array is placed in the
    /// process's memory): the number of ready descriptors and every `revents`.
    pub fn poll(&mut self, fds: &[(i32, i16)], timeout_ms: i32) -> Result<(usize, Vec<i16>), i32> {
        let size = crate::kern::sys_generic::POLLFD_SIZE;
        let a = self.alloc(fds.len().max(1) * size).ok_or(super::errno::ENOMEM)?;
        for (i, &(fd, ev)) in fds.iter().enumerate() {
            let mut raw = fd.to_ne_bytes().to_vec();
            raw.extend_from_slice(&ev.to_ne_bytes());
            raw.extend_from_slice(&0i16.to_ne_bytes());
            self.poke(a + i * size, &raw);
        }
        let n = fds.len() as u32;
        let r = self.sys(move || crate::kern::sys_generic::sys_poll(a, n, timeout_ms))?;
        let revents = (0..fds.len()).map(|i| i16::from_ne_bytes(self.peek(a + i * size + 6, 2).try_into().unwrap())).collect();
        Ok((r, revents))
    }

    /// Write bytes to standard output (the redirection's device, or collected).
    pub fn print(&mut self, data: &[u8]) -> Result<(), i32> {
        self.printed += data.len();
        if self.printed > OUTPUT_LIMIT {
            if !self.err.contains("output limit") {
                self.err.push_str("sh: output limit of 64 MiB reached: the command is stopped (does the device ever report EOF?)\n");
            }
            return Err(EFBIG);
        }
        match self.stdout_fd {
            None => {
                self.out.extend_from_slice(data);
                Ok(())
            }
            Some(fd) => {
                let buf = self.alloc(data.len().max(1)).ok_or(super::errno::ENOMEM)?;
                self.poke(buf, data);
                let mut done = 0;
                while done < data.len() {
                    let n = self.write(fd, buf + done, data.len() - done)?;
                    if n == 0 {
                        return Err(super::errno::EIO);
                    }
                    done += n;
                }
                Ok(())
            }
        }
    }

    /// `warn(3)`-style message on standard error: `prog: what: strerror(e)`.
    pub fn warn(&mut self, prog: &str, what: &str, e: i32) {
        self.err.push_str(&format!("{prog}: {what}: {}\n", strerror(e)));
    }
}

/// `open(2)` flags used by the commands (sys/sys/fcntl.h).
pub mod oflags {
    /// `O_RDONLY`.
    pub const O_RDONLY: i32 = 0;
    /// `O_WRONLY`.
    pub const O_WRONLY: i32 = 1;
    /// `O_RDWR`.
    pub const O_RDWR: i32 = 2;
    /// `O_APPEND`.
    pub const O_APPEND: i32 = 0x0008;
    /// `O_CREAT`.
    pub const O_CREAT: i32 = 0x0200;
    /// `O_TRUNC`.
    pub const O_TRUNC: i32 = 0x0400;
}

extern "C" fn syscall_gate(p: u64) -> u64 {
    // SAFETY: `p` is the `&mut dyn FnMut()` that Kernel::syscall passes for this call.
    let f = unsafe { &mut *(p as *mut &mut dyn FnMut()) };
    f();
    0
}

extern "C" fn background_entry(arg: usize) {
    // SAFETY: the boxed closure leaked by Kernel::syscall_in_background for this thread.
    let f = unsafe { Box::from_raw(arg as *mut Box<dyn FnOnce()>) };
    super::set_td_ucred();
    f();
}

impl Kernel {
    /// A new user process `comm` with credential `cred`; returns its pid.
    pub fn spawn(&mut self, comm: &str, cred: Ucred) -> i32 {
        self.st_mut().user.spawn(comm, cred)
    }

    /// End process `pid`: its open files are closed (last closes call `d_close`).
    pub fn exit_process(&mut self, pid: i32) -> Result<(), Fault> {
        let fds: Vec<i32> = self
            .st()
            .user
            .procs
            .get(&pid)
            .map(|p| p.fds.iter().enumerate().filter(|(_, f)| f.is_some()).map(|(i, _)| i as i32).collect())
            .unwrap_or_default();
        for fd in fds {
            let _ = self.syscall(pid, move || crate::kern::sys_generic::sys_close(fd))?;
        }
        let u = &mut self.st_mut().user;
        u.procs.remove(&pid);
        u.creds.forget(pid);
        u.thread_proc.retain(|_, p| *p != pid);
        Ok(())
    }

    /// Run `f` as a system call of process `pid`: on thread 0 (named after the process),
    /// whose credential and user memory are the process's, through the gate (a crash of
    /// module code is returned as a [`Fault`]; WITNESS checks the return to user space).
    pub fn syscall<R>(&mut self, pid: i32, f: impl FnOnce() -> R) -> Result<R, Fault> {
        let comm = self.st().user.procs.get(&pid).map(|p| p.comm.clone()).unwrap_or_else(|| "sh".into());
        let sch = crate::kern::kern_switch::sched();
        sch.set_main_name(&comm);
        // td_proc->p_pid of thread 0 is the process's while it runs (kldload's is 2).
        let old_pid = std::mem::replace(&mut sch.threads[0].pid, pid);
        let tid0 = crate::kern::kern_switch::TID0;
        self.st_mut().user.thread_proc.insert(tid0, pid);
        let mut f = Some(f);
        let mut out: Option<R> = None;
        let mut call = || {
            super::set_td_ucred();
            out = Some((f.take().expect("called once"))());
        };
        let mut dynf: &mut dyn FnMut() = &mut call;
        let r = self.exec_call(syscall_gate as *const () as usize, &[(&mut dynf) as *mut &mut dyn FnMut() as u64], None);
        self.st_mut().user.thread_proc.remove(&tid0);
        self.st_mut().user.fpop.remove(&tid0);
        crate::kern::kern_switch::sched().threads[0].pid = old_pid;
        match r {
            Ok(_) => Ok(out.expect("the system call ran")),
            Err(a) => Err(self.fault(a)),
        }
    }

    /// Start `f` as a system call of process `pid` on a simulated thread of its own (a
    /// second thread of the process): it runs until it blocks or finishes before this
    /// returns, and goes on in later kernel calls (e.g. a `d_ioctl` that sleeps while the
    /// module is unloaded). The process must outlive the thread.
    pub fn syscall_in_background(&mut self, pid: i32, f: impl FnOnce() + 'static) -> Result<(), Fault> {
        let comm = self.st().user.procs.get(&pid).map(|p| p.comm.clone()).unwrap_or_else(|| "sh".into());
        let arg = Box::into_raw(Box::new(Box::new(f) as Box<dyn FnOnce()>)) as usize;
        self.syscall(pid, move || {
            let s = crate::kern::kern_switch::sched();
            let (pa, _) = s.new_proc();
            let i = s.create(background_entry as *const () as usize, arg, format!("{comm}:bg"), pa, comm, pid, 8);
            let tid = crate::kern::kern_switch::sched().threads[i].tid;
            crate::kern::with(|k| k.user.thread_proc.insert(tid, pid));
        })
    }

    /// Run one command line as process `pid` (see [`super::commands`]).
    pub fn run_command(&mut self, pid: i32, line: &str) -> CommandOutput {
        let mut res = CommandOutput { line: line.into(), ..Default::default() };
        let cmd = match parse(line) {
            Ok(c) => c,
            Err(e) => {
                res.stderr = format!("sh: {e}\n");
                res.status = 2;
                return res;
            }
        };
        if let Some(p) = self.st_mut().user.procs.get_mut(&pid) {
            p.vm.reset();
        }
        let mut sh = Shell { k: self, pid, stdout_fd: None, stdin_fd: None, out: Vec::new(), err: String::new(), printed: 0, fault: None };
        let status = 'run: {
            if let Some((path, append)) = &cmd.stdout_to {
                use oflags::*;
                let fl = O_WRONLY | O_CREAT | if *append { O_APPEND } else { O_TRUNC };
                match sh.open(path, fl) {
                    Ok(fd) => sh.stdout_fd = Some(fd),
                    Err(e) => {
                        sh.err.push_str(&format!("sh: cannot create {path}: {}\n", strerror(e)));
                        break 'run 2;
                    }
                }
            }
            if let Some(path) = &cmd.stdin_from {
                match sh.open(path, oflags::O_RDONLY) {
                    Ok(fd) => sh.stdin_fd = Some(fd),
                    Err(e) => {
                        sh.err.push_str(&format!("sh: cannot open {path}: {}\n", strerror(e)));
                        break 'run 2;
                    }
                }
            }
            let Some(name) = cmd.argv.first() else { break 'run 0 };
            match super::commands::find(name) {
                Some(run) => run(&mut sh, &cmd.argv),
                None => {
                    sh.err.push_str(&format!("sh: {name}: not found\n"));
                    127
                }
            }
        };
        for fd in [sh.stdout_fd.take(), sh.stdin_fd.take()].into_iter().flatten() {
            let _ = sh.close(fd);
        }
        res.status = if sh.fault.is_some() && status == 0 { 1 } else { status };
        res.stdout = std::mem::take(&mut sh.out);
        res.stderr = std::mem::take(&mut sh.err);
        res.fault = sh.fault.take();
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_sh() {
        let c = parse("echo 'hello  world' \"a b\" c>/dev/echo").unwrap();
        assert_eq!(c.argv, vec!["echo", "hello  world", "a b", "c"]);
        assert_eq!(c.stdout_to, Some(("/dev/echo".into(), false)));
        let c = parse("cat < /dev/x >> /dev/y").unwrap();
        assert_eq!(c.argv, vec!["cat"]);
        assert_eq!(c.stdin_from.as_deref(), Some("/dev/x"));
        assert_eq!(c.stdout_to, Some(("/dev/y".into(), true)));
        assert!(parse("echo 'x").is_err());
        assert!(parse("echo >").is_err());
    }
}
