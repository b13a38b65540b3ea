//! `echo.ko`: `/dev/echo` keeps what is written to it and returns it on read.
//!
//! - A buffer of 4 KiB (resizable up to 64 KiB) under an [`SxLock`]: `write` stores at the
//!   file offset (a write from offset 0 replaces the contents), `read` returns the contents
//!   from the offset. The copies (uiomove) may fault and sleep, so the lock is an sx lock,
//!   not a [`Mutex`](freebsd_kmi::sync::Mutex), whose holder must not sleep.
//! - ioctls: [`ECHO_GETLEN`] (`_IOR('E', 1, uint32_t)`) the stored length;
//!   [`ECHO_CLEAR`] (`_IO('E', 2)`) empties it, root only (`priv_check(td, PRIV_DRIVER)`);
//!   [`ECHO_RESIZE`] (`_IOW('E', 3, uint32_t)`) sets the buffer size, 1 to 65536 bytes
//!   (`EINVAL` otherwise, `ENOMEM` when the allocation fails). The same group and number
//!   with another size is `EINVAL`; other commands `ENOTTY`.
//! - poll(2): readable (`POLLIN | POLLRDNORM`) while the buffer holds data, always
//!   writable (`POLLOUT | POLLWRNORM`); a poller waiting to read is woken by the next write
//!   ([`SelInfo`], recorded and woken under the buffer's lock so no wakeup is lost).
//! - The node is `root:wheel 0600`. `kldunload` is refused with `EBUSY` while the device
//!   is open; `kldunload -f` destroys it (waiting for running calls).
//!
//! Safe Rust only. Its C twin is `examples/c-twins/echo.c`; both behave the same.
#![no_std]
#![forbid(unsafe_code)]

use core::ffi::c_int;
use core::pin::Pin;
use freebsd_kmi::cdev::{
    Caller, CharDevice, DeviceOptions, IoDest, IoSource, Ioctl, IoctlRequest, PollContext, PollEvents, Privilege, Registration, SelInfo,
};
use freebsd_kmi::errno::{EBUSY, EINVAL, ENOSPC, ENOTTY, Errno};
use freebsd_kmi::heap::{KBox, KVec};
use freebsd_kmi::kprintln;
use freebsd_kmi::malloc::Flags;
use freebsd_kmi::module::Module;
use freebsd_kmi::sync::SxLock;

/// `_IOR('E', 1, uint32_t)`: the number of bytes stored.
pub const ECHO_GETLEN: Ioctl<u32> = Ioctl::ior(b'E', 1);
/// `_IO('E', 2)`: forget the contents (root only).
pub const ECHO_CLEAR: Ioctl<()> = Ioctl::io(b'E', 2);
/// `_IOW('E', 3, uint32_t)`: resize the buffer (1..=65536 bytes), keeping what fits.
pub const ECHO_RESIZE: Ioctl<u32> = Ioctl::iow(b'E', 3);

/// Initial buffer size.
const INITIAL_SIZE: usize = 4096;
/// Largest buffer size.
const MAX_SIZE: usize = 65536;

/// The stored bytes: `data` is the whole buffer (its length is the size), the first `len`
/// bytes are the contents.
struct Buffer {
    data: KVec<u8>,
    len: usize,
}

/// A zeroed buffer of `size` bytes.
fn zeroed(size: usize, flags: Flags) -> Result<KVec<u8>, Errno> {
    let mut v = KVec::try_with_capacity(size, flags)?;
    while v.len() < size {
        let n = (size - v.len()).min(256);
        v.try_extend_from_slice(&[0u8; 256][..n], flags)?;
    }
    Ok(v)
}

/// The device.
struct Echo {
    buffer: Pin<KBox<SxLock<Buffer>>>,
    /// Threads in poll(2) waiting for data to read. Dropped with the device's data, after
    /// `destroy_dev`: its drop wakes them (`seldrain`) before the memory goes.
    readable: SelInfo,
}

impl CharDevice for Echo {
    type File = ();

