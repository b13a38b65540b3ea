//! printf(9) family: `printf`, `vprintf`, `uprintf`, `log`, `snprintf`, `vsnprintf`,
//! `sprintf`, with the kernel's own format engine. uprintf output goes to the calling
//! process's terminal ([`crate::Kernel::terminal`]), apart from the console.
//!
//! The engine is a transcription of `kvprintf()` in `sys/kern/subr_prf.c` (freebsd-src main):
//! flags `# + - 0 *`, width and precision (`.N`, `.*`), length modifiers `hh h l ll q j z t`,
//! conversions `d i o u x X p c s b D n r y %`. `%s` with a precision reads at most that many
//! bytes (`for (n = 0; n < dwidth && p[n]; n++)`), so `%.*s` on a buffer without NUL is safe.
//! Unknown conversions print the raw directive and stop interpreting the rest (`stop = 1`).

use super::{VaList, console_write, terminal_write, va_shim};
use crate::ksyms::KsymDef;

fn hex2ascii(v: u64, upper: bool) -> u8 {
    let d = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let c = d[(v % 36) as usize];
    if upper { c.to_ascii_uppercase() } else { c }
}

/// Digits of `num` in `base`, most significant first (`ksprintn`).
fn ksprintn(mut num: u64, base: u64, upper: bool) -> Vec<u8> {
    let base = base.clamp(2, 36);
    let mut v = Vec::new();
    loop {
        v.push(hex2ascii(num % base, upper));
        num /= base;
        if num == 0 {
            break;
        }
    }
    v.reverse();
    v
}

