// MALLOC_DEFINE takes (type, shortdesc, longdesc).
freebsd_kmi::malloc_define!(M_SHORT, "short");

fn main() {}
