//! The kernel printf engine (subr_prf.c kvprintf) through a real module's printf calls.
mod common;
use kernel_sim::{Kernel, SimOptions, SimRelease};

#[test]
fn printf_conversions_match_the_kernel() {
    let _g = common::lock();
    let ko = common::build("hello-fmt", &["hello.c"], common::Target::Fbsd14);
    let mut k = Kernel::boot(SimRelease::V14_0, SimOptions::default()).expect("boot");
    let id = k.load(&ko).unwrap_or_else(|e| panic!("{e}\n{}", k.console()));
    k.take_console();
    let f = k.lookup_symbol(id, "hello_formats").expect("hello_formats");
    k.call(f, &[]).expect("call");
    let expected = "d=-42 i=7 u=3000000000 x=beef X=BEEF o=10 c=Z s=str\n\
        ld=-1234567890123 lu=18446744073709551615 lx=deadbeefcafe zu=77 zd=-77 jd=-5 ju=5\n\
        lld=-9 llu=9 hd=-3 hhx=ab\n\
        [   42] [42   ] [00042] [0xff] [010] [abcd] [     9] [ab    ] [xy]\n\
        p=0x1234 null=(null) b=3<BITTWO,BITONE> D=00:1b:21:ab:cd:ef\n";
    assert_eq!(k.console(), expected);
    // uprintf goes to the calling process's terminal, not the console (subr_prf.c).
    assert_eq!(k.terminal(), "uprintf works\n");
    k.unload(id).expect("unload");
}
