//! MIB descriptors to Rust identifiers: `ifHCInOctets` → `if_hc_in_octets` (fields, functions),
//! `IF_HC_IN_OCTETS` (constants), `IfHcInOctets` (types); `ethernet-csmacd` → `EthernetCsmacd`.

/// Rust's keywords (strict and reserved), which a generated name must not be.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Splits a descriptor into lower-case words at hyphens, underscores and case changes
/// (`ifHCInOctets` → `if`, `hc`, `in`, `octets`). A run of capitals ends before its last
/// capital when a lower-case letter follows (`IANAifType` → `ian`, `aif`, `type`).
fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = c.is_ascii_uppercase()
            && match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn not_keyword(s: String) -> String {
    if KEYWORDS.contains(&s.as_str()) {
        format!("{s}_")
    } else if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("n{s}")
    } else {
        s
    }
}

/// `ifHCInOctets` → `if_hc_in_octets`.
pub fn snake(s: &str) -> String {
    not_keyword(words(s).join("_"))
}

/// A module name as a Rust module name: `SNMPv2-MIB` → `snmpv2_mib` (lower case, hyphens to
/// underscores; module names are not camel case).
pub fn module(s: &str) -> String {
    let m: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    not_keyword(m)
}

/// `ifHCInOctets` → `IF_HC_IN_OCTETS`.
pub fn screaming(s: &str) -> String {
    let w = words(s).join("_").to_ascii_uppercase();
    if w.starts_with(|c: char| c.is_ascii_digit()) || w.is_empty() {
        format!("N{w}")
    } else {
        w
    }
}

/// `ifEntry` → `IfEntry`, `ethernet-csmacd` → `EthernetCsmacd`.
pub fn camel(s: &str) -> String {
    let w: String = words(s)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if w.starts_with(|c: char| c.is_ascii_digit()) || w.is_empty() {
        format!("N{w}")
    } else if w == "Self" {
        "Self_".into()
    } else {
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(snake("ifHCInOctets"), "if_hc_in_octets");
        assert_eq!(snake("hrStorageSize"), "hr_storage_size");
        assert_eq!(module("IF-MIB"), "if_mib");
        assert_eq!(module("SNMPv2-MIB"), "snmpv2_mib");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("mib-2"), "mib_2");
        assert_eq!(screaming("ifDescr"), "IF_DESCR");
        assert_eq!(screaming("ipv6IfIndex"), "IPV6_IF_INDEX");
        assert_eq!(camel("ifEntry"), "IfEntry");
        assert_eq!(camel("ethernet-csmacd"), "EthernetCsmacd");
        assert_eq!(camel("iso88023-csmacd"), "Iso88023Csmacd");
        assert_eq!(camel("IANAifType"), "IanAifType");
        assert_eq!(camel("self"), "Self_");
        assert_eq!(snake("3com"), "n3com");
    }
}