/// Format `fmt` with `ap` into `out` exactly as the kernel's `kvprintf(fmt, .., radix 10, ap)`.
/// Returns the number of characters produced.
///
/// # Safety
/// `fmt` must be NULL or a NUL-terminated string; pointer arguments consumed by `%s`, `%b`,
/// `%D` must be valid as the kernel requires.
pub unsafe fn kvprintf(fmt: *const u8, ap: &mut VaList, out: &mut Vec<u8>) -> i32 {
    let start_len = out.len();
    let null_fmt = b"(fmt null)\n\0";
    let mut fmt = if fmt.is_null() { null_fmt.as_ptr() } else { fmt };
    let radix = 10u64;
    let rd = |p: *const u8| -> u8 {
        // SAFETY: reads of fmt stay within its NUL terminator; other pointer reads follow the
        // caller's contract (the kernel's own kvprintf trusts its arguments the same way).
        unsafe { *p }
    };
    let mut stop = false;
    loop {
        let mut padc = b' ';
        let mut width: i64 = 0;
        let mut ch;
        loop {
            ch = rd(fmt);
            // SAFETY: advancing within the format string.
            fmt = unsafe { fmt.add(1) };
            if ch != b'%' || stop {
                if ch == 0 {
                    return (out.len() - start_len) as i32;
                }
                out.push(ch);
            } else {
                break;
            }
        }
        // SAFETY: fmt was advanced past '%', so fmt-1 is the '%'.
        let percent = unsafe { fmt.sub(1) };
        let (mut qflag, mut lflag, mut ladjust, mut sharpflag) = (false, false, false, false);
        let mut sign: u8 = 0;
        let (mut dot, mut bconv) = (false, false);
        let mut dwidth: i64 = 0;
        let mut upper = false;
        let (mut cflag, mut hflag, mut jflag, mut tflag, mut zflag) = (false, false, false, false, false);
        let mut base: u64 = 10;
        let mut num: u64 = 0;
        let mut q: *const u8 = std::ptr::null();
        enum Next {
            Nosign,
            Sign,
            Number,
            Done,
        }
        let next = loop {
            ch = rd(fmt);
            // SAFETY: advancing within the format string (a NUL ends in the default arm).
            fmt = unsafe { fmt.add(1) };
            match ch {
                b'.' => dot = true,
                b'#' => sharpflag = true,
                b'+' => sign = b'+',
                b'-' => ladjust = true,
                b'%' => {
                    out.push(ch);
                    break Next::Done;
                }
                b'*' => {
                    let v = ap.next_u64() as i32 as i64;
                    if !dot {
                        width = v;
                        if width < 0 {
                            ladjust = !ladjust;
                            width = -width;
                        }
                    } else {
                        dwidth = v;
                    }
                }
                b'0' if !dot => padc = b'0',
                b'0'..=b'9' => {
                    let mut n: i64 = 0;
                    let mut c = ch;
                    loop {
                        n = n * 10 + (c - b'0') as i64;
                        c = rd(fmt);
                        if !c.is_ascii_digit() {
                            break;
                        }
                        // SAFETY: c was a digit, so the string continues.
                        fmt = unsafe { fmt.add(1) };
                    }
                    if dot {
                        dwidth = n;
                    } else {
                        width = n;
                    }
                }
                b'b' => {
                    ladjust = true;
                    bconv = true;
                    break Next::Nosign;
                }
                b'c' => {
                    width -= 1;
                    if !ladjust && width > 0 {
                        out.extend(std::iter::repeat_n(padc, width as usize));
                    }
                    out.push(ap.next_u64() as u8);
                    if ladjust && width > 0 {
                        out.extend(std::iter::repeat_n(padc, width as usize));
                    }
                    break Next::Done;
                }
                b'D' => {
                    let mut up = ap.next_u64() as *const u8;
                    let p = ap.next_u64() as *const u8;
                    if width == 0 {
                        width = 16;
                    }
                    while width > 0 {
                        width -= 1;
                        let b = rd(up);
                        out.push(hex2ascii((b >> 4) as u64, false));
                        out.push(hex2ascii((b & 0xf) as u64, false));
                        // SAFETY: the caller passes `width` readable bytes.
                        up = unsafe { up.add(1) };
                        if width > 0 {
                            let mut s = p;
                            while rd(s) != 0 {
                                out.push(rd(s));
                                // SAFETY: within the NUL-terminated separator.
                                s = unsafe { s.add(1) };
                            }
                        }
                    }
                    break Next::Done;
                }
                b'd' | b'i' => {
                    base = 10;
                    break Next::Sign;
                }
                b'h' => {
                    if hflag {
                        hflag = false;
                        cflag = true;
                    } else {
                        hflag = true;
                    }
                }
                b'j' => jflag = true,
                b'l' => {
                    if lflag {
                        lflag = false;
                        qflag = true;
                    } else {
                        lflag = true;
                    }
                }
                b'n' => {
                    // "We do not support %n in kernel, but consume the argument."
                    let _ = ap.next_u64();
                    break Next::Done;
                }
                b'o' => {
                    base = 8;
                    break Next::Nosign;
                }
                b'p' => {
                    base = 16;
                    sharpflag = width == 0;
                    sign = 0;
                    num = ap.next_u64();
                    break Next::Number;
                }
                b'q' => qflag = true,
                b'r' => {
                    base = radix;
                    if sign != 0 {
                        sign = 0;
                        break Next::Sign;
                    }
                    break Next::Nosign;
                }
                b's' => {
                    let mut p = ap.next_u64() as *const u8;
                    if p.is_null() {
                        p = c"(null)".as_ptr() as *const u8;
                    }
                    let mut n: i64 = 0;
                    if !dot {
                        while rd(p.wrapping_add(n as usize)) != 0 {
                            n += 1;
                        }
                    } else {
                        while n < dwidth && rd(p.wrapping_add(n as usize)) != 0 {
                            n += 1;
                        }
                    }
                    width -= n;
                    if !ladjust && width > 0 {
                        out.extend(std::iter::repeat_n(padc, width as usize));
                    }
                    for i in 0..n {
                        out.push(rd(p.wrapping_add(i as usize)));
                    }
                    if ladjust && width > 0 {
                        out.extend(std::iter::repeat_n(padc, width as usize));
                    }
                    break Next::Done;
                }
                b't' => tflag = true,
                b'u' => {
                    base = 10;
                    break Next::Nosign;
                }
                b'X' | b'x' => {
                    upper = ch == b'X';
                    base = 16;
                    break Next::Nosign;
                }
                b'y' => {
                    base = 16;
                    break Next::Sign;
                }
                b'z' => zflag = true,
                _ => {
                    let mut p = percent;
                    while p < fmt {
                        if rd(p) == 0 {
                            // The directive ran into the terminating NUL.
                            return (out.len() - start_len) as i32;
                        }
                        out.push(rd(p));
                        // SAFETY: p < fmt, within the format string.
                        p = unsafe { p.add(1) };
                    }
                    stop = true;
                    break Next::Done;
                }
            }
        };
        num = match next {
            Next::Done => continue,
            Next::Number => num,
            Next::Nosign => {
                let a = ap.next_u64();
                let n = if jflag || qflag || tflag || lflag || zflag {
                    a
                } else if hflag {
                    a as u16 as u64
                } else if cflag {
                    a as u8 as u64
                } else {
                    a as u32 as u64
                };
                if bconv {
                    q = ap.next_u64() as *const u8;
                    base = rd(q) as u64;
                    // SAFETY: the %b descriptor string starts with its base byte.
                    q = unsafe { q.add(1) };
                }
                n
            }
            Next::Sign => {
                let a = ap.next_u64();
                let n: i64 = if jflag || qflag || tflag || lflag || zflag {
                    a as i64
                } else if hflag {
                    a as i16 as i64
                } else if cflag {
                    a as i8 as i64
                } else {
                    a as i32 as i64
                };
                if n < 0 {
                    sign = b'-';
                    (n as u64).wrapping_neg()
                } else {
                    n as u64
                }
            }
        };
        // number:
        let digits = ksprintn(num, base, upper);
        let n = digits.len() as i64;
        let mut tmp: i64 = 0;
        if sharpflag && num != 0 {
            if base == 8 {
                tmp += 1;
            } else if base == 16 {
                tmp += 2;
            }
        }
        if sign != 0 {
            tmp += 1;
        }
        if !ladjust && padc == b'0' {
            dwidth = width - tmp;
        }
        width -= tmp + dwidth.max(n);
        dwidth -= n;
        if !ladjust {
            while width > 0 {
                out.push(b' ');
                width -= 1;
            }
        }
        if sign != 0 {
            out.push(sign);
        }
        if sharpflag && num != 0 {
            if base == 8 {
                out.push(b'0');
            } else if base == 16 {
                out.extend_from_slice(b"0x");
            }
        }
        while dwidth > 0 {
            out.push(b'0');
            dwidth -= 1;
        }
        out.extend_from_slice(&digits);
        if bconv && num != 0 {
            let before = out.len();
            while rd(q) != 0 {
                let bit = rd(q) as u32;
                // SAFETY: walking the NUL-terminated %b descriptor.
                q = unsafe { q.add(1) };
                if (1..=64).contains(&bit) && num & (1u64 << (bit - 1)) != 0 {
                    out.push(if out.len() != before { b',' } else { b'<' });
                    while rd(q) > b' ' {
                        out.push(rd(q));
                        // SAFETY: as above.
                        q = unsafe { q.add(1) };
                    }
                } else {
                    while rd(q) > b' ' {
                        // SAFETY: as above.
                        q = unsafe { q.add(1) };
                    }
                }
            }
            if out.len() != before {
                out.push(b'>');
                width -= (out.len() - before) as i64;
            }
        }
        if ladjust {
            while width > 0 {
                out.push(b' ');
                width -= 1;
            }
        }
    }
}

