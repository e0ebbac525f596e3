//! Rows: per conceptual row an index struct (RFC 2578 7.7 encoding and its exact inverse), a
//! row struct with a field per accessible column, and a read-only table handler.

use super::{doc_text, is_object, rust_type, to_value, Out};
use crate::model::{Access, BaseType, IndexPart, Node, NodeKind};
use crate::names::{camel, screaming, snake};

pub(super) fn emit(o: &mut Out<'_>) {
    let m = o.m;
    let rows: Vec<&Node> = m
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Entry)
        .collect();
    if rows.is_empty() {
        return;
    }
    helpers(o);
    for row in rows {
        // A row whose index cannot be typed (an index of an unusable type) gets no structs.
        if row
            .index
            .iter()
            .any(|p| rust_type(o, &p.name, &p.syntax).is_none())
        {
            continue;
        }
        index_struct(o, row);
        row_struct(o, row);
    }
}

fn helpers(o: &mut Out<'_>) {
    o.line("/// Rows as the agent core's table helpers take them.");
    o.line("#[allow(dead_code)]");
    o.line("fn mibc_table_rows(rows: impl ::std::iter::Iterator<Item = ::snmp::registry::Row>) -> ::snmp::registry::TableRows {");
    o.line("    let mut m = ::snmp::registry::TableRows::new();");
    o.line("    for (index, cells) in rows {");
    o.line("        m.entry(index).or_default().extend(cells);");
    o.line("    }");
    o.line("    m");
    o.line("}");
    o.line("");
    o.line("/// Index decoding: the next `n` arcs, advancing `at`.");
    o.line("#[allow(dead_code)]");
    o.line("fn mibc_take<'a>(arcs: &'a [u32], at: &mut usize, n: usize) -> ::std::option::Option<&'a [u32]> {");
    o.line("    let end = at.checked_add(n)?;");
    o.line("    let part = arcs.get(*at..end)?;");
    o.line("    *at = end;");
    o.line("    ::std::option::Option::Some(part)");
    o.line("}");
    o.line("");
    o.line("/// Index decoding: arcs that must each be an octet.");
    o.line("#[allow(dead_code)]");
    o.line("fn mibc_octets(arcs: &[u32]) -> ::std::option::Option<::std::vec::Vec<u8>> {");
    o.line("    arcs.iter().map(|&a| u8::try_from(a).ok()).collect()");
    o.line("}");
    o.line("");
    o.line("/// Index decoding: a length arc, then that many arcs.");
    o.line("#[allow(dead_code)]");
    o.line("fn mibc_counted<'a>(arcs: &'a [u32], at: &mut usize) -> ::std::option::Option<&'a [u32]> {");
    o.line("    let n = usize::try_from(*mibc_take(arcs, at, 1)?.first()?).ok()?;");
    o.line("    mibc_take(arcs, at, n)");
    o.line("}");
    o.line("");
}

/// Whether an index part is SMIv1's NetworkAddress, encoded with a leading `1` (internet).
fn network_address(p: &IndexPart) -> bool {
    p.syntax
        .named
        .as_ref()
        .is_some_and(|(_, n)| n == "NetworkAddress")
}

/// Statements appending part `p` (field `f` of `self`) to `a`.
fn encode_part(o: &Out<'_>, p: &IndexPart, f: &str) -> Vec<String> {
    let enum_typed = o.enum_of.contains_key(&p.name);
    let s = &p.syntax;
    match s.base {
        // Index values are never negative (RFC 2578 7.7); the cast keeps the bits.
        BaseType::Integer if enum_typed => vec![format!("a.extend([self.{f}.to_i32() as u32]);")],
        BaseType::Integer => vec![format!("a.extend([self.{f} as u32]);")],
        BaseType::Counter32 | BaseType::Gauge32 | BaseType::TimeTicks => {
            vec![format!("a.extend([self.{f}]);")]
        }
        BaseType::IpAddress if network_address(p) => vec![
            "a.extend([1]);".into(),
            format!("a.extend(self.{f}.iter().map(|&b| u32::from(b)));"),
        ],
        BaseType::IpAddress => vec![format!("a.extend(self.{f}.iter().map(|&b| u32::from(b)));")],
        BaseType::ObjectIdentifier if p.implied => {
            vec![format!("a.extend_from_slice(self.{f}.arcs());")]
        }
        BaseType::ObjectIdentifier => vec![
            format!("a.extend([self.{f}.len() as u32]);"),
            format!("a.extend_from_slice(self.{f}.arcs());"),
        ],
        _ if p.implied || s.fixed_size().is_some() => {
            vec![format!("a.extend(self.{f}.iter().map(|&b| u32::from(b)));")]
        }
        _ => vec![
            format!("a.extend([self.{f}.len() as u32]);"),
            format!("a.extend(self.{f}.iter().map(|&b| u32::from(b)));"),
        ],
    }
}

