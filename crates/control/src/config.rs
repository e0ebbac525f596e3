//! The master server's configuration: `servers.toml` and the services database in one directory.
//!
//! Loading is all-or-nothing: every problem of every file is collected as a [`Diagnostic`] with
//! file, line and column, and a directory with any error yields no configuration at all, so the
//! running one stays in force.

pub mod ips;
pub mod model;
pub mod multicast;
pub mod network;
pub mod network_edit;
pub mod outgoing;
mod preserve;
mod resolve;
pub mod snmp;

pub use model::*;
pub use multicast::{MulticastError, MulticastGroup};
pub use resolve::{resolve, resolve_one, Endpoint, ResolvedService, Server};

use std::path::{Path, PathBuf};

use servicedb::ServiceDb;

use crate::span::Diagnostic;

/// The embedded default `servers.toml`.
pub const DEFAULT_SERVERS: &str = include_str!("../default/servers.toml");
/// The embedded default services database.
pub const DEFAULT_SERVICES: &str = include_str!("../default/services");
/// The name of the master server's file in a configuration directory.
pub const SERVERS_FILE: &str = "servers.toml";

/// Where a configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The defaults built into the binary.
    Embedded,
    /// A configuration directory.
    Dir(PathBuf),
}

impl Origin {
    /// `--config DIR`, else `$MAYNARD_CONFIG`, else the embedded default.
    pub fn from_args(dir: Option<PathBuf>) -> Origin {
        match dir.or_else(|| std::env::var_os("MAYNARD_CONFIG").map(PathBuf::from)) {
            Some(d) if !d.as_os_str().is_empty() => Origin::Dir(d),
            _ => Origin::Embedded,
        }
    }

    /// The directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Origin::Embedded => None,
            Origin::Dir(d) => Some(d),
        }
    }

    /// How to name this origin to a user.
    pub fn describe(&self) -> String {
        match self {
            Origin::Embedded => "the embedded default configuration".to_string(),
            Origin::Dir(d) => d.display().to_string(),
        }
    }
}

/// A configuration directory, loaded and validated.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Where it came from.
    pub origin: Origin,
    /// `servers.toml` as written.
    pub servers: ServersConfig,
    /// The services database (with the host's /etc/services as second tier, if configured).
    pub db: ServiceDb,
    /// The services, resolved against the database.
    pub resolved: Vec<ResolvedService>,
    /// Things that work but look wrong.
    pub warnings: Vec<String>,
    /// `network.toml`: Maynard's own stack (`None`: the file is absent, netcp runs no stack).
    pub network: Option<network::NetworkConfig>,
    /// `snmp.toml` (the defaults when the file is absent).
    pub snmp: snmp::SnmpConfig,
    /// `ips.toml` (`None`: the file is absent, netcp runs no filter server).
    pub ips: Option<ips::IpsConfig>,
    /// `outgoing.toml` (`None`: the file is absent, outgoing connections are not restricted).
    pub outgoing: Option<outgoing::OutgoingConfig>,
}

/// Every problem found; the configuration was not loaded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<Diagnostic>);

/// Loads and validates a whole configuration.
pub fn load(origin: &Origin) -> Result<Loaded, ConfigErrors> {
    let (servers_name, servers_text) = match origin {
        Origin::Embedded => (
            "<embedded>/servers.toml".to_string(),
            DEFAULT_SERVERS.to_string(),
        ),
        Origin::Dir(dir) => {
            let path = dir.join(SERVERS_FILE);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigErrors(vec![Diagnostic::whole_file(
                    &path.display().to_string(),
                    format!("cannot read: {e}"),
                )])
            })?;
            (path.display().to_string(), text)
        }
    };
    let parsed = model::parse_servers(&servers_text, &servers_name)?;
    let db = load_db(origin, &parsed.config.netcp)?;
    let resolved = resolve(&parsed, &db, &servers_name)?;
    let mut warnings = Vec::new();
    for s in &resolved {
        if let Server::External { user: Some(u), .. } = &s.server {
            if !user_exists(u) {
                warnings.push(format!(
                    "service `{}`: user `{u}` is not in the passwd database; connections will fail",
                    s.name
                ));
            }
        }
    }
    let network = match load_network(origin)? {
        Some((n, w)) => {
            warnings.extend(w);
            Some(n)
        }
        None => None,
    };
    let snmp = load_snmp(origin)?;
    let ips = load_ips(origin)?;
    let outgoing = load_outgoing(origin)?;
    Ok(Loaded {
        origin: origin.clone(),
        servers: parsed.config,
        db,
        resolved,
        warnings,
        network,
        snmp,
        ips,
        outgoing,
    })
}

/// Loads `outgoing.toml` of a configuration directory, if it has one.
pub fn load_outgoing(origin: &Origin) -> Result<Option<outgoing::OutgoingConfig>, ConfigErrors> {
    load_optional(origin, outgoing::OUTGOING_FILE, outgoing::parse_outgoing)
}