/// Format with the kernel engine into a String (helper for tests and stubs).
///
/// # Safety
/// See [`kvprintf`].
pub unsafe fn format(fmt: *const u8, ap: &mut VaList) -> Vec<u8> {
    let mut out = Vec::new();
    // SAFETY: forwarded contract.
    unsafe { kvprintf(fmt, ap, &mut out) };
    out
}

/// printf(9), vprintf(9), uprintf(9) and log(9) are preemption points under a seeded
/// schedule (`kern_switch.rs`): a kernel thread can be preempted anywhere outside a
/// critical section, so also on its way into them (inside a spin-mutex or critical section
/// the simulator does not preempt). The simulator emits each call's output whole.
fn preemption_point() {
    super::kern_switch::preempt();
}

extern "C" fn printf_impl(gp: *const u64, stack: *const u64) -> u64 {
    preemption_point();
    // SAFETY: called only from the printf shim with its spill area and stack pointer.
    let mut ap = unsafe { VaList::new(gp, 1, stack) };
    // SAFETY: gp[0] is the format argument.
    let out = unsafe { format(*gp as *const u8, &mut ap) };
    console_write(&out);
    out.len() as i32 as i64 as u64
}

extern "C" fn uprintf_impl(gp: *const u64, stack: *const u64) -> u64 {
    preemption_point();
    // uprintf(9) prints to the controlling terminal of the current process, not to the
    // console or the message buffer (kern/subr_prf.c `uprintf`: `pca.flags = TOTTY`,
    // output through `tty_putchar`); the simulated process calling kldload/kldunload has
    // a terminal, kept apart from the console.
    // SAFETY: called only from the uprintf shim with its spill area and stack pointer.
    let mut ap = unsafe { VaList::new(gp, 1, stack) };
    // SAFETY: gp[0] is the format argument.
    let out = unsafe { format(*gp as *const u8, &mut ap) };
    terminal_write(&out);
    out.len() as i32 as i64 as u64
}