/// Statements decoding part `p` into a local `f`, returning `None` on malformed input.
fn decode_part(o: &Out<'_>, p: &IndexPart, f: &str) -> Vec<String> {
    let s = &p.syntax;
    let one = "*mibc_take(arcs, &mut at, 1)?.first()?";
    let mut v = match s.base {
        BaseType::Integer => match o.enum_of.get(&p.name) {
            Some(e) => vec![format!(
                "let {f} = {e}::from_i32(i32::try_from({one}).ok()?)?;"
            )],
            None => vec![format!("let {f} = i32::try_from({one}).ok()?;")],
        },
        BaseType::Counter32 | BaseType::Gauge32 | BaseType::TimeTicks => {
            vec![format!("let {f} = {one};")]
        }
        BaseType::IpAddress => {
            let mut v = Vec::new();
            if network_address(p) {
                v.push(format!(
                    "if {one} != 1 {{ return ::std::option::Option::None; }}"
                ));
            }
            v.push(format!(
                "let {f}: [u8; 4] = mibc_octets(mibc_take(arcs, &mut at, 4)?)?.try_into().ok()?;"
            ));
            v
        }
        BaseType::ObjectIdentifier if p.implied => vec![
            "let rest = arcs.len().saturating_sub(at);".into(),
            format!("let {f} = ::snmp::Oid::new(mibc_take(arcs, &mut at, rest)?);"),
        ],
        BaseType::ObjectIdentifier => {
            vec![format!(
                "let {f} = ::snmp::Oid::new(mibc_counted(arcs, &mut at)?);"
            )]
        }
        _ if p.implied => vec![
            "let rest = arcs.len().saturating_sub(at);".into(),
            format!("let {f} = mibc_octets(mibc_take(arcs, &mut at, rest)?)?;"),
        ],
        _ => match s.fixed_size() {
            Some(n) => vec![format!(
                "let {f} = mibc_octets(mibc_take(arcs, &mut at, {n})?)?;"
            )],
            None => vec![format!(
                "let {f} = mibc_octets(mibc_counted(arcs, &mut at)?)?;"
            )],
        },
    };
    // Values outside the object's syntax are not instances of it.
    if s.base.is_integer() && !o.enum_of.contains_key(&p.name) && s.has_range() {
        let conds: Vec<String> = s
            .ranges
            .iter()
            .map(|(a, b)| format!("({a}..={b}).contains(&i128::from({f}))"))
            .collect();
        v.push(format!(
            "if !({}) {{ return ::std::option::Option::None; }}",
            conds.join(" || ")
        ));
    }
    if matches!(
        s.base,
        BaseType::OctetString | BaseType::Opaque | BaseType::Bits
    ) && !s.sizes.is_empty()
        && s.fixed_size().is_none()
    {
        let conds: Vec<String> = s
            .sizes
            .iter()
            .map(|(a, b)| format!("({a}..={b}).contains(&({f}.len() as u64))"))
            .collect();
        v.push(format!(
            "if !({}) {{ return ::std::option::Option::None; }}",
            conds.join(" || ")
        ));
    }
    v
}

fn index_struct(o: &mut Out<'_>, row: &Node) {
    let name = format!("{}Index", camel(&row.name));
    // A row that AUGMENTS a row of this module shares its index type.
    if let Some(base) = row.augments.as_ref().and_then(|a| o.m.node(a)) {
        if base.kind == NodeKind::Entry {
            o.line(&format!(
                "/// The index of a `{}` row: that of `{}`, which it AUGMENTS.",
                row.name, base.name
            ));
            o.line(&format!("pub type {name} = {}Index;", camel(&base.name)));
            o.line("");
            return;
        }
    }
    let parts: Vec<String> = row
        .index
        .iter()
        .map(|p| {
            if p.implied {
                format!("IMPLIED {}", p.name)
            } else {
                p.name.clone()
            }
        })
        .collect();
    o.line(&format!(
        "/// The index of a `{}` row: {}.",
        row.name,
        parts.join(", ")
    ));
    let derives = if row
        .index
        .iter()
        .any(|p| p.syntax.base == BaseType::ObjectIdentifier)
    {
        "Debug, Clone, PartialEq, Eq, Hash"
    } else {
        "Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash"
    };
    o.line(&format!("#[derive({derives})]"));
    o.line(&format!("pub struct {name} {{"));
    for p in &row.index {
        let t = rust_type(o, &p.name, &p.syntax).unwrap_or_default();
        o.line(&format!(
            "    /// `{}` ({}).",
            p.name,
            doc_text(&p.syntax.to_string())
        ));
        o.line(&format!("    pub {}: {t},", snake(&p.name)));
    }
    o.line("}");
    o.line("");
    o.line(&format!("impl {name} {{"));
    o.line("    /// The instance suffix (RFC 2578 section 7.7).");
    o.line("    pub fn to_arcs(&self) -> ::std::vec::Vec<u32> {");
    o.line("        let mut a = ::std::vec::Vec::new();");
    for p in &row.index {
        for s in encode_part(o, p, &snake(&p.name)) {
            o.line(&format!("        {s}"));
        }
    }
    o.line("        a");
    o.line("    }");
    o.line("");
    o.line("    /// The instance suffix as an OID.");
    o.line("    pub fn to_oid(&self) -> ::snmp::Oid {");
    o.line("        ::snmp::Oid::new(&self.to_arcs())");
    o.line("    }");
    o.line("");
    o.line(
        "    /// Decodes an instance suffix: `None` unless the arcs are exactly one well-formed",
    );
    o.line("    /// index whose values the index objects' syntaxes allow.");
    o.line("    pub fn from_arcs(arcs: &[u32]) -> ::std::option::Option<Self> {");
    o.line("        let mut at = 0usize;");
    for p in &row.index {
        for s in decode_part(o, p, &snake(&p.name)) {
            o.line(&format!("        {s}"));
        }
    }
    o.line("        if at != arcs.len() {");
    o.line("            return ::std::option::Option::None;");
    o.line("        }");
    let fields: Vec<String> = row.index.iter().map(|p| snake(&p.name)).collect();
    o.line(&format!(
        "        ::std::option::Option::Some(Self {{ {} }})",
        fields.join(", ")
    ));
    o.line("    }");
    o.line("}");
    o.line("");
}

