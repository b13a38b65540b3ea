//! The ABI of a release folder as data: every struct layout and every constant the folder
//! binds, next to the KPI symbol tables ([`KpiSymbol`](crate::kpi::KpiSymbol)) that describe
//! its functions and data symbols.
//!
//! The rows are produced by the same declarations that define the bindings (the crate's
//! `abi_structs!` macro emits the compile-time layout assertions and the [`AbiStruct`] rows,
//! `abi_consts!` the constants and their [`AbiConst`] rows), so the tables cannot drift from
//! the bindings. The conformance test
//! (`releases/tests/conformance.rs`) turns these tables into C probes, compiles them against
//! the real FreeBSD headers and compares every value.

/// One field of a bound struct, as laid out by the Rust binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbiField {
    /// The Rust field name (`priv_`).
    pub name: &'static str,
    /// The C member name (`priv`); equal to `name` unless the C name is a Rust keyword.
    pub c_name: &'static str,
    /// `offset_of!` of the field in the Rust binding.
    pub offset: usize,
    /// `size_of` of the field's Rust type.
    pub size: usize,
}

/// One bound struct (or other C type with a checked layout, such as an enum's storage).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbiStruct {
    /// The Rust type name (`sysinit`, `moduledata_t`).
    pub name: &'static str,
    /// The C type it mirrors (`struct sysinit`, `moduledata_t`, `enum sysinit_sub_id`).
    pub c_name: &'static str,
    /// The FreeBSD header that defines it, relative to the source tree (`sys/sys/kernel.h`).
    pub header: &'static str,
    /// `size_of` of the Rust type.
    pub size: usize,
    /// `align_of` of the Rust type.
    pub align: usize,
    /// Every field the binding declares, in declaration order (empty for scalar types).
    pub fields: &'static [AbiField],
}

/// The value of a bound constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiValue {
    /// An integer constant (`#define M_ZERO 0x0100`, enumerators).
    Int(i128),
    /// A string constant (`#define MDT_SETNAME "modmetadata_set"`).
    Str(&'static str),
}

/// One bound constant (a C macro or enumerator with the same name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbiConst {
    /// The constant's name, in Rust and in C (`M_ZERO`).
    pub name: &'static str,
    /// The FreeBSD header that defines it, relative to the source tree (`sys/sys/malloc.h`).
    pub header: &'static str,
    /// The Rust type as written in the binding (`c_int`).
    pub ty: &'static str,
    /// The Rust value.
    pub value: AbiValue,
}

/// The struct and constant tables of one release folder (its functions and data symbols
/// are in [`Release::symbol_tables`](crate::release::Release::symbol_tables)).
#[derive(Clone, Copy, Debug)]
pub struct AbiTables {
    /// Every struct layout table, per header.
    pub structs: &'static [&'static [AbiStruct]],
    /// Every constant table, per header.
    pub consts: &'static [&'static [AbiConst]],
}

impl AbiTables {
    /// Every bound struct.
    pub fn structs(&self) -> impl Iterator<Item = &'static AbiStruct> {
        self.structs.iter().flat_map(|t| t.iter())
    }

    /// Every bound constant.
    pub fn consts(&self) -> impl Iterator<Item = &'static AbiConst> {
        self.consts.iter().flat_map(|t| t.iter())
    }
}

/// `size_of` of the value a field projection returns: how `abi_structs!` measures a field
/// without naming its type (`field_size(|s: &sysinit| &s.func)`).
pub const fn field_size<T, F>(_field: fn(&T) -> &F) -> usize {
    core::mem::size_of::<F>()
}
