//! Commands netcu carries out itself, without netcp: checking a configuration or a filter file,
//! the filter dry run, and FILTER_CONVERT.

use std::path::{Path, PathBuf};

use control::config::{self, NetcpSettings, Origin};
use filter::vmstime::LocalTime;
use servicedb::ServiceDb;

/// What a local command did: success, or a failure already reported on stderr.
pub type Done = Result<(), ()>;

/// The local time now (filter windows are in local time).
pub fn local_now() -> LocalTime {
    let (now, offset) = control::localtime::now_with_offset();
    LocalTime::from_unix(now, offset)
}

/// The services database for port names: the configuration's (with the host's as second tier).
pub fn services_db(config_dir: Option<PathBuf>) -> Result<ServiceDb, ()> {
    let origin = Origin::from_args(config_dir);
    config::load_db(&origin, &NetcpSettings::default()).map_err(|e| {
        for d in &e.0 {
            eprintln!("%NETCU-E-SERVICES, {d}");
        }
    })
}

fn read(path: &Path) -> Result<String, ()> {
    std::fs::read_to_string(path).map_err(|e| eprintln!("%NETCU-E-OPEN, {}: {e}", path.display()))
}

fn load_filter(path: &Path, config_dir: Option<PathBuf>) -> Result<filter::FilterList, ()> {
    let text = read(path)?;
    let db = services_db(config_dir)?;
    filter::parse(&text, &path.display().to_string(), &db, local_now()).map_err(|errors| {
        for d in errors.errors() {
            eprintln!("%NETCU-E-FILTER, {d}");
        }
        eprintln!(
            "%NETCU-E-INVALID, {} refused: {} error(s)",
            path.display(),
            errors
                .errors()
                .filter(|d| d.severity == filter::Severity::Error)
                .count()
        );
    })
}

/// CHECK FILTER.
pub fn check_filter(path: &Path, config_dir: Option<PathBuf>) -> Done {
    let list = load_filter(path, config_dir)?;
    for w in &list.warnings {
        println!("%NETCU-W-FILTER, {w}");
    }
    for line in &list.not_loaded {
        println!(
            "%NETCU-W-EXPIRED, {}:{line}: the filter's time window has ended; it is not loaded",
            path.display()
        );
    }
    println!(
        "%NETCU-S-VALID, {}: {} rules, {} warnings",
        path.display(),
        list.rules.len(),
        list.warnings.len()
    );
    Ok(())
}

/// TEST FILTER.
pub fn test_filter(
    path: &Path,
    operands: &filter::dryrun::TestOperands,
    config_dir: Option<PathBuf>,
) -> Done {
    let db = services_db(config_dir.clone())?;
    let list = load_filter(path, config_dir)?;
    let packet = filter::dryrun::test_packet(operands, &db, local_now())
        .map_err(|e| eprintln!("%NETCU-E-OPERAND, {e}"))?;
    let classifier = filter::Classifier::compile(&list.rules);
    println!(
        "{}",
        filter::dryrun::describe(&classifier, classifier.classify(&packet))
    );
    Ok(())
}

/// CONVERT FILTER: writes the new file atomically, never over an existing one.
pub fn convert_filter(old: &Path, new: &Path) -> Done {
    let text = read(old)?;
    if new.exists() {
        eprintln!(
            "%NETCU-E-EXISTS, {} exists; not overwriting it",
            new.display()
        );
        return Err(());
    }
    let conversion = filter::convert(&text);
    for p in &conversion.problems {
        eprintln!(
            "%NETCU-W-NOTCONVERTED, {}:{}: {}: {}",
            old.display(),
            p.line,
            p.message,
            p.original.trim()
        );
    }
    config::write_atomically(new, conversion.text.as_bytes())
        .map_err(|e| eprintln!("%NETCU-E-WRITE, {}: {e}", new.display()))?;
    println!(
        "%NETCU-S-CONVERTED, {} lines converted into {}, {} left as they were",
        conversion.converted,
        new.display(),
        conversion.problems.len()
    );
    Ok(())
}
