//! The object tree as an administrator reads it: one line per node, in OID order, indented by
//! depth below the module's shallowest node, with kind, syntax and access.

use crate::model::{CompiledModule, NodeKind};

/// Renders the listing.
pub fn render(m: &CompiledModule) -> String {
    let mut nodes: Vec<_> = m.nodes.iter().collect();
    nodes.sort_by(|a, b| a.oid.cmp(&b.oid));
    let top = nodes.iter().map(|n| n.oid.len()).min().unwrap_or(0);
    let mut out = format!("Module {} ({})\n", m.name, m.file.display());
    let oid_width = nodes
        .iter()
        .map(|n| CompiledModule::dotted(&n.oid).len())
        .max()
        .unwrap_or(0);
    for n in nodes {
        let indent = "  ".repeat(n.oid.len().saturating_sub(top));
        let mut line = format!(
            "{:<oid_width$}  {indent}{}  [{}]",
            CompiledModule::dotted(&n.oid),
            n.name,
            n.kind.word()
        );
        match n.kind {
            NodeKind::Scalar | NodeKind::Column => {
                if let Some(s) = &n.syntax {
                    line.push_str(&format!("  {s}"));
                }
                if let Some(a) = n.access {
                    line.push_str(&format!("  {}", a.keyword()));
                }
                if let Some(u) = &n.units {
                    line.push_str(&format!("  UNITS \"{u}\""));
                }
            }
            NodeKind::Entry => {
                let idx: Vec<String> = n
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
                match &n.augments {
                    Some(a) => line.push_str(&format!("  AUGMENTS {a} (INDEX {})", idx.join(", "))),
                    None => line.push_str(&format!("  INDEX {}", idx.join(", "))),
                }
            }
            NodeKind::Notification | NodeKind::Trap if !n.objects.is_empty() => {
                let names: Vec<&str> = n.objects.iter().map(|(o, _)| o.as_str()).collect();
                line.push_str(&format!("  OBJECTS {}", names.join(", ")));
            }
            _ => {}
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
