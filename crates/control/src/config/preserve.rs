//! Saving `servers.toml` without losing what the administrator wrote around the values: comments,
//! blank lines, the order of keys and of services.
//!
//! The new configuration is rendered, then merged into the file as it stands: a value that did not
//! change is left exactly as written; a changed value is replaced in place (keeping the comments
//! around its key); removed keys and services are removed; new ones are appended.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table};

/// `current` (the file's text) changed to say what `rendered` (netcp's rendering of the new
/// configuration) says; `None` when `current` does not parse, so the caller writes `rendered`.
pub fn merge(current: &str, rendered: &str) -> Option<String> {
    let mut doc: DocumentMut = current.parse().ok()?;
    let new: DocumentMut = rendered.parse().ok()?;
    merge_table(doc.as_table_mut(), new.as_table());
    Some(doc.to_string())
}

/// A value's text without its surrounding whitespace and comments, to compare two values.
fn bare(item: &Item) -> String {
    match item {
        Item::Value(v) => {
            let mut v = v.clone();
            v.decor_mut().clear();
            v.to_string()
        }
        other => other.to_string(),
    }
}

fn merge_table(old: &mut Table, new: &Table) {
    let gone: Vec<String> = old
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !new.contains_key(k))
        .collect();
    for k in gone {
        old.remove(&k);
    }
    for (key, new_item) in new.iter() {
        match (old.get_mut(key), new_item) {
            (Some(Item::Table(o)), Item::Table(n)) => merge_table(o, n),
            (Some(Item::ArrayOfTables(o)), Item::ArrayOfTables(n)) => merge_services(o, n),
            (Some(o @ Item::Value(_)), Item::Value(n)) => {
                if bare(o) != bare(new_item) {
                    let decor = o.as_value().map(|v| v.decor().clone());
                    let mut value = n.clone();
                    if let Some(d) = decor {
                        *value.decor_mut() = d;
                    }
                    *o = Item::Value(value);
                }
            }
            (_, n) => {
                old.insert(key, n.clone());
            }
        }
    }
}

/// Matches `[[service]]` tables by name, so editing one service keeps the others' comments.
fn merge_services(old: &mut ArrayOfTables, new: &ArrayOfTables) {
    let name = |t: &Table| {
        t.get("name")
            .and_then(|n| n.as_str())
            .map(str::to_ascii_lowercase)
    };
    let mut merged = ArrayOfTables::new();
    let mut olds: Vec<Table> = old.iter().cloned().collect();
    for n in new.iter() {
        let pos = olds
            .iter()
            .position(|o| name(o).is_some() && name(o) == name(n));
        match pos {
            Some(i) => {
                let mut o = olds.remove(i);
                merge_table(&mut o, n);
                merged.push(o);
            }
            None => merged.push(n.clone()),
        }
    }
    *old = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_survive_and_changes_land() {
        let current = "# My netcp\n[netcp]\nlog_stderr = true # for journald\n\n\
                       # the echo service, for the load balancer's health check\n\
                       [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\n\n\
                       [[service]]\nname = \"daytime\" # keep\nbuiltin = \"daytime\"\n";
        let rendered = "[netcp]\nlog_stderr = true\n\n\
                        [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nenabled = false\n\n\
                        [[service]]\nname = \"time\"\nbuiltin = \"time\"\n";
        let merged = merge(current, rendered).unwrap();
        assert!(merged.starts_with("# My netcp\n"), "{merged}");
        assert!(
            merged.contains("log_stderr = true # for journald"),
            "{merged}"
        );
        assert!(
            merged.contains("# the echo service, for the load balancer's health check"),
            "{merged}"
        );
        assert!(merged.contains("enabled = false"), "{merged}");
        assert!(!merged.contains("daytime"), "{merged}");
        assert!(merged.contains("name = \"time\""), "{merged}");
        let again: toml::Value = toml::from_str(&merged).unwrap();
        let want: toml::Value = toml::from_str(rendered).unwrap();
        assert_eq!(again, want);
    }

    #[test]
    fn an_unparsable_file_is_replaced() {
        assert!(merge("this is [not toml", "[netcp]\n").is_none());
    }
}
