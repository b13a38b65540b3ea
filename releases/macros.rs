//! Declaration macros: every bound kernel function, data symbol, struct layout and constant
//! is declared once, and the same declaration produces both the Rust item (or its
//! compile-time layout assertions) and its row in the release's tables: the KPI symbol
//! tables (`cargo kmod check` and the simulator use them) and the ABI tables
//! ([`crate::abi`]). The conformance test compares every row with the real headers.

/// Declares kernel functions and a table describing them.
///
/// ```ignore
/// kpi_functions! {
///     table MALLOC_FUNCTIONS, header "sys/sys/malloc.h";
///     /// malloc(9).
///     pub fn malloc(size: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void;
/// }
/// ```
macro_rules! kpi_functions {
    (
        table $table:ident, header $header:literal;
        $(
            $(#[$meta:meta])*
            pub fn $name:ident ( $($params:tt)* ) $( -> $ret:ty )? ;
        )*
    ) => {
        unsafe extern "C" {
            $(
                $(#[$meta])*
                #[doc = concat!("\n\nDeclared in `", $header, "`.")]
                pub fn $name ( $($params)* ) $( -> $ret )? ;
            )*
        }

        #[doc = concat!("The functions of `", $header, "` this release binds, as data.")]
        pub const $table: &[$crate::kpi::KpiSymbol] = &[
            $(
                $crate::kpi::KpiSymbol {
                    name: stringify!($name),
                    kind: $crate::kpi::SymbolKind::of_params(stringify!($($params)*)),
                    header: $header,
                    params: stringify!($($params)*),
                    ret: kpi_functions!(@ret $($ret)?),
                },
            )*
        ];
    };
    (@ret) => { "()" };
    (@ret $ret:ty) => { stringify!($ret) };
}

/// Declares kernel data symbols and a table describing them.
macro_rules! kpi_statics {
    (
        table $table:ident, header $header:literal;
        $(
            $(#[$meta:meta])*
            pub static $name:ident : $ty:ty ;
        )*
    ) => {
        unsafe extern "C" {
            $(
                $(#[$meta])*
                #[doc = concat!("\n\nDeclared in `", $header, "`.")]
                pub static $name: $ty;
            )*
        }

        #[doc = concat!("The data symbols of `", $header, "` this release binds, as data.")]
        pub const $table: &[$crate::kpi::KpiSymbol] = &[
            $(
                $crate::kpi::KpiSymbol {
                    name: stringify!($name),
                    kind: $crate::kpi::SymbolKind::Data,
                    header: $header,
                    params: "",
                    ret: stringify!($ty),
                },
            )*
        ];
    };
}

/// Declares the checked layouts of a header's structs: compile-time assertions of each
/// struct's size, alignment and field offsets, and a table of [`AbiStruct`] rows (the list
/// the conformance test compares with the real headers). The struct definitions themselves
/// stay ordinary Rust items next to it.
///
/// ```ignore
/// abi_structs! {
///     table MODULE_STRUCTS, header "sys/sys/module.h";
///     moduledata_t = "moduledata_t", size 24, align 8, { name: 0, evhand: 8, priv_ as "priv": 16 };
/// }
/// ```
///
/// A field is `rust_name: offset`, or `rust_name as "c_name": offset` when the C member name
/// is a Rust keyword. Scalar types (an enum's storage) take an empty field list.
///
/// [`AbiStruct`]: crate::abi::AbiStruct
macro_rules! abi_structs {
    (
        table $table:ident, header $header:literal;
        $(
            $ty:ident = $c_name:literal, size $size:literal, align $align:literal,
                { $( $field:ident $(as $c_field:literal)? : $off:literal ),* $(,)? };
        )*
    ) => {
        $(
            const _: () = {
                assert!(core::mem::size_of::<$ty>() == $size, concat!("size of ", stringify!($ty)));
                assert!(core::mem::align_of::<$ty>() == $align, concat!("alignment of ", stringify!($ty)));
                $( assert!(core::mem::offset_of!($ty, $field) == $off,
                           concat!("offset of ", stringify!($ty), ".", stringify!($field))); )*
            };
        )*

        #[doc = concat!("The struct layouts of `", $header, "` this release binds, as data.")]
        pub const $table: &[$crate::abi::AbiStruct] = &[
            $(
                $crate::abi::AbiStruct {
                    name: stringify!($ty),
                    c_name: $c_name,
                    header: $header,
                    size: core::mem::size_of::<$ty>(),
                    align: core::mem::align_of::<$ty>(),
                    fields: &[
                        $(
                            $crate::abi::AbiField {
                                name: stringify!($field),
                                c_name: abi_structs!(@c_field $field $($c_field)?),
                                offset: core::mem::offset_of!($ty, $field),
                                size: $crate::abi::field_size(|s: &$ty| &s.$field),
                            },
                        )*
                    ],
                },
            )*
        ];
    };
    (@c_field $field:ident) => { stringify!($field) };
    (@c_field $field:ident $c_field:literal) => { $c_field };
}

/// Declares constants and a table of [`AbiConst`] rows describing them (the list the
/// conformance test compares with the real headers). Integer constants of any integer type
/// and `&str` constants are accepted; every constant carries a doc line naming its header.
///
/// ```ignore
/// abi_consts! {
///     table MALLOC_CONSTS, header "sys/sys/malloc.h";
///     /// Do not block.
///     pub const M_NOWAIT: c_int = 0x0001;
/// }
/// ```
///
/// [`AbiConst`]: crate::abi::AbiConst
macro_rules! abi_consts {
    (table $table:ident, header $header:literal; $($items:tt)*) => {
        abi_consts!(@munch $table, $header, [] $($items)*);
    };
    (@munch $table:ident, $header:literal, [$($rows:expr,)*]) => {
        #[doc = concat!("The constants of `", $header, "` this release binds, as data.")]
        pub const $table: &[$crate::abi::AbiConst] = &[$($rows,)*];
    };
    (@munch $table:ident, $header:literal, [$($rows:expr,)*]
        $(#[$meta:meta])* pub const $name:ident : &str = $value:expr; $($rest:tt)*
    ) => {
        $(#[$meta])*
        #[doc = concat!("\n\nDefined in `", $header, "`.")]
        pub const $name: &str = $value;
        abi_consts!(@munch $table, $header, [$($rows,)* $crate::abi::AbiConst {
            name: stringify!($name),
            header: $header,
            ty: "&str",
            value: $crate::abi::AbiValue::Str($name),
        },] $($rest)*);
    };
    (@munch $table:ident, $header:literal, [$($rows:expr,)*]
        $(#[$meta:meta])* pub const $name:ident : $ty:ty = $value:expr; $($rest:tt)*
    ) => {
        $(#[$meta])*
        #[doc = concat!("\n\nDefined in `", $header, "`.")]
        pub const $name: $ty = $value;
        abi_consts!(@munch $table, $header, [$($rows,)* $crate::abi::AbiConst {
            name: stringify!($name),
            header: $header,
            ty: stringify!($ty),
            value: $crate::abi::AbiValue::Int($name as i128),
        },] $($rest)*);
    };
}

/// Declares what makes a folder a release: its KPI list (`SYMBOL_TABLES`), its ABI tables
/// (`ABI`), the release as data (`RELEASE`), and `Kernel`, its [`Kpi`](crate::kpi::Kpi)
/// implementation. The common tables come first; each list names the folder's own.
///
/// ```ignore
/// release_folder! {
///     name: "14.0",
///     folder: "v14_0",
///     symbols: [MALLOC14_FUNCTIONS],
///     structs: [sysinit_layout::SYSINIT_STRUCTS],
///     consts: [malloc14::MALLOC14_CONSTS, malloc_version::MALLOC14_VERSION_CONSTS],
/// }
/// ```
macro_rules! release_folder {
    (
        name: $name:literal,
        folder: $folder:literal,
        symbols: [$($sym:expr),* $(,)?],
        structs: [$($st:expr),* $(,)?],
        consts: [$($c:expr),* $(,)?] $(,)?
    ) => {
        #[doc = concat!("Every kernel symbol this folder binds (the KPI a ", $name, " module may import).")]
        pub const SYMBOL_TABLES: &[&[crate::kpi::KpiSymbol]] = common_tables!(symbols $(, $sym)*);

        #[doc = concat!("Every struct layout and constant this folder binds (the common ones and ", $name, "'s), ")]
        /// checked by the conformance test (`tests/conformance`).
        pub const ABI: crate::abi::AbiTables = crate::abi::AbiTables {
            structs: common_tables!(structs $(, $st)*),
            consts: common_tables!(consts $(, $c)*),
        };

        /// The folder's `kernel-exports.txt` (host tools only: empty without `catalog`).
        #[cfg(feature = "catalog")]
        pub const KERNEL_EXPORTS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $folder, "/kernel-exports.txt"));
        /// The folder's `kernel-exports.txt` (host tools only: empty without `catalog`).
        #[cfg(not(feature = "catalog"))]
        pub const KERNEL_EXPORTS: &str = "";

        #[doc = concat!("FreeBSD ", $name, " as data (identity, layouts, symbols).")]
        pub const RELEASE: crate::release::Release = crate::release::Release {
            identity: IDENTITY,
            m_version: M_VERSION,
            sysinit_size: core::mem::size_of::<sysinit>(),
            symbol_tables: SYMBOL_TABLES,
            kernel_exports: KERNEL_EXPORTS,
            abi: ABI,
        };

        #[doc = concat!("The FreeBSD ", $name, " kernel, as the [`Kpi`](crate::kpi::Kpi) implementation.")]
        pub struct Kernel;

        // SAFETY: every method is the default, which calls the kernel function it names;
        // the constants are this release's values.
        unsafe impl crate::kpi::Kpi for Kernel {
            const RELEASE: crate::release::Release = RELEASE;
            const M_VERSION: u64 = M_VERSION;
        }

        // SAFETY: every method is the default, which calls the kernel function it names.
        unsafe impl crate::kpi_sync::KpiSync for Kernel {}
    };
}
