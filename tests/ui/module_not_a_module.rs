// module! needs a type implementing freebsd_kmi::module::Module.
struct NotAModule;

freebsd_kmi::module! {
    type: NotAModule,
    name: "notamodule",
}

fn main() {}
