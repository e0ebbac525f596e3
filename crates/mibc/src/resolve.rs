//! Name resolution over the loaded modules: OIDs through parents and imports, types through
//! textual conventions down to their base type, rows' indexes (through AUGMENTS), and the
//! checks that every name used is defined or imported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::ast::{self, Bound, Constraint, DefKind, Name, OidPart, TypeAst, TypeKind};
use crate::error::{Error, Pos};
use crate::model::{Access, BaseType, CompiledModule, IndexPart, Node, NodeKind, Syntax};

/// A parsed module with its symbol tables.
#[derive(Debug)]
pub struct Loaded {
    /// Where it came from.
    pub file: PathBuf,
    /// Its syntax tree.
    pub ast: ast::Module,
    /// Definition name → index into `ast.defs`.
    pub defs: HashMap<String, usize>,
    /// Imported name → the module it comes from.
    pub imports: HashMap<String, String>,
}

impl Loaded {
    /// Indexes a parsed module.
    pub fn new(file: PathBuf, ast: ast::Module) -> Loaded {
        let defs = ast
            .defs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.name.clone(), i))
            .collect();
        let imports = ast
            .imports
            .iter()
            .flat_map(|i| {
                i.symbols
                    .iter()
                    .map(move |s| (s.name.clone(), i.module.name.clone()))
            })
            .collect();
        Loaded {
            file,
            ast,
            defs,
            imports,
        }
    }
}

/// Symbols every module may use without importing them (ASN.1's own).
const ROOTS: &[(&str, u32)] = &[("ccitt", 0), ("iso", 1), ("joint-iso-ccitt", 2)];

/// Names that may be imported although no SMI module defines them as assignments: BITS is a
/// construct of SNMPv2-SMI's OBJECT-TYPE macro, and some modules import it.
const IMPORTABLE_CONSTRUCTS: &[&str] = &["BITS"];

/// Nesting beyond which a chain of types or AUGMENTS is taken for a loop.
const MAX_DEPTH: usize = 64;

/// Length beyond which a chain of OID parents is taken for a loop (real chains are ~15 long).
const MAX_OID_CHAIN: usize = 512;

/// The resolver over a set of loaded modules.
pub struct Resolver<'a> {
    modules: &'a BTreeMap<String, Loaded>,
    oids: HashMap<(String, String), Vec<u32>>,
}

type R<T> = Result<T, Error>;

impl<'a> Resolver<'a> {
    /// A resolver over `modules` (every module the one compiled imports, transitively).
    pub fn new(modules: &'a BTreeMap<String, Loaded>) -> Self {
        Resolver {
            modules,
            oids: HashMap::new(),
        }
    }

