//! COMPILE MIB: seed 003's MIB compiler, run by netcu itself (no netcp needed). A MIB module,
//! by file or by name on the search path, becomes a Rust module for a subagent or the
//! master's own MIB modules; /LIST prints the object tree.

use std::path::PathBuf;

use super::{q, Action, CommandDef, Parsed, Takes::Nothing as F, Takes::Value as V};

/// Directories searched after /SEARCH: `$MAYNARD_MIBS` (colon-separated), `./mibs`, then
/// net-snmp's directory.
const DEFAULT_DIRS: &[&str] = &["mibs", "/usr/share/snmp/mibs"];

/// What COMPILE MIB was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MibRequest {
    /// A file, or a module name found on the search path.
    pub module: String,
    /// The Rust file to write (`-` for standard output); default `<module>.rs` here.
    pub output: Option<PathBuf>,
    /// Directories searched for imports (and the module), before the defaults.
    pub search: Vec<PathBuf>,
    /// Print the object tree.
    pub list: bool,
}

/// The COMPILE MIB command.
pub static COMMANDS: &[CommandDef] = &[CommandDef {
    words: &["compile", "mib"],
    params: &["file-or-module"],
    quals: &[
        q(
            "output",
            V,
            "the Rust file to write (default: <module>.rs here; - for standard output)",
        ),
        q(
            "search",
            V,
            "directories holding imported modules, e.g. /SEARCH=(mibs,/opt/mibs)",
        ),
        q(
            "list",
            F,
            "print the object tree (OID, name, kind, syntax, access); writes no file unless /OUTPUT",
        ),
    ],
    help: "compile a MIB module (SMIv1 or SMIv2) into a Rust module for the SNMP agent, or /LIST its objects",
    build: compile_mib,
}];

fn compile_mib(p: &Parsed) -> Result<Action, String> {
    Ok(Action::CompileMib(MibRequest {
        module: p.required(0)?,
        output: p.one("output")?.map(PathBuf::from),
        search: p
            .value("search")
            .map(|v| v.items().into_iter().map(PathBuf::from).collect())
            .unwrap_or_default(),
        list: p.has("list"),
    }))
}

/// Carries out COMPILE MIB: messages on stdout/stderr, `Err` if nothing was compiled.
pub fn run(req: &MibRequest) -> Result<(), ()> {
    let mut compiler = mibc::Compiler::new();
    for d in &req.search {
        compiler.add_search_path(d);
    }
    if let Ok(dirs) = std::env::var("MAYNARD_MIBS") {
        for d in dirs.split(':').filter(|d| !d.is_empty()) {
            compiler.add_search_path(d);
        }
    }
    for d in DEFAULT_DIRS {
        compiler.add_search_path(d);
    }
    let module = compiler.compile(&req.module).map_err(|e| {
        eprintln!("%NETCU-E-MIB, {e}");
    })?;
    if req.list {
        print!("{}", module.list());
    }
    let target = match (&req.output, req.list) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => None,
        (None, false) => Some(PathBuf::from(module.rust_file_name())),
    };
    let tables = module
        .nodes
        .iter()
        .filter(|n| n.kind == mibc::NodeKind::Table)
        .count();
    match target {
        Some(p) if p.as_os_str() == "-" => print!("{}", module.to_rust()),
        Some(p) => {
            module
                .write_rust_to(&p)
                .map_err(|e| eprintln!("%NETCU-E-WRITE, {e}"))?;
            println!(
                "%NETCU-S-COMPILED, {}: {} nodes, {} tables, written to {}",
                module.name,
                module.nodes.len(),
                tables,
                p.display()
            );
        }
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn both_styles() {
        let vms = parse("COMPILE MIB IF-MIB/OUTPUT=if.rs/SEARCH=(mibs,other)").unwrap();
        let unix = parse("compile mib IF-MIB --output if.rs --search mibs,other").unwrap();
        assert_eq!(vms, unix);
        assert_eq!(
            vms,
            Action::CompileMib(MibRequest {
                module: "IF-MIB".into(),
                output: Some("if.rs".into()),
                search: vec!["mibs".into(), "other".into()],
                list: false,
            })
        );
        let Action::CompileMib(l) = parse("COMP MIB x.txt /LIST").unwrap() else {
            panic!("not COMPILE MIB")
        };
        assert!(l.list && l.output.is_none());
        assert!(parse("COMPILE MIB").unwrap_err().contains("file-or-module"));
    }

    #[test]
    fn compiles_and_lists() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let out = std::env::temp_dir().join(format!("netcu-mib-{}.rs", std::process::id()));
        let req = MibRequest {
            module: "IF-MIB".into(),
            output: Some(out.clone()),
            search: vec![repo.join("mibs")],
            list: false,
        };
        assert_eq!(run(&req), Ok(()));
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let _ = std::fs::remove_file(&out);
        assert!(text.contains("pub const IF_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2];"));
        let bad = MibRequest {
            module: "NO-SUCH-MIB".into(),
            output: None,
            search: vec![repo.join("mibs")],
            list: true,
        };
        assert_eq!(run(&bad), Err(()));
    }
}