extern "C" fn log_impl(gp: *const u64, stack: *const u64) -> u64 {
    preemption_point();
    // log(int pri, const char *fmt, ...): the message goes to the log buffer (dmesg); the
    // simulator has one console for everything.
    // SAFETY: called only from the log shim.
    let mut ap = unsafe { VaList::new(gp, 2, stack) };
    // SAFETY: gp[1] is the format argument.
    let out = unsafe { format(*gp.add(1) as *const u8, &mut ap) };
    console_write(&out);
    0
}

extern "C" fn snprintf_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: called only from the snprintf shim: (buf, size, fmt, ...).
    unsafe {
        let mut ap = VaList::new(gp, 3, stack);
        bounded(*gp as *mut u8, *gp.add(1) as usize, *gp.add(2) as *const u8, &mut ap)
    }
}

extern "C" fn sprintf_impl(gp: *const u64, stack: *const u64) -> u64 {
    // SAFETY: called only from the sprintf shim: (buf, fmt, ...); unbounded like the kernel.
    unsafe {
        let mut ap = VaList::new(gp, 2, stack);
        bounded(*gp as *mut u8, usize::MAX, *gp.add(1) as *const u8, &mut ap)
    }
}

/// `vsnprintf`-style output into a module buffer; returns the untruncated length.
unsafe fn bounded(buf: *mut u8, size: usize, fmt: *const u8, ap: &mut VaList) -> u64 {
    // SAFETY: forwarded contract.
    let out = unsafe { format(fmt, ap) };
    if size > 0 && !buf.is_null() {
        let n = out.len().min(size - 1);
        // SAFETY: the caller's buffer holds `size` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(out.as_ptr(), buf, n);
            *buf.add(n) = 0;
        }
    }
    out.len() as u64
}

extern "C" fn vprintf_host(fmt: *const u8, ap: *const u8) -> i32 {
    preemption_point();
    // SAFETY: ap is the caller's va_list.
    let mut va = unsafe { VaList::from_sysv(ap) };
    // SAFETY: fmt is the caller's format.
    let out = unsafe { format(fmt, &mut va) };
    console_write(&out);
    out.len() as i32
}

extern "C" fn vsnprintf_host(buf: *mut u8, size: usize, fmt: *const u8, ap: *const u8) -> i32 {
    // SAFETY: ap is the caller's va_list; buf holds size bytes.
    unsafe {
        let mut va = VaList::from_sysv(ap);
        bounded(buf, size, fmt, &mut va) as i32
    }
}

va_shim!(sim_va_printf, printf_impl);
va_shim!(sim_va_uprintf, uprintf_impl);
va_shim!(sim_va_log, log_impl);
va_shim!(sim_va_snprintf, snprintf_impl);
va_shim!(sim_va_sprintf, sprintf_impl);

