//! One tier of the database: its entries in file order and the indexes built over them, with the
//! rules that involve more than one line (duplicates, the application limit).

use std::collections::{HashMap, HashSet};

use crate::error::{Expected, ParseError};
use crate::parse::ParsedLine;
use crate::protocol::PerProtocol;
use crate::{Entry, Protocol, MAX_APPLICATIONS};

/// Entries and their indexes. Names are indexed in ASCII lowercase; when two entries claim the
/// same key the first one keeps it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tier {
    entries: Vec<Entry>,
    /// Lowercase name or alias → the entry per protocol (index into `entries`).
    by_name: HashMap<String, PerProtocol<Option<usize>>>,
    /// Port and protocol → the entry (index into `entries`).
    by_port: HashMap<(u16, Protocol), usize>,
    /// Lowercase primary names: the applications.
    applications: HashSet<String>,
}

impl Tier {
    /// The entries in file order.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The number of distinct (primary) names, ignoring case.
    pub(crate) fn applications(&self) -> usize {
        self.applications.len()
    }

    /// The entry of `protocol` that has `name` as name or alias, ignoring ASCII case.
    pub(crate) fn lookup(&self, name: &str, protocol: Protocol) -> Option<&Entry> {
        let slot = self.by_name.get(&name.to_ascii_lowercase())?;
        self.entries.get((*slot.get(protocol))?)
    }

    /// The entry of `protocol` on `port`.
    pub(crate) fn by_port(&self, port: u16, protocol: Protocol) -> Option<&Entry> {
        self.entries.get(*self.by_port.get(&(port, protocol))?)
    }

    /// Checks the application database's rules across lines for a line about to be added,
    /// appending an error for each rule it breaks. True when it may be added.
    pub(crate) fn check(
        &self,
        parsed: &ParsedLine<'_>,
        origin: &str,
        errors: &mut Vec<ParseError>,
    ) -> bool {
        let before = errors.len();
        let entry = &parsed.entry;
        let protocol = entry.protocol;
        let mut push = |text: &str, column: usize, expected: Expected| {
            errors.push(ParseError {
                file: origin.to_string(),
                line: entry.line,
                column,
                token: text.to_string(),
                expected,
            });
        };
        let name_taken = |name: &str| -> Option<Expected> {
            let earlier = self.lookup(name, protocol)?;
            Some(Expected::UnusedName {
                protocol,
                owner: earlier.name.clone(),
                line: earlier.line,
            })
        };

        let lowercase = entry.name.to_ascii_lowercase();
        if let Some(expected) = name_taken(&entry.name) {
            push(parsed.name.text, parsed.name.column, expected);
        } else if !self.applications.contains(&lowercase)
            && self.applications.len() >= MAX_APPLICATIONS
        {
            push(
                parsed.name.text,
                parsed.name.column,
                Expected::ApplicationLimit,
            );
        }
        if let Some(earlier) = self.by_port(entry.port, protocol) {
            push(
                parsed.port.text,
                parsed.port.column,
                Expected::UnusedPort {
                    protocol,
                    owner: earlier.name.clone(),
                    line: earlier.line,
                },
            );
        }
        for alias in &parsed.aliases {
            if let Some(expected) = name_taken(alias.text) {
                push(alias.text, alias.column, expected);
            }
        }
        errors.len() == before
    }

    /// Adds an entry. Names, aliases and the port already claimed for its protocol stay with the
    /// earlier entry (the host database's "first wins").
    pub(crate) fn insert(&mut self, entry: Entry) {
        let index = self.entries.len();
        let protocol = entry.protocol;
        for name in entry.names() {
            let slot = self
                .by_name
                .entry(name.to_ascii_lowercase())
                .or_default()
                .get_mut(protocol);
            slot.get_or_insert(index);
        }
        self.by_port.entry((entry.port, protocol)).or_insert(index);
        self.applications.insert(entry.name.to_ascii_lowercase());
        self.entries.push(entry);
    }
}
