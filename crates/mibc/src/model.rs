//! The compiled form of a module: every node with its OID, its resolved syntax (base type,
//! textual convention, ranges, sizes, enumerations), access and, for tables, the index.

use std::fmt;
use std::path::PathBuf;

pub use crate::ast::DefVal;
use crate::error::Pos;

/// The SMI base type a syntax reduces to: what goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseType {
    /// INTEGER / Integer32 (and enumerations).
    Integer,
    /// OCTET STRING.
    OctetString,
    /// OBJECT IDENTIFIER.
    ObjectIdentifier,
    /// IpAddress (`[APPLICATION 0]`).
    IpAddress,
    /// Counter32 / Counter (`[APPLICATION 1]`).
    Counter32,
    /// Gauge32 / Unsigned32 / Gauge (`[APPLICATION 2]`).
    Gauge32,
    /// TimeTicks (`[APPLICATION 3]`).
    TimeTicks,
    /// Opaque (`[APPLICATION 4]`).
    Opaque,
    /// Counter64 (`[APPLICATION 6]`).
    Counter64,
    /// BITS: an OCTET STRING on the wire.
    Bits,
    /// NULL (no object has it; some SMI types do).
    Null,
    /// SEQUENCE OF: a table.
    SequenceOf,
    /// SEQUENCE: a row.
    Sequence,
}

impl BaseType {
    /// The type's name in SMIv2.
    pub fn smi_name(self) -> &'static str {
        match self {
            BaseType::Integer => "INTEGER",
            BaseType::OctetString => "OCTET STRING",
            BaseType::ObjectIdentifier => "OBJECT IDENTIFIER",
            BaseType::IpAddress => "IpAddress",
            BaseType::Counter32 => "Counter32",
            BaseType::Gauge32 => "Gauge32",
            BaseType::TimeTicks => "TimeTicks",
            BaseType::Opaque => "Opaque",
            BaseType::Counter64 => "Counter64",
            BaseType::Bits => "BITS",
            BaseType::Null => "NULL",
            BaseType::SequenceOf => "SEQUENCE OF",
            BaseType::Sequence => "SEQUENCE",
        }
    }

    /// The full range of an integer type, for MIN and MAX.
    pub fn full_range(self) -> (i128, i128) {
        match self {
            BaseType::Integer => (i128::from(i32::MIN), i128::from(i32::MAX)),
            BaseType::Counter32 | BaseType::Gauge32 | BaseType::TimeTicks => {
                (0, i128::from(u32::MAX))
            }
            BaseType::Counter64 => (0, i128::from(u64::MAX)),
            _ => (0, 65535),
        }
    }

    /// Whether the value is an integer of some kind.
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            BaseType::Integer
                | BaseType::Counter32
                | BaseType::Gauge32
                | BaseType::TimeTicks
                | BaseType::Counter64
        )
    }

    /// Whether the value is a string of octets.
    pub fn is_octets(self) -> bool {
        matches!(
            self,
            BaseType::OctetString | BaseType::Opaque | BaseType::Bits
        )
    }
}

/// A resolved syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syntax {
    /// What it reduces to.
    pub base: BaseType,
    /// The type name as written at the object (`DisplayString`, `Integer32`, `INTEGER`).
    pub name: String,
    /// The named type (textual convention or SMI type) written, and the module defining it.
    pub named: Option<(String, String)>,
    /// The nearest DISPLAY-HINT.
    pub display_hint: Option<String>,
    /// Allowed values (inclusive ranges); empty: the base type's whole range.
    pub ranges: Vec<(i128, i128)>,
    /// Allowed lengths in octets; empty: any.
    pub sizes: Vec<(u64, u64)>,
    /// Enumeration labels (INTEGER) or named bits (BITS).
    pub enums: Vec<(String, i128)>,
    /// For a table, its entry type; for a row, nothing.
    pub entry_type: Option<String>,
}

impl Syntax {
    /// A syntax of a base type with no constraint.
    pub fn base(base: BaseType) -> Syntax {
        Syntax {
            base,
            name: base.smi_name().to_string(),
            named: None,
            display_hint: None,
            ranges: Vec::new(),
            sizes: Vec::new(),
            enums: Vec::new(),
            entry_type: None,
        }
    }

    /// The fixed length, if the sizes allow exactly one (`SIZE (6)`).
    pub fn fixed_size(&self) -> Option<u64> {
        match self.sizes.as_slice() {
            [(a, b)] if a == b => Some(*a),
            _ => None,
        }
    }

    /// Whether the ranges restrict the base type's values at all.
    pub fn has_range(&self) -> bool {
        let (lo, hi) = self.base.full_range();
        !self.ranges.is_empty() && !self.ranges.iter().any(|&(a, b)| a <= lo && b >= hi)
    }
}

impl fmt::Display for Syntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.enums.is_empty() && self.base == BaseType::Integer {
            // Long enumerations (IANAifType has hundreds) are shown by their first labels.
            let mut l: Vec<String> = self
                .enums
                .iter()
                .take(8)
                .map(|(n, v)| format!("{n}({v})"))
                .collect();
            if self.enums.len() > 8 {
                l.push(format!("... {} labels", self.enums.len()));
            }
            write!(f, " {{ {} }}", l.join(", "))?;
        } else if !self.ranges.is_empty() && self.has_range() {
            let l: Vec<String> = self
                .ranges
                .iter()
                .map(|(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}..{b}")
                    }
                })
                .collect();
            write!(f, " ({})", l.join(" | "))?;
        } else if !self.sizes.is_empty() && self.base != BaseType::IpAddress {
            let l: Vec<String> = self
                .sizes
                .iter()
                .map(|(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}..{b}")
                    }
                })
                .collect();
            write!(f, " (SIZE ({}))", l.join(" | "))?;
        }
        Ok(())
    }
}

