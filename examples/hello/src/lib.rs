//! `hello.ko`: the smallest useful Rust kernel module.
//!
//! On load it prints a greeting, builds some state with the global allocator (`Box`,
//! `Vec`, `String`) and with the fallible per-call-flags API (`KBox`, `KVec`) charged to
//! its own malloc type `hello`; on unload (`Drop`) it prints a goodbye and frees it all.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use freebsd_kmi::errno::Errno;
use freebsd_kmi::heap::{KBox, KVec};
use freebsd_kmi::malloc::Flags;
use freebsd_kmi::module::Module;
use freebsd_kmi::{kprintln, release};

freebsd_kmi::malloc_define!(M_HELLO, "hello", "Buffers of the hello example module");

/// The module's state, alive from MOD_LOAD to MOD_UNLOAD.
struct Hello {
    greeting: Box<String>,
    squares: Vec<u64>,
    name: KVec<u8>,
    counters: KBox<[u32; 16]>,
}

impl Module for Hello {
    fn load() -> Result<Self, Errno> {
        // Global allocator (GLOBAL_ALLOC_FLAG_WAITOK: module load may sleep).
        let greeting = Box::new(format!("Hello from Rust on FreeBSD {}", release::NAME));
        let squares: Vec<u64> = (1..=10).map(|n| n * n).collect();

        // Fallible API with per-call flags, charged to M_HELLO.
        let mut name = KVec::new_in(&M_HELLO);
        name.try_extend_from_slice(b"hello.ko", Flags::NOWAIT)?;
        let counters = KBox::try_new_in([0u32; 16], Flags::WAITOK | Flags::ZERO, &M_HELLO)?;

        kprintln!("{greeting}!");
        kprintln!(
            "hello: {} built for __FreeBSD_version {}, sum of squares 1..10 = {}",
            core::str::from_utf8(&name).unwrap_or("?"),
            release::FREEBSD_VERSION,
            squares.iter().sum::<u64>()
        );
        Ok(Hello { greeting, squares, name, counters })
    }
}

impl Drop for Hello {
    fn drop(&mut self) {
        let used = self.counters.iter().filter(|&&c| c != 0).count();
        kprintln!(
            "hello: goodbye ({} bytes of greeting, {} squares, {} name bytes, {} counters used)",
            self.greeting.len(),
            self.squares.len(),
            self.name.len(),
            used
        );
    }
}

freebsd_kmi::module! {
    type: Hello,
    name: "hello",
    version: 1,
}
