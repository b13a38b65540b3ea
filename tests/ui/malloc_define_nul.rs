// A malloc type name is a C string: an embedded NUL is a compile error.
freebsd_kmi::malloc_define!(M_BAD, "bad\0name", "a type with a NUL in its name");

fn main() {}