/// MAX-ACCESS (SMIv2) or ACCESS (SMIv1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// not-accessible.
    NotAccessible,
    /// accessible-for-notify.
    AccessibleForNotify,
    /// read-only.
    ReadOnly,
    /// read-write.
    ReadWrite,
    /// read-create.
    ReadCreate,
    /// write-only (SMIv1).
    WriteOnly,
}

impl Access {
    /// Parses the keyword.
    pub fn from_keyword(s: &str) -> Option<Access> {
        Some(match s {
            "not-accessible" => Access::NotAccessible,
            "accessible-for-notify" => Access::AccessibleForNotify,
            "read-only" => Access::ReadOnly,
            "read-write" => Access::ReadWrite,
            "read-create" => Access::ReadCreate,
            "write-only" => Access::WriteOnly,
            _ => return None,
        })
    }

    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Access::NotAccessible => "not-accessible",
            Access::AccessibleForNotify => "accessible-for-notify",
            Access::ReadOnly => "read-only",
            Access::ReadWrite => "read-write",
            Access::ReadCreate => "read-create",
            Access::WriteOnly => "write-only",
        }
    }

    /// Whether a Get may read it.
    pub fn readable(self) -> bool {
        matches!(
            self,
            Access::ReadOnly | Access::ReadWrite | Access::ReadCreate
        )
    }

    /// Whether a Set may write it.
    pub fn writable(self) -> bool {
        matches!(
            self,
            Access::ReadWrite | Access::ReadCreate | Access::WriteOnly
        )
    }
}

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// `OBJECT IDENTIFIER ::=`.
    ObjectIdentifier,
    /// MODULE-IDENTITY.
    ModuleIdentity,
    /// OBJECT-IDENTITY.
    ObjectIdentity,
    /// An OBJECT-TYPE outside any table.
    Scalar,
    /// An OBJECT-TYPE with SEQUENCE OF syntax.
    Table,
    /// A table's row (INDEX or AUGMENTS).
    Entry,
    /// An OBJECT-TYPE under an entry.
    Column,
    /// NOTIFICATION-TYPE.
    Notification,
    /// TRAP-TYPE (SMIv1): its OID is the SMIv2 form `enterprise.0.n`.
    Trap,
    /// OBJECT-GROUP, NOTIFICATION-GROUP, MODULE-COMPLIANCE, AGENT-CAPABILITIES.
    Conformance,
}

impl NodeKind {
    /// A short word for listings.
    pub fn word(self) -> &'static str {
        match self {
            NodeKind::ObjectIdentifier => "node",
            NodeKind::ModuleIdentity => "module",
            NodeKind::ObjectIdentity => "identity",
            NodeKind::Scalar => "scalar",
            NodeKind::Table => "table",
            NodeKind::Entry => "row",
            NodeKind::Column => "column",
            NodeKind::Notification => "notification",
            NodeKind::Trap => "trap",
            NodeKind::Conformance => "group",
        }
    }
}

/// One INDEX component of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPart {
    /// The index object.
    pub name: String,
    /// The module defining it.
    pub module: String,
    /// Its syntax (which decides the encoding).
    pub syntax: Syntax,
    /// IMPLIED: no length prefix (last part only).
    pub implied: bool,
}

/// One node of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its descriptor.
    pub name: String,
    /// Its OID.
    pub oid: Vec<u32>,
    /// What it is.
    pub kind: NodeKind,
    /// Where it is defined.
    pub pos: Pos,
    /// SYNTAX, for OBJECT-TYPEs.
    pub syntax: Option<Syntax>,
    /// MAX-ACCESS.
    pub access: Option<Access>,
    /// STATUS.
    pub status: Option<String>,
    /// UNITS.
    pub units: Option<String>,
    /// DESCRIPTION.
    pub description: Option<String>,
    /// DEFVAL.
    pub defval: Option<DefVal>,
    /// For a row: its index (the augmented row's, for AUGMENTS).
    pub index: Vec<IndexPart>,
    /// For a row: the row it AUGMENTS.
    pub augments: Option<String>,
    /// For notifications and traps: OBJECTS / VARIABLES, with their OIDs.
    pub objects: Vec<(String, Vec<u32>)>,
}

/// A compiled module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledModule {
    /// The module's name.
    pub name: String,
    /// The file it came from.
    pub file: PathBuf,
    /// Its nodes, in the order written.
    pub nodes: Vec<Node>,
}

impl CompiledModule {
    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The columns of a row, by OID.
    pub fn columns(&self, entry: &Node) -> Vec<&Node> {
        let mut cols: Vec<&Node> = self
            .nodes
            .iter()
            .filter(|n| {
                n.kind == NodeKind::Column
                    && n.oid.len() == entry.oid.len() + 1
                    && n.oid.starts_with(&entry.oid)
            })
            .collect();
        cols.sort_by(|a, b| a.oid.cmp(&b.oid));
        cols
    }

    /// The OID as dotted text.
    pub fn dotted(oid: &[u32]) -> String {
        oid.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
    }
}