fn row_struct(o: &mut Out<'_>, row: &Node) {
    let m = o.m;
    let ty = camel(&row.name);
    let cols = m.columns(row);
    let is_index = |c: &Node| row.index.iter().any(|p| p.name == c.name);
    let fields: Vec<&Node> = cols
        .iter()
        .copied()
        .filter(|c| {
            !is_index(c)
                && is_object(c)
                && c.access
                    .is_some_and(|a| a != Access::NotAccessible && a != Access::AccessibleForNotify)
        })
        .collect();
    o.line(&format!(
        "/// A `{}` row: its index and a field per accessible column.",
        row.name
    ));
    o.line("#[derive(Debug, Clone, PartialEq, Eq)]");
    o.line(&format!("pub struct {ty} {{"));
    o.line("    /// The row's index.");
    o.line(&format!("    pub index: {ty}Index,"));
    for c in &fields {
        let Some(s) = &c.syntax else { continue };
        let Some(t) = rust_type(o, &c.name, s) else {
            continue;
        };
        o.line(&format!(
            "    /// `{}` ({}), {}.",
            c.name,
            doc_text(&s.to_string()),
            c.access.map_or("", Access::keyword)
        ));
        o.line(&format!("    pub {}: {t},", snake(&c.name)));
    }
    o.line("}");
    o.line("");
    o.line(&format!("impl {ty} {{"));
    o.line(
        "    /// The row as the agent core's table helper takes it: index and readable columns.",
    );
    o.line("    pub fn to_row(&self) -> ::snmp::registry::Row {");
    o.line("        let cells = ::std::vec![");
    for c in &cols {
        let Some(s) = c.syntax.as_ref().filter(|_| is_object(c)) else {
            continue;
        };
        if !c.access.is_some_and(Access::readable) {
            continue;
        }
        let col = c.oid.last().copied().unwrap_or_default();
        let expr = if is_index(c) {
            format!("self.index.{}", snake(&c.name))
        } else if fields.iter().any(|f| f.name == c.name) {
            format!("self.{}", snake(&c.name))
        } else {
            continue;
        };
        o.line(&format!(
            "            ({col}, {}),",
            to_value(o, &c.name, s, &expr)
        ));
    }
    o.line("        ];");
    o.line("        (self.index.to_oid(), cells)");
    o.line("    }");
    o.line("}");
    o.line("");
    let table = m.nodes.iter().find(|t| {
        t.kind == NodeKind::Table
            && row
                .oid
                .split_last()
                .is_some_and(|(_, p)| p == t.oid.as_slice())
    });
    let handler = match table {
        Some(t) => snake(&t.name),
        None => snake(&row.name),
    };
    let reg = table.map_or_else(|| screaming(&row.name), |t| screaming(&t.name));
    o.line(&format!(
        "/// A read-only handler serving `{}` rows from `rows`, called at most once per `ttl`;",
        row.name
    ));
    o.line(&format!(
        "/// register it at `{reg}`: `registry.register(::snmp::Oid::new({reg}), ::std::boxed::Box::new(handler))`."
    ));
    o.line(&format!(
        "pub fn {handler}_handler<F>(ttl: ::std::time::Duration, mut rows: F) -> impl ::snmp::Handler + 'static"
    ));
    o.line("where");
    o.line(&format!(
        "    F: FnMut(&::snmp::registry::Ctx) -> ::std::vec::Vec<{ty}> + Send + 'static,"
    ));
    o.line("{");
    o.line(&format!(
        "    ::snmp::registry::Table::new(::snmp::Oid::new({}), ttl, move |cx: &::snmp::registry::Ctx| {{",
        screaming(&row.name)
    ));
    o.line(&format!(
        "        rows(cx).iter().map({ty}::to_row).collect::<::std::vec::Vec<_>>()"
    ));
    o.line("    })");
    o.line("}");
    o.line("");
    super::writes::row(o, row, &fields, &handler, &reg);
}
