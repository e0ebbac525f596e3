//! The syntax tree of a MIB module, as written (names not yet resolved).

use crate::error::Pos;

/// A name where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The identifier.
    pub name: String,
    /// Where it was written.
    pub pos: Pos,
}

/// One ASN.1 module (`NAME DEFINITIONS ::= BEGIN ... END`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The module's name and where it was written.
    pub name: Name,
    /// IMPORTS, one entry per `FROM` clause.
    pub imports: Vec<Import>,
    /// The assignments, in order.
    pub defs: Vec<Def>,
}

/// `sym, sym FROM MODULE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The module imported from.
    pub module: Name,
    /// The symbols imported.
    pub symbols: Vec<Name>,
}

/// One assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Def {
    /// The name assigned.
    pub name: Name,
    /// What it is.
    pub kind: DefKind,
}

/// The kinds of assignment a MIB module holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefKind {
    /// `name OBJECT IDENTIFIER ::= { ... }`.
    ObjectIdentifier(OidValue),
    /// A macro invocation with an OID value that has no data of its own here: MODULE-IDENTITY,
    /// OBJECT-IDENTITY, OBJECT-GROUP, NOTIFICATION-GROUP, MODULE-COMPLIANCE, AGENT-CAPABILITIES.
    Node {
        /// The macro (`MODULE-IDENTITY`).
        macro_name: Name,
        /// Its value.
        oid: OidValue,
    },
    /// OBJECT-TYPE.
    ObjectType(Box<ObjectType>),
    /// NOTIFICATION-TYPE.
    Notification {
        /// Its macro name where it was written.
        macro_name: Name,
        /// OBJECTS.
        objects: Vec<Name>,
        /// STATUS.
        status: Option<Name>,
        /// Its value.
        oid: OidValue,
    },
    /// SMIv1 TRAP-TYPE.
    Trap {
        /// Its macro name where it was written.
        macro_name: Name,
        /// ENTERPRISE.
        enterprise: Name,
        /// VARIABLES.
        variables: Vec<Name>,
        /// The specific-trap number.
        number: u32,
    },
    /// `NAME MACRO ::= BEGIN ... END` (in the SMI modules only).
    Macro,
    /// A type assignment: `Name ::= Type` or a TEXTUAL-CONVENTION.
    Type(TypeDef),
    /// A value assignment of some other type (`x INTEGER ::= 3`): kept for the name only.
    OtherValue,
}

/// A type assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    /// Whether written as TEXTUAL-CONVENTION (with its macro name where it was written).
    pub textual_convention: Option<Name>,
    /// DISPLAY-HINT.
    pub display_hint: Option<String>,
    /// STATUS of a textual convention.
    pub status: Option<Name>,
    /// The type.
    pub syntax: TypeAst,
}

/// An OID value `{ parent 1 2 }`, `{ iso org(3) 6 }` or `{ 0 0 }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidValue {
    /// Where the `{` is.
    pub pos: Pos,
    /// Its components.
    pub parts: Vec<OidPart>,
}

/// One component of an OID value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidPart {
    /// A name (only first: the parent).
    Name(Name),
    /// A number.
    Number(u32),
    /// `name(number)`: the number counts, the name is a label.
    Named(Name, u32),
}

/// A bound of a range: a number, or MIN/MAX of the base type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A number (a hex or binary string counts as its unsigned value).
    Num(i128),
    /// MIN.
    Min,
    /// MAX.
    Max,
}

/// A subtype constraint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Constraint {
    /// None written.
    #[default]
    None,
    /// `(SIZE (a..b | c))`.
    Size(Vec<(Bound, Bound)>),
    /// `(a..b | c)`.
    Range(Vec<(Bound, Bound)>),
}

/// A type as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeAst {
    /// Where it starts.
    pub pos: Pos,
    /// The type.
    pub kind: TypeKind,
    /// Its constraint.
    pub constraint: Constraint,
}

/// The kinds of type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    /// INTEGER, with named numbers if enumerated.
    Integer(Vec<(String, i128)>),
    /// OCTET STRING.
    OctetString,
    /// OBJECT IDENTIFIER.
    ObjectIdentifier,
    /// BITS { name(bit), ... }.
    Bits(Vec<(String, u32)>),
    /// NULL.
    Null,
    /// SEQUENCE { name Type, ... }: a conceptual row's columns.
    Sequence(Vec<(Name, TypeAst)>),
    /// SEQUENCE OF Entry: a conceptual table.
    SequenceOf(Name),
    /// CHOICE { name Type, ... }.
    Choice(Vec<(Name, TypeAst)>),
    /// `[APPLICATION n] IMPLICIT Type`: the SMI's application types.
    Application(u32, Box<TypeAst>),
    /// A named type, with named numbers or bits if the reference refines an enumeration.
    Ref(Name, Vec<(String, i128)>),
}

/// An INDEX item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexItem {
    /// The index object.
    pub name: Name,
    /// IMPLIED (the last item only).
    pub implied: bool,
}

/// A DEFVAL value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefVal {
    /// A number.
    Number(i128),
    /// A quoted string.
    Str(String),
    /// A hex string.
    Hex(Vec<u8>),
    /// A binary string.
    Bin(String),
    /// An identifier: an enumeration label or an OID name.
    Ident(String),
    /// `{ ... }`: BITS labels or an OID value.
    Braces(Vec<String>),
}

/// An OBJECT-TYPE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectType {
    /// The macro name where it was written (for the import check).
    pub macro_name: Name,
    /// SYNTAX.
    pub syntax: TypeAst,
    /// UNITS.
    pub units: Option<String>,
    /// MAX-ACCESS or ACCESS.
    pub access: Option<Name>,
    /// STATUS.
    pub status: Option<Name>,
    /// DESCRIPTION.
    pub description: Option<String>,
    /// INDEX.
    pub index: Vec<IndexItem>,
    /// AUGMENTS.
    pub augments: Option<Name>,
    /// DEFVAL.
    pub defval: Option<DefVal>,
    /// Its value.
    pub oid: OidValue,
}
