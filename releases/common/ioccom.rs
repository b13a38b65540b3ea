//! The ioctl command encoding (`sys/sys/ioccom.h`): `_IOC(inout, group, num, len)` is
//! `inout | (len & IOCPARM_MASK) << 16 | group << 8 | num`; the kernel copies `IOCPARM_LEN`
//! bytes in (`IOC_IN`) before `d_ioctl` and out (`IOC_OUT`) after it (sys/kern/sys_generic.c
//! `sys_ioctl`/`kern_ioctl`), so `data` is always kernel memory.
//!
//! Identical on 13.x (sobomax/freebsd14_vendor@0f7ff342 `sys/sys/ioccom.h`), 14.2 and 15.0
//! (probed). The `_IO`/`_IOR`/`_IOW`/`_IOWR` and `IOCPARM_LEN` computations are `const fn`s
//! of the safe crate (`freebsd_kmi::cdev::ioctl`), built on these constants.

use core::ffi::c_ulong;

abi_consts! {
    table IOCCOM_CONSTS, header "sys/sys/ioccom.h";
    /// Number of bits of the parameter length.
    pub const IOCPARM_SHIFT: c_ulong = 13;
    /// Parameter length mask.
    pub const IOCPARM_MASK: c_ulong = (1 << 13) - 1;
    /// Maximum parameter length.
    pub const IOCPARM_MAX: c_ulong = 1 << 13;
    /// No parameters.
    pub const IOC_VOID: c_ulong = 0x20000000;
    /// Copy the parameter out (to the user) after `d_ioctl`.
    pub const IOC_OUT: c_ulong = 0x40000000;
    /// Copy the parameter in (from the user) before `d_ioctl`.
    pub const IOC_IN: c_ulong = 0x80000000;
    /// Both.
    pub const IOC_INOUT: c_ulong = 0x80000000 | 0x40000000;
    /// Direction mask.
    pub const IOC_DIRMASK: c_ulong = 0x20000000 | 0x40000000 | 0x80000000;
}
