//! FILTER_CONVERT: old-format filter files (IPv4 address and mask pairs) to CIDR.
//!
//! `deny tcp 192.168.0.11 255.255.255.0 gt 1023 0 0 eq 25` becomes
//! `deny tcp 192.168.0.11/24 gt 1023 0.0.0.0/0 eq 25`. Comments and blank lines are kept; a line
//! already in CIDR form is copied; a line that cannot be converted is copied commented out
//! (`! FILTER_CONVERT could not convert: ...`) so the new file still loads, and is reported.

use std::net::Ipv4Addr;

/// A line FILTER_CONVERT could not convert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConvertProblem {
    /// 1-based line of the old file.
    pub line: usize,
    /// Why.
    pub message: String,
    /// The line as written.
    pub original: String,
}

/// The result of a conversion: the new file's text and the lines that need a human.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Conversion {
    /// The new file.
    pub text: String,
    /// Lines not converted, in order.
    pub problems: Vec<ConvertProblem>,
    /// Lines converted.
    pub converted: usize,
}

/// An old-format address (dotted, or `0`).
fn old_addr(s: &str) -> Option<Ipv4Addr> {
    if s == "0" {
        return Some(Ipv4Addr::UNSPECIFIED);
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 || parts.iter().any(|p| p.is_empty() || p.len() > 3) {
        return None;
    }
    s.parse().ok()
}

/// The prefix length of a contiguous mask.
fn mask_len(s: &str) -> Result<u8, String> {
    let m = old_addr(s).ok_or_else(|| format!("`{s}` is not an IPv4 mask"))?;
    let v = u32::from(m);
    let len = v.leading_ones();
    if v.checked_shl(len).unwrap_or(0) != 0 {
        return Err(format!(
            "mask `{s}` is not contiguous: CIDR cannot express it"
        ));
    }
    // leading_ones of a u32 is at most 32.
    Ok(len as u8)
}

/// Converts one old-format rule (tokens, comment removed).
fn convert_rule(tokens: &[&str]) -> Result<String, String> {
    let mut out: Vec<String> = Vec::new();
    let mut it = tokens.iter().copied().peekable();
    let action = it.next().ok_or("empty line")?;
    let proto = it.next().ok_or("no protocol")?;
    out.push(action.to_string());
    out.push(proto.to_string());
    let is_op = |t: &str| {
        matches!(
            t.to_ascii_lowercase().as_str(),
            "lt" | "le" | "eq" | "ge" | "gt" | "ne"
        )
    };
    let pair = |it: &mut std::iter::Peekable<std::slice::Iter<'_, &str>>,
                which: &str|
     -> Result<Option<String>, String> {
        let Some(a) = it.peek().copied() else {
            return Ok(None);
        };
        let addr =
            old_addr(a).ok_or_else(|| format!("expected the {which} address, found `{a}`"))?;
        it.next();
        let m = it
            .next()
            .ok_or_else(|| format!("the {which} address `{a}` has no mask"))?;
        let len = mask_len(m)?;
        Ok(Some(format!("{addr}/{len}")))
    };
    let rest: Vec<&str> = it.collect();
    let mut it = rest.iter().peekable();
    if let Some(src) = pair(&mut it, "source")? {
        out.push(src);
        if it.peek().is_some_and(|t| is_op(t)) {
            out.extend(it.next().map(|t| t.to_string()));
            out.extend(it.next().map(|t| t.to_string()));
        }
        match pair(&mut it, "destination")? {
            Some(dst) => out.push(dst),
            None => return Err("no destination address and mask".into()),
        }
    }
    for t in it {
        if t.contains(' ') {
            out.push(format!("\"{t}\""));
        } else {
            out.push(t.to_string());
        }
    }
    Ok(out.join(" "))
}

/// Converts an old-format filter file to the CIDR format.
pub fn convert(old: &str) -> Conversion {
    let mut c = Conversion::default();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in old.lines().enumerate() {
        let line_no = i + 1;
        let (body, comment) = match raw.find('!') {
            Some(p) => (raw.get(..p).unwrap_or(""), raw.get(p..).unwrap_or("")),
            None => (raw, ""),
        };
        let trimmed = body.trim_end();
        let (start, mut text) = match pending.take() {
            Some((s, mut t)) => {
                t.push(' ');
                t.push_str(trimmed.trim_start());
                (s, t)
            }
            None => (line_no, trimmed.to_string()),
        };
        if text.ends_with('-') && comment.is_empty() {
            text.pop();
            pending = Some((start, text));
            continue;
        }
        if text.trim().is_empty() {
            c.text.push_str(raw);
            c.text.push('\n');
            continue;
        }
        let tokens = split_quoted(&text);
        let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let already_cidr = token_refs.iter().skip(2).take(3).any(|t| t.contains('/'));
        let converted = if already_cidr {
            Ok(text.trim().to_string())
        } else {
            convert_rule(&token_refs)
        };
        match converted {
            Ok(mut line) => {
                if !already_cidr {
                    c.converted += 1;
                }
                if !comment.is_empty() {
                    line.push(' ');
                    line.push_str(comment);
                }
                c.text.push_str(&line);
            }
            Err(message) => {
                c.text.push_str("! FILTER_CONVERT could not convert: ");
                c.text.push_str(text.trim());
                c.problems.push(ConvertProblem {
                    line: start,
                    message,
                    original: text.trim().to_string(),
                });
            }
        }
        c.text.push('\n');
    }
    if let Some((start, text)) = pending {
        c.text.push_str("! FILTER_CONVERT could not convert: ");
        c.text.push_str(text.trim());
        c.text.push('\n');
        c.problems.push(ConvertProblem {
            line: start,
            message: "the file ends inside a continued line".into(),
            original: text,
        });
    }
    c
}

/// Splits on blanks, keeping double-quoted values whole (without their quotes).
fn split_quoted(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut had_quote = false;
    for ch in s.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                had_quote = true;
            }
            ' ' | '\t' if !quoted => {
                if !cur.is_empty() || had_quote {
                    out.push(std::mem::take(&mut cur));
                }
                had_quote = false;
            }
            _ => cur.push(ch),
        }
    }
    if !cur.is_empty() || had_quote {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_pairs_and_keeps_comments() {
        let c = convert(
            "! my filters\n\npermit tcp 0 0 0 0 gt 1023 established\n\
             deny tcp 192.168.0.11 255.255.255.0 gt 1023 10.1.0.0 255.255.0.0 eq 25 ! smtp\n\
             permit udp 0 0 eq 53 0 0\n\
             deny ip 10.0.0.0 255.0.255.0 0 0\n\
             deny icmp 0 0 -\n  0 0 eq 5 start 17:00 end \"1 00:30\" repeat\n\
             permit ip 10.0.0.0/8 0/0\n",
        );
        let lines: Vec<&str> = c.text.lines().collect();
        assert_eq!(lines[0], "! my filters");
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "permit tcp 0.0.0.0/0 0.0.0.0/0 gt 1023 established"
        );
        assert_eq!(
            lines[3],
            "deny tcp 192.168.0.11/24 gt 1023 10.1.0.0/16 eq 25 ! smtp"
        );
        assert_eq!(lines[4], "permit udp 0.0.0.0/0 eq 53 0.0.0.0/0");
        assert!(lines[5].starts_with("! FILTER_CONVERT could not convert: deny ip 10.0.0.0"));
        assert_eq!(
            lines[6],
            "deny icmp 0.0.0.0/0 0.0.0.0/0 eq 5 start 17:00 end \"1 00:30\" repeat"
        );
        assert_eq!(lines[7], "permit ip 10.0.0.0/8 0/0");
        assert_eq!(c.problems.len(), 1);
        assert_eq!(c.problems[0].line, 6);
        assert!(c.problems[0].message.contains("not contiguous"));
        assert_eq!(c.converted, 4);
    }
}