    fn open(&self, _caller: &Caller<'_>, _flags: c_int) -> Result<(), Errno> {
        Ok(())
    }

    fn read(&self, _file: &(), to: &mut IoDest<'_>, _ioflag: c_int) -> Result<(), Errno> {
        let buffer = self.buffer.read();
        to.copy_at_offset(&buffer.data[..buffer.len]).map(drop)
    }

    fn write(&self, _file: &(), from: &mut IoSource<'_>, _ioflag: c_int) -> Result<(), Errno> {
        let offset = usize::try_from(from.offset()).map_err(|_| EINVAL)?;
        if from.remaining() == 0 {
            return Ok(());
        }
        let mut buffer = self.buffer.write();
        let Buffer { data, len } = &mut *buffer;
        if offset >= data.len() {
            return Err(ENOSPC);
        }
        let (head, tail) = data.split_at_mut(offset);
        if offset > *len {
            head[*len..].fill(0);
        }
        let before = from.remaining();
        let result = from.copy_to_slice(tail).map(drop);
        // A write ends the contents where it stopped (also after a fault part way).
        *len = offset + (before - from.remaining());
        if *len > 0 {
            // Under the lock poll checks the length with: no wakeup is lost.
            self.readable.wakeup();
        }
        result
    }

    fn poll(&self, _file: &(), events: PollEvents, ctx: &PollContext<'_>) -> PollEvents {
        let mut revents = PollEvents::EMPTY;
        if events.intersects(PollEvents::READ) {
            let buffer = self.buffer.read();
            if buffer.len > 0 {
                revents |= events & PollEvents::READ;
            } else {
                self.readable.record(ctx);
            }
        }
        if events.intersects(PollEvents::WRITE) {
            revents |= events & PollEvents::WRITE;
        }
        revents
    }

    fn ioctl(&self, _file: &(), request: &mut IoctlRequest<'_>, caller: &Caller<'_>) -> Result<(), Errno> {
        if let Some(len) = request.arg(&ECHO_GETLEN)? {
            *len = self.buffer.read().len as u32;
            return Ok(());
        }
        if request.arg(&ECHO_CLEAR)?.is_some() {
            caller.priv_check(Privilege::DRIVER)?;
            self.buffer.write().len = 0;
            return Ok(());
        }
        if let Some(&mut size) = request.arg(&ECHO_RESIZE)? {
            let size = size as usize;
            if size == 0 || size > MAX_SIZE {
                return Err(EINVAL);
            }
            // Allocate before locking: no lock is held while malloc(9) runs.
            let mut data = zeroed(size, Flags::NOWAIT)?;
            let mut buffer = self.buffer.write();
            let keep = buffer.len.min(size);
            data[..keep].copy_from_slice(&buffer.data[..keep]);
            buffer.data = data; // the old buffer is freed here
            buffer.len = keep;
            return Ok(());
        }
        Err(ENOTTY)
    }
}

/// The module's state: the device registration (dropping it destroys `/dev/echo`).
struct EchoModule {
    dev: Registration<Echo>,
}

impl Module for EchoModule {
    fn load() -> Result<Self, Errno> {
        let buffer = SxLock::new_named(Buffer { data: zeroed(INITIAL_SIZE, Flags::WAITOK)?, len: 0 }, c"echo")?;
        let readable = SelInfo::new()?;
        let dev = Registration::new(DeviceOptions::new(c"echo"), Echo { buffer, readable })?;
        kprintln!("echo: /dev/echo created ({} bytes)", INITIAL_SIZE);
        Ok(EchoModule { dev })
    }

    fn quiesce(&self) -> Result<(), Errno> {
        if self.dev.open_files() > 0 { Err(EBUSY) } else { Ok(()) }
    }
}

impl Drop for EchoModule {
    fn drop(&mut self) {
        kprintln!("echo: destroying /dev/echo");
    }
}

freebsd_kmi::module! {
    type: EchoModule,
    name: "echo",
    version: 1,
}