    fn module(&self, name: &str) -> R<&'a Loaded> {
        self.modules.get(name).ok_or_else(|| Error::ModuleNotFound {
            module: name.to_string(),
            searched: "(not loaded)".into(),
        })
    }

    fn err(&self, module: &str, pos: Pos, message: String) -> Error {
        let file = self
            .modules
            .get(module)
            .map_or_else(|| Path::new(module).to_path_buf(), |m| m.file.clone());
        Error::at(file, pos, message)
    }

    /// Finds the definition of `name` as seen from `module` (its own or an import), or `None`
    /// for a name neither defines nor imports.
    fn lookup(&self, module: &str, name: &str) -> R<Option<(&'a str, &'a ast::Def)>> {
        let mut module = module;
        // Imports are one hop by the SMI's rules; a few more are tolerated, not loops.
        for _ in 0..8 {
            let m = self.module(module)?;
            if let Some(&i) = m.defs.get(name) {
                return Ok(m.ast.defs.get(i).map(|d| (m.ast.name.name.as_str(), d)));
            }
            match m.imports.get(name) {
                Some(from) => module = from,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Checks that every module imported exists and defines what is imported from it.
    pub fn check_imports(&self, module: &str) -> R<()> {
        let m = self.module(module)?;
        for imp in &m.ast.imports {
            let Some(from) = self.modules.get(&imp.module.name) else {
                return Err(self.err(
                    module,
                    imp.module.pos,
                    format!("unknown module {} in IMPORTS", imp.module.name),
                ));
            };
            for s in &imp.symbols {
                if !from.defs.contains_key(&s.name)
                    && !IMPORTABLE_CONSTRUCTS.contains(&s.name.as_str())
                {
                    return Err(self.err(
                        module,
                        s.pos,
                        format!(
                            "unknown import: {} is not defined in {}",
                            s.name, imp.module.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that a macro used is imported or defined here.
    fn check_macro(&self, module: &str, macro_name: &Name) -> R<()> {
        if self.lookup(module, &macro_name.name)?.is_some() {
            return Ok(());
        }
        Err(self.err(
            module,
            macro_name.pos,
            format!(
                "{} is used but not imported (expected it in IMPORTS, e.g. from SNMPv2-SMI)",
                macro_name.name
            ),
        ))
    }

    /// The OID of `name` as seen from `module`.
    pub fn oid_of(&mut self, module: &str, name: &Name) -> R<Vec<u32>> {
        self.oid_depth(module, name, 0)
    }

    fn oid_depth(&mut self, module: &str, name: &Name, depth: usize) -> R<Vec<u32>> {
        if let Some(&(_, arc)) = ROOTS.iter().find(|(n, _)| *n == name.name) {
            if self.lookup(module, &name.name)?.is_none() {
                return Ok(vec![arc]);
            }
        }
        let Some((owner, def)) = self.lookup(module, &name.name)? else {
            return Err(self.err(
                module,
                name.pos,
                format!(
                    "undefined symbol {} (not defined here nor imported)",
                    name.name
                ),
            ));
        };
        let key = (owner.to_string(), name.name.clone());
        if let Some(o) = self.oids.get(&key) {
            return Ok(o.clone());
        }
        if depth > MAX_OID_CHAIN {
            return Err(self.err(
                module,
                name.pos,
                format!(
                    "the OID of {} refers to itself (or its parents chain more than {MAX_OID_CHAIN} deep)",
                    name.name
                ),
            ));
        }
        let value = match &def.kind {
            DefKind::ObjectIdentifier(v) => v,
            DefKind::Node { oid, .. } | DefKind::Notification { oid, .. } => oid,
            DefKind::ObjectType(o) => &o.oid,
            DefKind::Trap { .. } | DefKind::Type(_) | DefKind::Macro | DefKind::OtherValue => {
                return Err(self.err(
                    module,
                    name.pos,
                    format!("{} is not an OBJECT IDENTIFIER value", name.name),
                ))
            }
        };
        let oid = self.value_depth(owner, value, depth + 1)?;
        self.oids.insert(key, oid.clone());
        Ok(oid)
    }

    fn value_depth(&mut self, module: &str, v: &ast::OidValue, depth: usize) -> R<Vec<u32>> {
        let mut out = Vec::new();
        for (i, p) in v.parts.iter().enumerate() {
            match p {
                OidPart::Name(n) if i == 0 => out = self.oid_depth(module, n, depth)?,
                OidPart::Name(n) => {
                    return Err(self.err(
                        module,
                        n.pos,
                        format!("expected a number, found `{}`", n.name),
                    ))
                }
                OidPart::Number(a) | OidPart::Named(_, a) => out.push(*a),
            }
        }
        if out.len() > 128 {
            return Err(self.err(module, v.pos, "an OID has at most 128 arcs".into()));
        }
        Ok(out)
    }

    /// Resolves a type as written in `module`.
    pub fn syntax(&self, module: &str, t: &TypeAst) -> R<Syntax> {
        self.syntax_depth(module, t, 0)
    }

    fn syntax_depth(&self, module: &str, t: &TypeAst, depth: usize) -> R<Syntax> {
        if depth > MAX_DEPTH {
            return Err(self.err(module, t.pos, "this type refers to itself".into()));
        }
        let mut s = match &t.kind {
            TypeKind::Integer(e) => {
                let mut s = Syntax::base(BaseType::Integer);
                s.enums = e.clone();
                s
            }
            TypeKind::OctetString => Syntax::base(BaseType::OctetString),
            TypeKind::ObjectIdentifier => Syntax::base(BaseType::ObjectIdentifier),
            TypeKind::Null => Syntax::base(BaseType::Null),
            TypeKind::Bits(b) => {
                let mut s = Syntax::base(BaseType::Bits);
                s.enums = b.iter().map(|(n, v)| (n.clone(), i128::from(*v))).collect();
                s
            }
            TypeKind::Sequence(cols) => {
                for (_, ct) in cols {
                    self.syntax_depth(module, ct, depth + 1)?;
                }
                Syntax::base(BaseType::Sequence)
            }
            TypeKind::SequenceOf(entry) => {
                let mut s = Syntax::base(BaseType::SequenceOf);
                s.name = format!("SEQUENCE OF {}", entry.name);
                s.entry_type = Some(entry.name.clone());
                s
            }
            // SMIv1's NetworkAddress is a CHOICE of one: IpAddress. A CHOICE is taken as its
            // first alternative (the SMI's other CHOICEs are never an object's syntax).
            TypeKind::Choice(alts) => match alts.first() {
                Some((_, a)) => self.syntax_depth(module, a, depth + 1)?,
                None => Syntax::base(BaseType::Null),
            },
            TypeKind::Application(tag, inner) => {
                let mut s = self.syntax_depth(module, inner, depth + 1)?;
                s.base = match tag {
                    0 => BaseType::IpAddress,
                    1 => BaseType::Counter32,
                    2 | 7 => BaseType::Gauge32,
                    3 => BaseType::TimeTicks,
                    4 => BaseType::Opaque,
                    6 => BaseType::Counter64,
                    _ => {
                        return Err(self.err(
                            module,
                            t.pos,
                            format!("unknown application tag [APPLICATION {tag}]"),
                        ))
                    }
                };
                s.name = s.base.smi_name().to_string();
                s
            }
            TypeKind::Ref(name, enums) => {
                let mut s = self.named_type(module, name, depth)?;
                if !enums.is_empty() {
                    s.enums = enums.clone();
                }
                s
            }
        };
        match &t.constraint {
            Constraint::None => {}
            Constraint::Range(r) => {
                let (lo, hi) = s.base.full_range();
                s.ranges = r
                    .iter()
                    .map(|&(a, b)| (bound(a, lo, hi), bound(b, lo, hi)))
                    .collect();
                if let Some((a, b)) = s.ranges.iter().find(|(a, b)| a > b) {
                    return Err(self.err(module, t.pos, format!("empty range {a}..{b}")));
                }
            }
            Constraint::Size(r) => {
                let mut sizes = Vec::new();
                for &(a, b) in r {
                    let a = bound(a, 0, 65535);
                    let b = bound(b, 0, 65535);
                    match (u64::try_from(a), u64::try_from(b)) {
                        (Ok(a), Ok(b)) if a <= b => sizes.push((a, b)),
                        _ => {
                            return Err(self.err(
                                module,
                                t.pos,
                                format!("bad SIZE {a}..{b} (expected 0 or more, low to high)"),
                            ))
                        }
                    }
                }
                s.sizes = sizes;
            }
        }
        Ok(s)
    }

    fn named_type(&self, module: &str, name: &Name, depth: usize) -> R<Syntax> {
        let Some((owner, def)) = self.lookup(module, &name.name)? else {
            return Err(self.err(
                module,
                name.pos,
                format!(
                    "undefined type {} (not defined here nor imported)",
                    name.name
                ),
            ));
        };
        let DefKind::Type(td) = &def.kind else {
            return Err(self.err(module, name.pos, format!("{} is not a type", name.name)));
        };
        let mut s = self.syntax_depth(owner, &td.syntax, depth + 1)?;
        if td.display_hint.is_some() {
            s.display_hint = td.display_hint.clone();
        }
        if s.base == BaseType::Sequence {
            s.entry_type = Some(name.name.clone());
        }
        s.name = name.name.clone();
        s.named = Some((owner.to_string(), name.name.clone()));
        Ok(s)
    }

    /// The OBJECT-TYPE `name` as seen from `module`: its owner and definition.
    fn object(&self, module: &str, name: &Name) -> R<(&'a str, &'a ast::ObjectType)> {
        match self.lookup(module, &name.name)? {
            Some((
                owner,
                ast::Def {
                    kind: DefKind::ObjectType(o),
                    ..
                },
            )) => Ok((owner, o)),
            Some(_) => Err(self.err(
                module,
                name.pos,
                format!("{} is not an OBJECT-TYPE", name.name),
            )),
            None => Err(self.err(
                module,
                name.pos,
                format!(
                    "undefined symbol {} (not defined here nor imported)",
                    name.name
                ),
            )),
        }
    }

    /// OBJECTS / VARIABLES: each must be an OBJECT-TYPE; their names and OIDs.
    fn notification_objects(&mut self, module: &str, names: &[Name]) -> R<Vec<(String, Vec<u32>)>> {
        let mut out = Vec::new();
        for o in names {
            self.object(module, o)?;
            out.push((o.name.clone(), self.oid_of(module, o)?));
        }
        Ok(out)
    }

    /// The index of a row: its INDEX objects, or those of the row it AUGMENTS.
    fn index_of(&self, module: &str, o: &ast::ObjectType, depth: usize) -> R<Vec<IndexPart>> {
        if let Some(aug) = &o.augments {
            if depth > MAX_DEPTH {
                return Err(self.err(module, aug.pos, "AUGMENTS loops".into()));
            }
            let (owner, target) = self.object(module, aug)?;
            if target.index.is_empty() && target.augments.is_none() {
                return Err(self.err(
                    module,
                    aug.pos,
                    format!("{} is not a row (it has no INDEX)", aug.name),
                ));
            }
            return self.index_of(owner, target, depth + 1);
        }
        let mut out = Vec::new();
        let last = o.index.len().saturating_sub(1);
        for (i, item) in o.index.iter().enumerate() {
            let (owner, obj) = self.object(module, &item.name)?;
            let syntax = self.syntax(owner, &obj.syntax)?;
            if item.implied && i != last {
                return Err(self.err(
                    module,
                    item.name.pos,
                    "IMPLIED is allowed on the last index object only".into(),
                ));
            }
            if !index_type_ok(&syntax) {
                return Err(self.err(
                    module,
                    item.name.pos,
                    format!(
                        "{} cannot be an index: its syntax {} is not an integer, string, OID or IpAddress",
                        item.name.name, syntax.name
                    ),
                ));
            }
            out.push(IndexPart {
                name: item.name.name.clone(),
                module: owner.to_string(),
                syntax,
                implied: item.implied,
            });
        }
        Ok(out)
    }

    /// Compiles one loaded module into its nodes.
    pub fn compile(&mut self, module: &str) -> R<CompiledModule> {
        self.check_imports(module)?;
        let m = self.module(module)?;
        let mut nodes = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for def in &m.ast.defs {
            if !seen.insert(def.name.name.as_str()) {
                return Err(self.err(
                    module,
                    def.name.pos,
                    format!("{} is defined twice", def.name.name),
                ));
            }
            if let Some(n) = self.node(module, def)? {
                nodes.push(n);
            }
        }
        // A row's columns are the objects right under it.
        let rows: Vec<Vec<u32>> = nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Entry)
            .map(|n| n.oid.clone())
            .collect();
        for n in nodes.iter_mut() {
            if n.kind == NodeKind::Scalar
                && n.oid
                    .split_last()
                    .is_some_and(|(_, parent)| rows.iter().any(|r| r == parent))
            {
                n.kind = NodeKind::Column;
            }
        }
        Ok(CompiledModule {
            name: module.to_string(),
            file: m.file.clone(),
            nodes,
        })
    }

    fn node(&mut self, module: &str, def: &ast::Def) -> R<Option<Node>> {
        let blank = |name: &Name, oid, kind| Node {
            name: name.name.clone(),
            oid,
            kind,
            pos: name.pos,
            syntax: None,
            access: None,
            status: None,
            units: None,
            description: None,
            defval: None,
            index: Vec::new(),
            augments: None,
            objects: Vec::new(),
        };
        Ok(Some(match &def.kind {
            DefKind::Macro | DefKind::OtherValue => return Ok(None),
            DefKind::Type(td) => {
                if let Some(tc) = &td.textual_convention {
                    self.check_macro(module, tc)?;
                }
                // Checked here so that an undefined type in a TC is reported even if unused.
                self.syntax(module, &td.syntax)?;
                return Ok(None);
            }
            DefKind::ObjectIdentifier(_) => {
                let oid = self.oid_of(module, &def.name)?;
                blank(&def.name, oid, NodeKind::ObjectIdentifier)
            }
            DefKind::Node { macro_name, .. } => {
                self.check_macro(module, macro_name)?;
                let oid = self.oid_of(module, &def.name)?;
                let kind = match macro_name.name.as_str() {
                    "MODULE-IDENTITY" => NodeKind::ModuleIdentity,
                    "OBJECT-IDENTITY" => NodeKind::ObjectIdentity,
                    _ => NodeKind::Conformance,
                };
                blank(&def.name, oid, kind)
            }
            DefKind::Notification {
                macro_name,
                objects,
                status,
                ..
            } => {
                self.check_macro(module, macro_name)?;
                let oid = self.oid_of(module, &def.name)?;
                let mut n = blank(&def.name, oid, NodeKind::Notification);
                n.objects = self.notification_objects(module, objects)?;
                n.status = status.as_ref().map(|s| s.name.clone());
                n
            }
            DefKind::Trap {
                macro_name,
                enterprise,
                variables,
                number,
            } => {
                self.check_macro(module, macro_name)?;
                // RFC 3584 3.1: the SMIv2 OID of an SMIv1 trap is enterprise.0.number.
                let mut oid = self.oid_of(module, enterprise)?;
                oid.extend([0, *number]);
                let mut n = blank(&def.name, oid, NodeKind::Trap);
                n.objects = self.notification_objects(module, variables)?;
                n
            }
            DefKind::ObjectType(o) => {
                self.check_macro(module, &o.macro_name)?;
                let oid = self.oid_of(module, &def.name)?;
                let syntax = self.syntax(module, &o.syntax)?;
                let access = match &o.access {
                    None => {
                        return Err(self.err(
                            module,
                            o.macro_name.pos,
                            format!("{} has no MAX-ACCESS (or ACCESS) clause", def.name.name),
                        ))
                    }
                    Some(a) => Access::from_keyword(&a.name).ok_or_else(|| {
                        self.err(
                            module,
                            a.pos,
                            format!(
                                "unknown access `{}` (expected not-accessible, accessible-for-notify, read-only, read-write, read-create or write-only)",
                                a.name
                            ),
                        )
                    })?,
                };
                let kind = match syntax.base {
                    BaseType::SequenceOf => NodeKind::Table,
                    BaseType::Sequence => NodeKind::Entry,
                    _ => NodeKind::Scalar,
                };
                let mut n = blank(&def.name, oid, kind);
                if kind == NodeKind::Entry {
                    if o.index.is_empty() && o.augments.is_none() {
                        return Err(self.err(
                            module,
                            def.name.pos,
                            format!("row {} has neither INDEX nor AUGMENTS", def.name.name),
                        ));
                    }
                    n.index = self.index_of(module, o, 0)?;
                    n.augments = o.augments.as_ref().map(|a| a.name.clone());
                }
                if kind == NodeKind::Table {
                    if let Some(e) = &syntax.entry_type {
                        self.named_type(
                            module,
                            &Name {
                                name: e.clone(),
                                pos: o.syntax.pos,
                            },
                            0,
                        )?;
                    }
                }
                n.syntax = Some(syntax);
                n.access = Some(access);
                n.status = o.status.as_ref().map(|s| s.name.clone());
                n.units = o.units.clone();
                n.description = o.description.clone();
                n.defval = o.defval.clone();
                n
            }
        }))
    }
}

fn bound(b: Bound, lo: i128, hi: i128) -> i128 {
    match b {
        Bound::Num(n) => n,
        Bound::Min => lo,
        Bound::Max => hi,
    }
}

/// RFC 2578 7.7: integers, strings, OIDs and IpAddress may index a row.
fn index_type_ok(s: &Syntax) -> bool {
    matches!(
        s.base,
        BaseType::Integer
            | BaseType::Gauge32
            | BaseType::Counter32
            | BaseType::TimeTicks
            | BaseType::OctetString
            | BaseType::Opaque
            | BaseType::Bits
            | BaseType::ObjectIdentifier
            | BaseType::IpAddress
    )
}