/// Register the printf family.
pub fn symbols(v: &mut Vec<KsymDef>) {
    v.push(KsymDef::variadic("printf", sim_va_printf as *const () as usize));
    v.push(KsymDef::variadic("uprintf", sim_va_uprintf as *const () as usize));
    v.push(KsymDef::variadic("log", sim_va_log as *const () as usize));
    v.push(KsymDef::variadic("snprintf", sim_va_snprintf as *const () as usize));
    v.push(KsymDef::variadic("sprintf", sim_va_sprintf as *const () as usize));
    v.push(KsymDef::function("vprintf", vprintf_host as *const () as usize));
    v.push(KsymDef::function("vsnprintf", vsnprintf_host as *const () as usize));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: &str, args: &[u64]) -> String {
        let f = std::ffi::CString::new(f).expect("fmt");
        let mut gp = [0u64; 6];
        let n = args.len().min(6);
        gp[..n].copy_from_slice(&args[..n]);
        let stack: Vec<u64> = args.iter().skip(6).copied().collect();
        // SAFETY: gp holds 6 slots, stack the rest; pointers in args are valid.
        let mut ap = unsafe { VaList::new(gp.as_ptr(), 0, stack.as_ptr()) };
        // SAFETY: f is NUL-terminated.
        String::from_utf8(unsafe { format(f.as_ptr() as *const u8, &mut ap) }).expect("utf8")
    }

    #[test]
    fn precision_string_reads_only_len_bytes() {
        // "abcd" as the last 4 bytes before an inaccessible page: reading a 5th byte faults.
        // SAFETY: fresh anonymous mapping; the second page is made inaccessible.
        let p = unsafe {
            let p = libc::mmap(std::ptr::null_mut(), 8192, libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) as usize;
            libc::mprotect((p + 4096) as *mut libc::c_void, 4096, libc::PROT_NONE);
            std::ptr::copy_nonoverlapping(b"abcd".as_ptr(), (p + 4092) as *mut u8, 4);
            p
        };
        assert_eq!(fmt("[%.*s]", &[4, (p + 4092) as u64]), "[abcd]");
        assert_eq!(fmt("[%.2s]", &[(p + 4092) as u64]), "[ab]");
        assert_eq!(fmt("[%-6.*s]", &[3, (p + 4092) as u64]), "[abc   ]");
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(p as *mut libc::c_void, 8192) };
    }

    #[test]
    fn numbers_flags_and_stack_arguments() {
        assert_eq!(fmt("%d %d %d %d %d %d %d %d", &[1, 2, 3, 4, 5, 6, 7, (-8i64) as u64]), "1 2 3 4 5 6 7 -8");
        assert_eq!(fmt("%x|%#x|%#o|%08x|%-4d|%+d", &[255, 255, 8, 0xab, 7, 5]), "ff|0xff|010|000000ab|7   |+5");
        assert_eq!(fmt("%*d|%*d|", &[5, 42, (-5i64) as u64, 42]), "   42|42   |");
        assert_eq!(fmt("%lu %ld %llx %jd %zu %hhd %hu", &[u64::MAX, u64::MAX, 0xdead, (-1i64) as u64, 9, 0x1ff, 0x12345]),
            "18446744073709551615 -1 dead -1 9 -1 9029");
        assert_eq!(fmt("%5s|%-5s|%c%c", &[c"ab".as_ptr() as u64, c"cd".as_ptr() as u64, b'o' as u64, b'k' as u64]),
            "   ab|cd   |ok");
        assert_eq!(fmt("%p %p", &[0, 0x10]), "0 0x10");
        assert_eq!(fmt("100%% %y", &[(-16i64) as u64]), "100% -10");
        // Unknown conversion: printed raw, the rest is not interpreted (stop = 1).
        assert_eq!(fmt("a %k %d b", &[5]), "a %k %d b");
    }

    #[test]
    fn bit_field_and_hexdump() {
        let bits = c"\x10\x01A\x02B\x03C";
        assert_eq!(fmt("%b", &[5, bits.as_ptr() as u64]), "5<A,C>");
        assert_eq!(fmt("%b", &[0, bits.as_ptr() as u64]), "0");
        let mac = [0xdeu8, 0xad, 0xbe, 0xef];
        assert_eq!(fmt("%4D", &[mac.as_ptr() as u64, c"-".as_ptr() as u64]), "de-ad-be-ef");
    }
}
