//! Scalar groups: per node that has readable scalars right under it, a struct with a field per
//! scalar and a read-only handler serving `scalar.0` from it.

use super::{doc_text, rust_type, to_value, Out};
use crate::model::{Access, Node, NodeKind};
use crate::names::{camel, screaming, snake};

pub(super) fn emit(o: &mut Out<'_>) {
    let m = o.m;
    // Parents in the order their first scalar appears.
    let mut parents: Vec<&[u32]> = Vec::new();
    for n in &m.nodes {
        if n.kind == NodeKind::Scalar && n.access.is_some_and(Access::readable) {
            if let Some((_, p)) = n.oid.split_last() {
                if !parents.contains(&p) {
                    parents.push(p);
                }
            }
        }
    }
    if !parents.is_empty() {
        o.line(
            "/// The scalars of a group as the agent core's snapshot: `object.0` and its value.",
        );
        o.line("#[allow(dead_code)]");
        o.line("fn mibc_scalars_data(vbs: ::std::vec::Vec<::snmp::VarBind>) -> ::snmp::registry::SnapshotData {");
        o.line("    let mut data = ::snmp::registry::SnapshotData::new();");
        o.line("    for vb in vbs {");
        o.line("        let object = ::snmp::Oid::new(vb.oid.arcs().split_last().map_or(&[][..], |(_, o)| o));");
        o.line("        data.scalar(object, vb.value);");
        o.line("    }");
        o.line("    data");
        o.line("}");
        o.line("");
    }
    for p in parents {
        let Some(parent) = m.nodes.iter().find(|n| n.oid == p) else {
            continue; // the parent is in another module: no name to give the group
        };
        let scalars: Vec<&Node> = m
            .nodes
            .iter()
            .filter(|n| {
                n.kind == NodeKind::Scalar
                    && n.access.is_some_and(Access::readable)
                    && n.oid.split_last().is_some_and(|(_, q)| q == p)
                    && n.syntax
                        .as_ref()
                        .is_some_and(|s| rust_type(o, &n.name, s).is_some())
            })
            .collect();
        if !scalars.is_empty() {
            group(o, parent, &scalars);
        }
    }
}

fn group(o: &mut Out<'_>, parent: &Node, scalars: &[&Node]) {
    let ty = format!("{}Scalars", camel(&parent.name));
    o.line(&format!(
        "/// The readable scalars under `{}`, one field each.",
        parent.name
    ));
    o.line("#[derive(Debug, Clone, PartialEq, Eq)]");
    o.line(&format!("pub struct {ty} {{"));
    for n in scalars {
        let Some(s) = &n.syntax else { continue };
        let t = rust_type(o, &n.name, s).unwrap_or_default();
        o.line(&format!(
            "    /// `{}` ({}), {}.",
            n.name,
            doc_text(&s.to_string()),
            n.access.map_or("", Access::keyword)
        ));
        o.line(&format!("    pub {}: {t},", snake(&n.name)));
    }
    o.line("}");
    o.line("");
    o.line(&format!("impl {ty} {{"));
    o.line("    /// Every scalar as an instance (`object.0`) and its value.");
    o.line("    pub fn to_varbinds(&self) -> ::std::vec::Vec<::snmp::VarBind> {");
    o.line("        ::std::vec![");
    for n in scalars {
        let Some(s) = &n.syntax else { continue };
        let v = to_value(o, &n.name, s, &format!("self.{}", snake(&n.name)));
        o.line(&format!(
            "            ::snmp::VarBind::new(::snmp::Oid::new({}).child(&[0]), {v}),",
            screaming(&n.name)
        ));
    }
    o.line("        ]");
    o.line("    }");
    o.line("}");
    o.line("");
    let reg = screaming(&parent.name);
    o.line(&format!(
        "/// A read-only handler serving the scalars under `{}` from `scalars`, called at most",
        parent.name
    ));
    o.line(&format!(
        "/// once per `ttl`; register it at `{reg}` (tables under it registered on their own win)."
    ));
    o.line(&format!(
        "pub fn {}_scalars_handler<F>(ttl: ::std::time::Duration, mut scalars: F) -> impl ::snmp::Handler + 'static",
        snake(&parent.name)
    ));
    o.line("where");
    o.line(&format!(
        "    F: FnMut(&::snmp::registry::Ctx) -> {ty} + Send + 'static,"
    ));
    o.line("{");
    o.line("    ::snmp::registry::Snapshot::new(ttl, move |cx: &::snmp::registry::Ctx| {");
    o.line("        mibc_scalars_data(scalars(cx).to_varbinds())");
    o.line("    })");
    o.line("}");
    o.line("");
    super::writes::scalar_group(o, parent, scalars);
}