/// Loads `ips.toml` of a configuration directory, if it has one.
pub fn load_ips(origin: &Origin) -> Result<Option<ips::IpsConfig>, ConfigErrors> {
    load_optional(origin, ips::IPS_FILE, ips::parse_ips)
}

/// Loads `snmp.toml` of a configuration directory; the defaults when there is none.
pub fn load_snmp(origin: &Origin) -> Result<snmp::SnmpConfig, ConfigErrors> {
    Ok(load_optional(origin, snmp::SNMP_FILE, snmp::parse_snmp)?.unwrap_or_default())
}

/// Reads and parses the optional file `name` of a configuration directory with `parse`;
/// `None` when the file is absent (or the configuration is the embedded one).
fn load_optional<T>(
    origin: &Origin,
    name: &str,
    parse: fn(&str, &str) -> Result<T, ConfigErrors>,
) -> Result<Option<T>, ConfigErrors> {
    let Some(dir) = origin.dir() else {
        return Ok(None);
    };
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigErrors(vec![Diagnostic::whole_file(
            &path.display().to_string(),
            format!("cannot read: {e}"),
        )])),
    }
}

/// Loads `network.toml` of a configuration directory, if it has one (with its warnings).
pub fn load_network(
    origin: &Origin,
) -> Result<Option<(network::NetworkConfig, Vec<String>)>, ConfigErrors> {
    let Some(dir) = origin.dir() else {
        return Ok(None);
    };
    let path = dir.join(network::NETWORK_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ConfigErrors(vec![Diagnostic::whole_file(
                &path.display().to_string(),
                format!("cannot read: {e}"),
            )]))
        }
    };
    network::parse_network(&text, &path.display().to_string()).map(Some)
}

/// Loads only the services database of a configuration (for `REFRESH SERVICES`).
pub fn load_db(origin: &Origin, settings: &NetcpSettings) -> Result<ServiceDb, ConfigErrors> {
    let own = match (origin, &settings.services_file) {
        (Origin::Embedded, None) => ServiceDb::parse(DEFAULT_SERVICES, "<embedded>/services")
            .map_err(|e| ConfigErrors(e.0.iter().map(db_diag).collect()))?,
        (origin, file) => {
            let name = file.clone().unwrap_or_else(|| PathBuf::from("services"));
            let path = match origin.dir() {
                Some(dir) => dir.join(name),
                None => name,
            };
            ServiceDb::load(&path).map_err(|e| match e {
                servicedb::LoadError::Parse(errs) => {
                    ConfigErrors(errs.0.iter().map(db_diag).collect())
                }
                other => ConfigErrors(vec![Diagnostic::whole_file(
                    &path.display().to_string(),
                    other.to_string(),
                )]),
            })?
        }
    };
    match &settings.host_services {
        Some(path) if !path.as_os_str().is_empty() => match ServiceDb::load_host(path) {
            Ok(host) => Ok(own.with_host_fallback(host)),
            // A host without /etc/services only loses port names; that is no reason to refuse.
            Err(servicedb::LoadError::Io { .. }) => Ok(own),
            Err(servicedb::LoadError::Parse(errs)) => {
                Err(ConfigErrors(errs.0.iter().map(db_diag).collect()))
            }
        },
        _ => Ok(own),
    }
}

fn db_diag(e: &servicedb::ParseError) -> Diagnostic {
    Diagnostic {
        file: e.file.clone(),
        line: e.line,
        column: e.column,
        message: {
            let full = e.to_string();
            let prefix = format!("{}:{}:{}: ", e.file, e.line, e.column);
            full.strip_prefix(&prefix)
                .map(str::to_string)
                .unwrap_or(full)
        },
    }
}

fn user_exists(name: &str) -> bool {
    listed_in("/etc/passwd", name)
}

/// Whether `name` is the first field of a line of `file` (/etc/passwd, /etc/group).
pub(crate) fn listed_in(file: &str, name: &str) -> bool {
    std::fs::read_to_string(file)
        .map(|t| t.lines().any(|l| l.split(':').next() == Some(name)))
        .unwrap_or(false)
}

/// A TOML syntax or type error of `text` (from `file`) as a diagnostic at its position.
pub fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> ConfigErrors {
    let offset = e.span().map_or(0, |s| s.start);
    ConfigErrors(vec![Diagnostic::at_offset(
        file,
        text,
        offset,
        e.message().trim_end().to_string(),
    )])
}

/// Writes `servers` to `dir/servers.toml` atomically (a temporary file, fsync, rename), keeping
/// the comments and layout of the file as it stands.
pub fn save_servers(dir: &Path, servers: &ServersConfig) -> std::io::Result<()> {
    let path = dir.join(SERVERS_FILE);
    let rendered = model::render_servers(servers);
    let text = std::fs::read_to_string(&path)
        .ok()
        .and_then(|current| preserve::merge(&current, &rendered))
        .unwrap_or(rendered);
    write_atomically(&path, text.as_bytes())
}

/// Replaces `path` with `bytes` so that a reader sees the old file or the new one, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        // The new file keeps the old one's permissions (an administrator may have narrowed them).
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
