//! Set support: per scalar group and per row with writable objects, an enum of the typed
//! writes (`from_varbind` decodes a varbind and applies the value checks; `current` reads the
//! value it would replace), and a read-write handler that runs RFC 3416's test / commit /
//! undo / cleanup over a getter and a setter closure.

use super::{rust_type, Out};
use crate::model::{Access, BaseType, Node, Syntax};
use crate::names::{camel, screaming, snake};

/// Writable objects among `objects` (those with a Rust type).
pub(super) fn writable<'n>(o: &Out<'_>, objects: &[&'n Node]) -> Vec<&'n Node> {
    objects
        .iter()
        .copied()
        .filter(|n| {
            n.access.is_some_and(Access::writable)
                && n.syntax
                    .as_ref()
                    .is_some_and(|s| rust_type(o, &n.name, s).is_some())
        })
        .collect()
}

/// `.clone()` for types that are not `Copy` (strings and OIDs), nothing for the others.
fn clone_of(o: &Out<'_>, n: &Node) -> &'static str {
    let t = n
        .syntax
        .as_ref()
        .and_then(|s| rust_type(o, &n.name, s))
        .unwrap_or_default();
    if t.contains("Vec") || t.contains("Oid") {
        ".clone()"
    } else {
        ""
    }
}

/// Statements turning `vb.value` (already checked) into `Ok(<ctor>(typed))`.
fn from_value(o: &Out<'_>, object: &str, s: &Syntax, ctor: &str) -> String {
    let wrong = "::std::result::Result::Err(::snmp::ErrorStatus::WrongType)";
    let (pat, expr) = match (o.enum_of.get(object), s.base) {
        (Some(e), _) => (
            "::snmp::Value::Integer(x)".to_string(),
            format!("{e}::from_i32(*x).ok_or(::snmp::ErrorStatus::WrongValue)?"),
        ),
        (None, BaseType::Integer) => ("::snmp::Value::Integer(x)".into(), "*x".into()),
        (None, BaseType::Counter32) => ("::snmp::Value::Counter32(x)".into(), "*x".into()),
        (None, BaseType::Gauge32) => ("::snmp::Value::Gauge32(x)".into(), "*x".into()),
        (None, BaseType::TimeTicks) => ("::snmp::Value::TimeTicks(x)".into(), "*x".into()),
        (None, BaseType::Counter64) => ("::snmp::Value::Counter64(x)".into(), "*x".into()),
        (None, BaseType::OctetString | BaseType::Bits) => {
            ("::snmp::Value::OctetString(x)".into(), "x.clone()".into())
        }
        (None, BaseType::Opaque) => ("::snmp::Value::Opaque(x)".into(), "x.clone()".into()),
        (None, BaseType::ObjectIdentifier) => {
            ("::snmp::Value::ObjectId(x)".into(), "x.clone()".into())
        }
        (None, BaseType::IpAddress) => ("::snmp::Value::IpAddress(x)".into(), "*x".into()),
        (None, _) => return wrong.to_string(),
    };
    format!(
        "match &vb.value {{\n                    {pat} => ::std::result::Result::Ok({ctor}({expr})),\n                    _ => {wrong},\n                }}"
    )
}

fn write_enum(o: &mut Out<'_>, ty: &str, what: &str, objects: &[&Node]) {
    o.line(&format!(
        "/// A Set of one writable object of {what}, decoded and checked."
    ));
    o.line("#[derive(Debug, Clone, PartialEq, Eq)]");
    o.line(&format!("pub enum {ty} {{"));
    for n in objects {
        let Some(s) = &n.syntax else { continue };
        let t = rust_type(o, &n.name, s).unwrap_or_default();
        o.line(&format!("    /// `{}`", n.name));
        o.line(&format!("    {}({t}),", camel(&n.name)));
    }
    o.line("}");
    o.line("");
}

/// The write enum and read-write handler of a scalar group.
pub(super) fn scalar_group(o: &mut Out<'_>, parent: &Node, scalars: &[&Node]) {
    let objects = writable(o, scalars);
    if objects.is_empty() {
        return;
    }
    let group = format!("{}Scalars", camel(&parent.name));
    let ty = format!("{}Write", camel(&parent.name));
    write_enum(o, &ty, &format!("`{}`", parent.name), &objects);
    o.line(&format!("impl {ty} {{"));
    o.line("    /// Decodes a Set's varbind: notWritable for an object that is not one of these,");
    o.line("    /// noCreation for an instance other than `.0`, else the value checks' answer.");
    o.line("    pub fn from_varbind(vb: &::snmp::VarBind) -> ::std::result::Result<Self, ::snmp::ErrorStatus> {");
    o.line("        let arcs = vb.oid.arcs();");
    for n in &objects {
        let Some(s) = &n.syntax else { continue };
        o.line(&format!(
            "        if let ::std::option::Option::Some(rest) = arcs.strip_prefix({}) {{",
            screaming(&n.name)
        ));
        o.line("            if rest != [0] {");
        o.line(
            "                return ::std::result::Result::Err(::snmp::ErrorStatus::NoCreation);",
        );
        o.line("            }");
        o.line(&format!(
            "            check_{}(&vb.value)?;",
            snake(&n.name)
        ));
        o.line(&format!(
            "            return {};",
            from_value(o, &n.name, s, &format!("Self::{}", camel(&n.name)))
        ));
        o.line("        }");
    }
    o.line("        ::std::result::Result::Err(::snmp::ErrorStatus::NotWritable)");
    o.line("    }");
    o.line("");
    o.line("    /// The value this write would replace, read from the group (for undo).");
    o.line(&format!(
        "    pub fn current(&self, now: &{group}) -> Self {{"
    ));
    o.line("        match self {");
    for n in &objects {
        o.line(&format!(
            "            Self::{}(_) => Self::{}(now.{}{}),",
            camel(&n.name),
            camel(&n.name),
            snake(&n.name),
            clone_of(o, n)
        ));
    }
    o.line("        }");
    o.line("    }");
    o.line("}");
    o.line("");
    let handler = format!("{group}Handler");
    o.line(&format!(
        "/// A read-write handler for the scalars under `{}`: `get` reads the group at every",
        parent.name
    ));
    o.line("/// request, `set` applies one checked write (and, to undo, the value it replaced).");
    o.line(&format!("pub struct {handler}<G, S> {{"));
    o.line("    get: G,");
    o.line("    set: S,");
    o.line(&format!("    undo: ::std::vec::Vec<(::snmp::Oid, {ty})>,"));
    o.line("}");
    o.line("");
    o.line(&format!(
        "/// Builds a [`{handler}`]; register it at `{}`.",
        screaming(&parent.name)
    ));
    o.line(&format!(
        "pub fn {}_scalars_handler_rw<G, S>(get: G, set: S) -> {handler}<G, S>",
        snake(&parent.name)
    ));
    o.line("where");
    o.line(&format!(
        "    G: FnMut(&::snmp::registry::Ctx) -> {group} + Send,"
    ));
    o.line(&format!(
        "    S: FnMut(&::snmp::registry::Ctx, {ty}) -> ::std::result::Result<(), ::snmp::ErrorStatus> + Send,"
    ));
    o.line("{");
    o.line(&format!(
        "    {handler} {{ get, set, undo: ::std::vec::Vec::new() }}"
    ));
    o.line("}");
    o.line("");
    o.line(&format!("impl<G, S> ::snmp::Handler for {handler}<G, S>"));
    o.line("where");
    o.line(&format!(
        "    G: FnMut(&::snmp::registry::Ctx) -> {group} + Send,"
    ));
    o.line(&format!(
        "    S: FnMut(&::snmp::registry::Ctx, {ty}) -> ::std::result::Result<(), ::snmp::ErrorStatus> + Send,"
    ));
    o.line("{");
    o.line(
        "    fn get(&mut self, oid: &::snmp::Oid, cx: &::snmp::registry::Ctx) -> ::snmp::Value {",
    );
    o.line("        mibc_scalars_data((self.get)(cx).to_varbinds()).get(oid)");
    o.line("    }");
    o.line("");
    o.line("    fn next(&mut self, after: &::snmp::Oid, cx: &::snmp::registry::Ctx) -> ::std::option::Option<::snmp::VarBind> {");
    o.line("        mibc_scalars_data((self.get)(cx).to_varbinds()).next(after)");
    o.line("    }");
    test_commit_undo(o, &ty, "", "w", "(self.get)(cx)", "w.current(&now)");
    o.line("}");
    o.line("");
}

/// The Handler's Set methods, shared by scalars and rows: `decode` binds `$w` (and for rows the
/// index), `now` is read with `read`, the old value is `old`.
fn test_commit_undo(o: &mut Out<'_>, ty: &str, row_check: &str, w: &str, read: &str, old: &str) {
    let (decode, setter) = if row_check.is_empty() {
        (
            format!("let {w} = {ty}::from_varbind(vb)?;"),
            format!("(self.set)(cx, {w})"),
        )
    } else {
        (
            format!("let (index, {w}) = {ty}::from_varbind(vb)?;"),
            format!("(self.set)(cx, &index, {w})"),
        )
    };
    o.line("");
    o.line("    fn test_set(&mut self, vb: &::snmp::VarBind, cx: &::snmp::registry::Ctx) -> ::std::result::Result<(), ::snmp::ErrorStatus> {");
    o.line(&format!("        {decode}"));
    if row_check.is_empty() {
        o.line(&format!("        let _ = ({w}, cx);"));
    } else {
        o.line(&format!("        let _ = {w};"));
        o.line(&format!("        let now = {read};"));
        o.line(&format!("        {row_check}"));
        o.line("        let _ = row;");
    }
    o.line("        ::std::result::Result::Ok(())");
    o.line("    }");
    o.line("");
    o.line("    fn commit_set(&mut self, vb: &::snmp::VarBind, cx: &::snmp::registry::Ctx) -> ::std::result::Result<(), ::snmp::ErrorStatus> {");
    o.line(&format!("        {decode}"));
    o.line(&format!("        let now = {read};"));
    if !row_check.is_empty() {
        o.line(&format!("        {row_check}"));
    }
    o.line(&format!("        let old = {old};"));
    o.line(&format!("        {setter}?;"));
    if row_check.is_empty() {
        o.line("        self.undo.push((vb.oid.clone(), old));");
    } else {
        o.line("        self.undo.push((vb.oid.clone(), index, old));");
    }
    o.line("        ::std::result::Result::Ok(())");
    o.line("    }");
    o.line("");
    o.line("    fn undo_set(&mut self, vb: &::snmp::VarBind, cx: &::snmp::registry::Ctx) -> ::std::result::Result<(), ::snmp::ErrorStatus> {");
    o.line("        match self.undo.iter().rposition(|u| u.0 == vb.oid) {");
    if row_check.is_empty() {
        o.line("            ::std::option::Option::Some(i) => {");
        o.line("                let (_, old) = self.undo.remove(i);");
        o.line("                (self.set)(cx, old)");
        o.line("            }");
    } else {
        o.line("            ::std::option::Option::Some(i) => {");
        o.line("                let (_, index, old) = self.undo.remove(i);");
        o.line("                (self.set)(cx, &index, old)");
        o.line("            }");
    }
    o.line("            ::std::option::Option::None => ::std::result::Result::Ok(()),");
    o.line("        }");
    o.line("    }");
    o.line("");
    o.line("    fn cleanup_set(&mut self, vb: &::snmp::VarBind, _cx: &::snmp::registry::Ctx) {");
    o.line("        self.undo.retain(|u| u.0 != vb.oid);");
    o.line("    }");
}

/// The write enum and read-write handler of a row.
pub(super) fn row(o: &mut Out<'_>, row: &Node, fields: &[&Node], handler_base: &str, reg: &str) {
    let objects = writable(o, fields);
    if objects.is_empty() {
        return;
    }
    let entry = camel(&row.name);
    let ty = format!("{entry}Write");
    let index = format!("{entry}Index");
    write_enum(o, &ty, &format!("a `{}` row", row.name), &objects);
    o.line(&format!("impl {ty} {{"));
    o.line("    /// Decodes a Set's varbind into the row's index and the column's new value:");
    o.line("    /// notWritable for a column that is not writable, noCreation for a malformed");
    o.line("    /// index, else the value checks' answer.");
    o.line(&format!(
        "    pub fn from_varbind(vb: &::snmp::VarBind) -> ::std::result::Result<({index}, Self), ::snmp::ErrorStatus> {{"
    ));
    o.line(&format!(
        "        let ::std::option::Option::Some((column, rest)) = vb.oid.arcs().strip_prefix({}).and_then(|r| r.split_first()) else {{",
        screaming(&row.name)
    ));
    o.line("            return ::std::result::Result::Err(::snmp::ErrorStatus::NotWritable);");
    o.line("        };");
    o.line("        let value = match column {");
    for n in &objects {
        let Some(s) = &n.syntax else { continue };
        let col = n.oid.last().copied().unwrap_or_default();
        o.line(&format!("            {col} => {{"));
        o.line(&format!(
            "                check_{}(&vb.value)?;",
            snake(&n.name)
        ));
        o.line(&format!(
            "                {}?",
            from_value(o, &n.name, s, &format!("Self::{}", camel(&n.name)))
        ));
        o.line("            }");
    }
    o.line("            _ => return ::std::result::Result::Err(::snmp::ErrorStatus::NotWritable),");
    o.line("        };");
    o.line(&format!(
        "        let index = {index}::from_arcs(rest).ok_or(::snmp::ErrorStatus::NoCreation)?;"
    ));
    o.line("        ::std::result::Result::Ok((index, value))");
    o.line("    }");
    o.line("");
    o.line("    /// The value this write would replace in `row` (for undo).");
    o.line(&format!(
        "    pub fn current(&self, row: &{entry}) -> Self {{"
    ));
    o.line("        match self {");
    for n in &objects {
        o.line(&format!(
            "            Self::{}(_) => Self::{}(row.{}{}),",
            camel(&n.name),
            camel(&n.name),
            snake(&n.name),
            clone_of(o, n)
        ));
    }
    o.line("        }");
    o.line("    }");
    o.line("}");
    o.line("");
    let handler = format!("{}Handler", camel(handler_base));
    let status = row_status(o, &objects);
    o.line(&format!(
        "/// A read-write handler for `{}` rows: `rows` is read at every request, `set` applies",
        row.name
    ));
    o.line("/// one checked write to a row (and, to undo, the value it replaced).");
    match &status {
        Some((col, _)) => {
            o.line(&format!(
                "/// Rows are created through `{col}` (RowStatus): createAndGo or createAndWait for a"
            ));
            o.line("/// missing row reaches `set`, which creates it (undone with destroy); other columns of");
            o.line("/// that row may follow in the same request. Any other write to a missing row answers");
            o.line(
                "/// noCreation, createAndGo/createAndWait for an existing row inconsistentValue.",
            );
        }
        None => {
            o.line("/// Rows are not created by Set: a write to a missing row answers noCreation.")
        }
    }
    o.line(&format!("pub struct {handler}<G, S> {{"));
    o.line("    rows: G,");
    o.line("    set: S,");
    o.line(&format!(
        "    undo: ::std::vec::Vec<(::snmp::Oid, {index}, {ty})>,"
    ));
    if status.is_some() {
        o.line(
            "    /// Rows whose creation this request has asked for (tested, not yet cleaned up).",
        );
        o.line(&format!("    creating: ::std::vec::Vec<{index}>,"));
    }
    o.line("}");
    o.line("");
    o.line(&format!(
        "/// Builds a [`{handler}`]; register it at `{reg}`."
    ));
    o.line(&format!(
        "pub fn {}_handler_rw<G, S>(rows: G, set: S) -> {handler}<G, S>",
        snake(handler_base)
    ));
    o.line("where");
    o.line(&format!(
        "    G: FnMut(&::snmp::registry::Ctx) -> ::std::vec::Vec<{entry}> + Send,"
    ));
    o.line(&format!(
        "    S: FnMut(&::snmp::registry::Ctx, &{index}, {ty}) -> ::std::result::Result<(), ::snmp::ErrorStatus> + Send,"
    ));
    o.line("{");
    if status.is_some() {
        o.line(&format!(
            "    {handler} {{ rows, set, undo: ::std::vec::Vec::new(), creating: ::std::vec::Vec::new() }}"
        ));
    } else {
        o.line(&format!(
            "    {handler} {{ rows, set, undo: ::std::vec::Vec::new() }}"
        ));
    }
    o.line("}");
    o.line("");
    o.line(&format!("impl<G, S> ::snmp::Handler for {handler}<G, S>"));
    o.line("where");
    o.line(&format!(
        "    G: FnMut(&::snmp::registry::Ctx) -> ::std::vec::Vec<{entry}> + Send,"
    ));
    o.line(&format!(
        "    S: FnMut(&::snmp::registry::Ctx, &{index}, {ty}) -> ::std::result::Result<(), ::snmp::ErrorStatus> + Send,"
    ));
    o.line("{");
    o.line(
        "    fn get(&mut self, oid: &::snmp::Oid, cx: &::snmp::registry::Ctx) -> ::snmp::Value {",
    );
    o.line(&format!(
        "        ::snmp::registry::table_get(&::snmp::Oid::new({}), &mibc_table_rows((self.rows)(cx).iter().map({entry}::to_row)), oid)",
        screaming(&row.name)
    ));
    o.line("    }");
    o.line("");
    o.line("    fn next(&mut self, after: &::snmp::Oid, cx: &::snmp::registry::Ctx) -> ::std::option::Option<::snmp::VarBind> {");
    o.line(&format!(
        "        ::snmp::registry::table_next(&::snmp::Oid::new({}), &mibc_table_rows((self.rows)(cx).iter().map({entry}::to_row)), after)",
        screaming(&row.name)
    ));
    o.line("    }");
    match &status {
        Some((col, rs)) => creatable_set_methods(o, &ty, &camel(col), rs),
        None => {
            let check = "let ::std::option::Option::Some(row) = now.iter().find(|r| r.index == index) else { return ::std::result::Result::Err(::snmp::ErrorStatus::NoCreation); };";
            test_commit_undo(o, &ty, check, "w", "(self.rows)(cx)", "w.current(row)");
        }
    }
    o.line("}");
    o.line("");
}

/// The writable RowStatus column of a row (read-create, SNMPv2-TC's RowStatus with its
/// labels), and the Rust enum its values take.
fn row_status(o: &Out<'_>, objects: &[&Node]) -> Option<(String, String)> {
    objects.iter().find_map(|n| {
        let s = n.syntax.as_ref()?;
        let named = s.named.as_ref().is_some_and(|(_, t)| t == "RowStatus");
        let labels = ["createAndGo", "createAndWait", "destroy"]
            .iter()
            .all(|l| s.enums.iter().any(|(x, _)| x == l));
        if named && labels && n.access == Some(Access::ReadCreate) {
            Some((n.name.clone(), o.enum_of.get(&n.name)?.clone()))
        } else {
            None
        }
    })
}

/// The Set methods of a row with a RowStatus column: creation, then writes as for any row.
fn creatable_set_methods(o: &mut Out<'_>, ty: &str, status: &str, rs: &str) {
    let create = format!("{ty}::{status}({rs}::CreateAndGo | {rs}::CreateAndWait)");
    o.line("");
    o.line("    fn test_set(&mut self, vb: &::snmp::VarBind, cx: &::snmp::registry::Ctx) -> ::std::result::Result<(), ::snmp::ErrorStatus> {");
    o.line(&format!(
        "        let (index, w) = {ty}::from_varbind(vb)?;"
    ));
    o.line("        let exists = (self.rows)(cx).iter().any(|r| r.index == index);");
    o.line("        match (exists, w) {");
    o.line(&format!(
        "            (true, {create}) => ::std::result::Result::Err(::snmp::ErrorStatus::InconsistentValue),"
    ));
    o.line("            (true, _) => ::std::result::Result::Ok(()),");
    o.line(&format!("            (false, {create}) => {{"));
    o.line("                self.creating.push(index);");
    o.line("                ::std::result::Result::Ok(())");
    o.line("            }");
    o.line("            (false, _) if self.creating.contains(&index) => ::std::result::Result::Ok(()),");
    o.line(
        "            (false, _) => ::std::result::Result::Err(::snmp::ErrorStatus::NoCreation),",
    );
    o.line("        }");
    o.line("    }");
    o.line("");
    o.line("    fn commit_set(&mut self, vb: &::snmp::VarBind, cx: &::snmp::registry::Ctx) -> ::std::result::Result<(), ::snmp::ErrorStatus> {");
    o.line(&format!(
        "        let (index, w) = {ty}::from_varbind(vb)?;"
    ));
    o.line("        let now = (self.rows)(cx);");
    o.line("        let old = match now.iter().find(|r| r.index == index) {");
    o.line("            ::std::option::Option::Some(row) => w.current(row),");
    o.line(&format!(
        "            ::std::option::Option::None if matches!(w, {create}) => {ty}::{status}({rs}::Destroy),"
    ));
    o.line("            // The creation earlier in this request did not make the row.");
    o.line("            ::std::option::Option::None => return ::std::result::Result::Err(::snmp::ErrorStatus::CommitFailed),");
    o.line("        };");
    o.line("        (self.set)(cx, &index, w)?;");
    o.line("        self.undo.push((vb.oid.clone(), index, old));");
    o.line("        ::std::result::Result::Ok(())");
    o.line("    }");
    o.line("");
    o.line("    fn undo_set(&mut self, vb: &::snmp::VarBind, cx: &::snmp::registry::Ctx) -> ::std::result::Result<(), ::snmp::ErrorStatus> {");
    o.line("        match self.undo.iter().rposition(|u| u.0 == vb.oid) {");
    o.line("            ::std::option::Option::Some(i) => {");
    o.line("                let (_, index, old) = self.undo.remove(i);");
    o.line("                (self.set)(cx, &index, old)");
    o.line("            }");
    o.line("            ::std::option::Option::None => ::std::result::Result::Ok(()),");
    o.line("        }");
    o.line("    }");
    o.line("");
    o.line("    fn cleanup_set(&mut self, vb: &::snmp::VarBind, _cx: &::snmp::registry::Ctx) {");
    o.line("        self.undo.retain(|u| u.0 != vb.oid);");
    o.line("        self.creating.clear();");
    o.line("    }");
}
