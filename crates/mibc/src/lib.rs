//! mibc, Maynard's MIB compiler (seed 003's eSNMP MIB compiler): SMIv1 and SMIv2 modules in,
//! Rust modules out that a subagent or the master's own MIB modules compile against: OID
//! constants, enumerations, typed row structs with index encoding and decoding, value checks
//! (type, range, size, enumeration) and table handlers for the `snmp` crate's agent core.
//!
//! From a build script:
//!
//! ```no_run
//! # fn main() -> Result<(), mibc::Error> {
//! let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
//! mibc::Compiler::new()
//!     .search_path("mibs")
//!     .compile("IF-MIB")?
//!     .write_rust(&out_dir)?; // $OUT_DIR/if_mib.rs
//! # Ok(())
//! # }
//! ```
//!
//! A module that cannot be compiled gets an [`Error`] with file:line:column and what was
//! expected (a syntax error, an unknown import, an undefined symbol).

pub mod ast;
mod codegen;
pub mod error;
pub mod lexer;
mod list;
pub mod model;
mod names;
pub mod parser;
mod resolve;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub use error::{Error, Pos};
pub use model::{Access, BaseType, CompiledModule, IndexPart, Node, NodeKind, Syntax};

use resolve::{Loaded, Resolver};

/// File name endings tried for a module name on the search path (net-snmp uses `.txt`).
const EXTENSIONS: &[&str] = &["", ".txt", ".mib", ".my", ".smi"];

/// Loads modules from the search path and compiles them.
#[derive(Debug, Default)]
pub struct Compiler {
    search: Vec<PathBuf>,
    loaded: BTreeMap<String, Loaded>,
    /// Per directory, module name → file, read from the files' headers (built on demand).
    scanned: HashMap<PathBuf, HashMap<String, PathBuf>>,
}

impl Compiler {
    /// A compiler with an empty search path.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a directory to the search path (builder form).
    pub fn search_path(mut self, dir: impl Into<PathBuf>) -> Self {
        self.add_search_path(dir);
        self
    }

    /// Adds a directory to the search path.
    pub fn add_search_path(&mut self, dir: impl Into<PathBuf>) {
        self.search.push(dir.into());
    }

    /// Compiles a module given by name (found on the search path) or by file path (then its
    /// first module; the file's directory joins the search path for its imports).
    pub fn compile(&mut self, name_or_file: &str) -> Result<CompiledModule, Error> {
        let path = Path::new(name_or_file);
        let name = if path.is_file() {
            if let Some(dir) = path.parent() {
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                if !self.search.iter().any(|d| d == dir) {
                    self.search.push(dir.to_path_buf());
                }
            }
            self.load_file(path)?
        } else {
            name_or_file.to_string()
        };
        self.load_with_imports(&name)?;
        Resolver::new(&self.loaded).compile(&name)
    }

    /// Compiles the first module of `text` (named `file` in errors); imports come from the
    /// search path.
    pub fn compile_text(&mut self, text: &str, file: &str) -> Result<CompiledModule, Error> {
        let name = self.add_text(text, Path::new(file))?;
        self.load_with_imports(&name)?;
        Resolver::new(&self.loaded).compile(&name)
    }

    fn add_text(&mut self, text: &str, file: &Path) -> Result<String, Error> {
        let modules = parser::parse(text).map_err(|e| e.in_file(file))?;
        let mut first = None;
        for m in modules {
            let name = m.name.name.clone();
            first.get_or_insert_with(|| name.clone());
            self.loaded.insert(name, Loaded::new(file.to_path_buf(), m));
        }
        first.ok_or_else(|| Error::at(file, Pos { line: 1, column: 1 }, "no module in the file"))
    }

    fn load_file(&mut self, path: &Path) -> Result<String, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
        // MIB files are ASCII; a stray Latin-1 octet in a comment must not stop the compile.
        let text = String::from_utf8_lossy(&bytes);
        self.add_text(&text, path)
    }

    /// Loads `name` and everything it imports, transitively.
    fn load_with_imports(&mut self, name: &str) -> Result<(), Error> {
        // Each module with the import that asked for it (for the error if it is missing).
        let mut stack: Vec<(String, Option<(PathBuf, Pos)>)> = vec![(name.to_string(), None)];
        while let Some((module, wanted_by)) = stack.pop() {
            if !self.loaded.contains_key(&module) {
                match self.find(&module) {
                    Some(path) => {
                        self.load_file(&path)?;
                        if !self.loaded.contains_key(&module) {
                            return Err(Error::at(
                                &path,
                                Pos { line: 1, column: 1 },
                                format!(
                                    "expected module {module} in this file (its name says so), found {}",
                                    self.modules_in(&path).join(", ")
                                ),
                            ));
                        }
                    }
                    None => {
                        let searched = self
                            .search
                            .iter()
                            .map(|d| d.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ");
                        return Err(match wanted_by {
                            Some((file, pos)) => Error::at(
                                file,
                                pos,
                                format!(
                                    "unknown module {module} in IMPORTS (not found on the search path: {searched})"
                                ),
                            ),
                            None => Error::ModuleNotFound { module, searched },
                        });
                    }
                }
            }
            if let Some(m) = self.loaded.get(&module) {
                for imp in &m.ast.imports {
                    if !self.loaded.contains_key(&imp.module.name) {
                        stack.push((
                            imp.module.name.clone(),
                            Some((m.file.clone(), imp.module.pos)),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The modules loaded from `path`.
    fn modules_in(&self, path: &Path) -> Vec<String> {
        self.loaded
            .iter()
            .filter(|(_, m)| m.file == path)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The file holding module `name` on the search path.
    fn find(&mut self, name: &str) -> Option<PathBuf> {
        for dir in self.search.clone() {
            for ext in EXTENSIONS {
                let p = dir.join(format!("{name}{ext}"));
                if p.is_file() {
                    return Some(p);
                }
            }
            let index = self
                .scanned
                .entry(dir.clone())
                .or_insert_with(|| scan_dir(&dir));
            if let Some(p) = index.get(name) {
                return Some(p.clone());
            }
        }
        None
    }
}

/// Module name → file, for every readable file of `dir` (by its header).
fn scan_dir(dir: &Path) -> HashMap<String, PathBuf> {
    let mut out = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if !p.is_file() {
            continue;
        }
        if let Ok(bytes) = std::fs::read(&p) {
            if let Some(n) = parser::module_name(&String::from_utf8_lossy(&bytes)) {
                out.entry(n).or_insert(p);
            }
        }
    }
    out
}

impl CompiledModule {
    /// The Rust module's file name for this MIB module (`IF-MIB` → `if_mib.rs`).
    pub fn rust_file_name(&self) -> String {
        format!("{}.rs", names::module(&self.name))
    }

    /// The generated Rust source.
    pub fn to_rust(&self) -> String {
        codegen::generate(self)
    }

    /// Writes the generated Rust source into `dir` as [`rust_file_name`](Self::rust_file_name);
    /// returns the path written.
    pub fn write_rust(&self, dir: impl AsRef<Path>) -> Result<PathBuf, Error> {
        let path = dir.as_ref().join(self.rust_file_name());
        self.write_rust_to(&path)?;
        Ok(path)
    }

    /// Writes the generated Rust source to `path`.
    pub fn write_rust_to(&self, path: &Path) -> Result<(), Error> {
        std::fs::write(path, self.to_rust()).map_err(|e| Error::io(path, &e))
    }

    /// The object tree as text: OID, name, kind, syntax, access (for `netcu compile mib /LIST`).
    pub fn list(&self) -> String {
        list::render(self)
    }
}
