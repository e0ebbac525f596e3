//! The database: parsing a whole file into tiers and the lookups over them.

use std::path::Path;

use crate::error::{LoadError, ParseErrors};
use crate::parse::{decimal, parse_line, Mode};
use crate::tier::Tier;
use crate::{Entry, Protocol};

/// The services database: the application tier (Maynard's own `services` file) and an optional
/// host tier (the system's `/etc/services`) consulted only by [`port_by_name`](Self::port_by_name)
/// and [`name_by_port`](Self::name_by_port).
///
/// Names are matched ignoring ASCII case. Lookups use hash maps built at parse time.
#[derive(Debug, Clone, Default)]
pub struct ServiceDb {
    applications: Tier,
    host: Tier,
}

impl ServiceDb {
    /// Parses an application database (Maynard's `services` file) under all of seed 004's rules.
    ///
    /// `origin` names the text in errors (usually the file name). A leading byte order mark is
    /// ignored. Every error of the text is
    /// collected; if there is any, no database is returned, only [`ParseErrors`] listing them in
    /// line and column order.
    pub fn parse(text: &str, origin: &str) -> Result<ServiceDb, ParseErrors> {
        Self::parse_mode(text, origin, Mode::Application)
    }

    /// Parses a host database (a Linux `/etc/services`) leniently: names of any length and
    /// characters, no application limit, the first of two entries with the same name or port
    /// wins without a word, lines of other protocols (`ddp`, `sctp`, ...) are skipped, and a
    /// malformed `tos-`/`weight-` word is an alias. Only unusable lines are errors: a missing or
    /// malformed `port/protocol` field or a bad port number.
    ///
    /// Every entry read is kept in [`entries`](Self::entries), duplicates included.
    pub fn parse_host(text: &str, origin: &str) -> Result<ServiceDb, ParseErrors> {
        Self::parse_mode(text, origin, Mode::Host)
    }

    /// Reads and [`parse`](Self::parse)s a services file. Bytes that are not UTF-8 are replaced by
    /// U+FFFD (and then refused as name characters).
    pub fn load(path: &Path) -> Result<ServiceDb, LoadError> {
        Self::load_mode(path, Mode::Application)
    }

    /// Reads and [`parse_host`](Self::parse_host)s a host services file such as `/etc/services`.
    pub fn load_host(path: &Path) -> Result<ServiceDb, LoadError> {
        Self::load_mode(path, Mode::Host)
    }

    /// Attaches `host` (its own entries, usually parsed by [`parse_host`](Self::parse_host)) as the
    /// host tier, replacing any host tier `self` had. The host tier is only consulted by
    /// [`port_by_name`](Self::port_by_name) and [`name_by_port`](Self::name_by_port), after the
    /// application tier.
    pub fn with_host_fallback(mut self, host: ServiceDb) -> ServiceDb {
        self.host = host.applications;
        self
    }

    /// The application entry of `protocol` with `name` as its name or an alias (ASCII case
    /// ignored). The host tier is not consulted.
    pub fn lookup(&self, name: &str, protocol: Protocol) -> Option<&Entry> {
        self.applications.lookup(name, protocol)
    }

    /// Every application entry with `name` as name or alias, one per protocol, tcp first.
    pub fn lookup_any(&self, name: &str) -> Vec<&Entry> {
        Protocol::ALL
            .iter()
            .filter_map(|p| self.applications.lookup(name, *p))
            .collect()
    }

    /// The application entry of `protocol` on `port`. The host tier is not consulted.
    pub fn by_port(&self, port: u16, protocol: Protocol) -> Option<&Entry> {
        self.applications.by_port(port, protocol)
    }

    /// The port of a service: `name` is a decimal port number (`"8080"`, returned as is), else a
    /// name or alias of the application tier, else of the host tier.
    pub fn port_by_name(&self, name: &str, protocol: Protocol) -> Option<u16> {
        if let Some(number) = decimal(name) {
            return u16::try_from(number).ok();
        }
        self.applications
            .lookup(name, protocol)
            .or_else(|| self.host.lookup(name, protocol))
            .map(|e| e.port)
    }

    /// The (primary) name of the service on `port`: from the application tier, else the host tier.
    pub fn name_by_port(&self, port: u16, protocol: Protocol) -> Option<&str> {
        self.applications
            .by_port(port, protocol)
            .or_else(|| self.host.by_port(port, protocol))
            .map(|e| e.name.as_str())
    }

    /// The application entries in file order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.applications.entries().iter()
    }

    /// The host tier's entries in file order (empty without a host fallback).
    pub fn host_entries(&self) -> impl Iterator<Item = &Entry> {
        self.host.entries().iter()
    }

    /// The number of application entries (one per name and protocol).
    pub fn len(&self) -> usize {
        self.applications.entries().len()
    }

    /// True when there is no application entry.
    pub fn is_empty(&self) -> bool {
        self.applications.entries().is_empty()
    }

    /// The number of applications: distinct names, ignoring case. `echo/tcp` and `echo/udp` are
    /// one application; aliases do not count.
    pub fn applications(&self) -> usize {
        self.applications.applications()
    }

    /// The application tier as the text of a services file, one [`Entry::to_line`] per line.
    /// Parsing it (with the parser that made the database) gives equal entries, except for
    /// their line numbers.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for entry in self.entries() {
            text.push_str(&entry.to_line());
            text.push('\n');
        }
        text
    }

    fn parse_mode(text: &str, origin: &str, mode: Mode) -> Result<ServiceDb, ParseErrors> {
        let mut tier = Tier::default();
        let mut errors = Vec::new();
        // A byte order mark left by some editors is not part of the first name.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, line) in text.split('\n').enumerate() {
            let number = index.saturating_add(1);
            let Some(parsed) = parse_line(line, number, origin, mode, &mut errors) else {
                continue;
            };
            if mode == Mode::Host || tier.check(&parsed, origin, &mut errors) {
                tier.insert(parsed.entry);
            }
        }
        if errors.is_empty() {
            Ok(ServiceDb {
                applications: tier,
                host: Tier::default(),
            })
        } else {
            errors.sort_by_key(|e| (e.line, e.column));
            Err(ParseErrors(errors))
        }
    }

    fn load_mode(path: &Path, mode: Mode) -> Result<ServiceDb, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(Self::parse_mode(&text, &path.display().to_string(), mode)?)
    }
}
