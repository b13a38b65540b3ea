//! Declaration macros: every bound kernel function or data symbol is declared once, and the
//! same declaration produces both the `extern "C"` item and its row in the release's KPI
//! table (the list `cargo kmod check` and the simulator use, and the conformance test
//! compares with the real headers).

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

/// Asserts a struct's size and field offsets at compile time.
///
/// `assert_layout!(sysinit, 32, { subsystem: 0, order: 4, next: 8, func: 16, udata: 24 });`
macro_rules! assert_layout {
    ($ty:ty, $size:expr, { $( $field:ident : $off:expr ),* $(,)? }) => {
        const _: () = {
            assert!(core::mem::size_of::<$ty>() == $size, concat!("size of ", stringify!($ty)));
            $( assert!(core::mem::offset_of!($ty, $field) == $off,
                       concat!("offset of ", stringify!($ty), ".", stringify!($field))); )*
        };
    };
}
