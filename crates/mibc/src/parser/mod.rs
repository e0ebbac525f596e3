//! A hand-written recursive-descent parser from tokens to [`crate::ast::Module`]s.
//!
//! It knows the SMI macros (OBJECT-TYPE, MODULE-IDENTITY, TEXTUAL-CONVENTION, ...) by their
//! clauses; the definitions of the macros themselves are skipped, as are the clauses of
//! conformance macros (OBJECT-GROUP, MODULE-COMPLIANCE, ...) whose contents the generated
//! code does not need. Every error names the token found and what was expected.

use crate::ast::*;
use crate::error::{Pos, SyntaxError};
use crate::lexer::{tokenize, Tok, Token};

/// Parses every module of a file's text.
pub fn parse(text: &str) -> Result<Vec<Module>, SyntaxError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let mut modules = Vec::new();
    while !p.at_end() {
        modules.push(p.module()?);
    }
    if modules.is_empty() {
        return Err(SyntaxError::new(
            Pos { line: 1, column: 1 },
            "no module here (expected `NAME DEFINITIONS ::= BEGIN`)",
        ));
    }
    Ok(modules)
}

/// The name of the first module in `text`, read from its header only (for finding a module
/// among files whose names do not say).
pub fn module_name(text: &str) -> Option<String> {
    // Only the start of the file is lexed: a header is a few tokens after any comments.
    let head: String = text.chars().take(8192).collect();
    let tokens = tokenize(&head)
        .or_else(|e| {
            // The cut may fall inside a string; the tokens before it are enough.
            let line = usize::try_from(e.pos.line).unwrap_or(1);
            let before: Vec<&str> = head.lines().take(line.saturating_sub(1)).collect();
            tokenize(&before.join("\n"))
        })
        .ok()?;
    let mut it = tokens.iter();
    let Some(Token {
        tok: Tok::Ident(name),
        ..
    }) = it.next()
    else {
        return None;
    };
    let mut rest = it.skip_while(|t| !matches!(&t.tok, Tok::Ident(s) if s == "DEFINITIONS"));
    rest.next().map(|_| name.clone())
}

/// Macros whose invocations carry only an OID value that the compiler needs.
const NODE_MACROS: &[&str] = &[
    "MODULE-IDENTITY",
    "OBJECT-IDENTITY",
    "OBJECT-GROUP",
    "NOTIFICATION-GROUP",
    "MODULE-COMPLIANCE",
    "AGENT-CAPABILITIES",
];

/// Nesting of types (SEQUENCE, CHOICE, tags) beyond which input is refused: no MIB comes
/// near it, and the recursive descent must not exhaust the stack on hostile input.
const MAX_NESTING: usize = 32;

/// Whether a word reads as a macro name: capitals, digits and hyphens, with a hyphen
/// (`OBJECT-TYPE`, `VENDOR-TYPE`), unlike the ASN.1 types (`INTEGER`, `OCTET`).
fn is_macro_name(w: &str) -> bool {
    w.contains('-')
        && w.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

type R<T> = Result<T, SyntaxError>;

impl Parser {
    fn at_end(&self) -> bool {
        self.at >= self.tokens.len()
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.tokens.get(self.at + n).map(|t| &t.tok)
    }

    /// Where the next token is (or the last one, at the end).
    fn pos(&self) -> Pos {
        self.tokens
            .get(self.at)
            .or_else(|| self.tokens.last())
            .map(|t| t.pos)
            .unwrap_or_default()
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        if t.is_some() {
            self.at += 1;
        }
        t
    }

    fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "the end of the file".to_string(), Tok::describe)
    }

    fn err<T>(&self, expected: &str) -> R<T> {
        Err(SyntaxError::new(
            self.pos(),
            format!("expected {expected}, found {}", self.found()),
        ))
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == word)
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    fn eat_ident(&mut self, word: &str) -> bool {
        if self.is_ident(word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.is_punct(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_ident(&mut self, word: &str) -> R<()> {
        if self.eat_ident(word) {
            Ok(())
        } else {
            self.err(&format!("`{word}`"))
        }
    }

    fn expect_punct(&mut self, c: char) -> R<()> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            self.err(&format!("`{c}`"))
        }
    }

    fn expect_assign(&mut self) -> R<()> {
        if self.peek() == Some(&Tok::Assign) {
            self.at += 1;
            Ok(())
        } else {
            self.err("`::=`")
        }
    }

    fn name(&mut self, what: &str) -> R<Name> {
        let pos = self.pos();
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let name = s.clone();
                self.at += 1;
                Ok(Name { name, pos })
            }
            _ => self.err(what),
        }
    }

    fn string(&mut self, what: &str) -> R<String> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.at += 1;
                Ok(s)
            }
            _ => self.err(what),
        }
    }

    fn number(&mut self, what: &str) -> R<i128> {
        match self.peek() {
            Some(Tok::Number(n)) => {
                let n = *n;
                self.at += 1;
                Ok(n)
            }
            _ => self.err(what),
        }
    }

    fn u32_number(&mut self, what: &str) -> R<u32> {
        let pos = self.pos();
        let n = self.number(what)?;
        u32::try_from(n).map_err(|_| SyntaxError::new(pos, format!("{n} is not {what}")))
    }

    fn module(&mut self) -> R<Module> {
        let name = self.name("a module name (`NAME DEFINITIONS ::= BEGIN`)")?;
        if self.is_punct('{') {
            self.oid_value()?; // the module's own OID, as some SMIv1 modules write it
        }
        self.expect_ident("DEFINITIONS")?;
        if self.eat_ident("IMPLICIT") || self.eat_ident("EXPLICIT") || self.eat_ident("AUTOMATIC") {
            self.expect_ident("TAGS")?;
        }
        self.expect_assign()?;
        self.expect_ident("BEGIN")?;
        let mut module = Module {
            name,
            imports: Vec::new(),
            defs: Vec::new(),
        };
        loop {
            if self.eat_ident("END") {
                return Ok(module);
            }
            if self.at_end() {
                return self.err(&format!("`END` of module {}", module.name.name));
            }
            if self.eat_ident("EXPORTS") {
                while !self.eat_punct(';') {
                    if self.next().is_none() {
                        return self.err("`;` after EXPORTS");
                    }
                }
            } else if self.eat_ident("IMPORTS") {
                module.imports.extend(self.imports()?);
            } else {
                module.defs.push(self.def()?);
            }
        }
    }

    fn imports(&mut self) -> R<Vec<Import>> {
        let mut out = Vec::new();
        let mut symbols = Vec::new();
        loop {
            if self.eat_punct(';') {
                if let Some(s) = symbols.first() {
                    let s: &Name = s;
                    return Err(SyntaxError::new(
                        s.pos,
                        format!("expected `FROM MODULE` after `{}`", s.name),
                    ));
                }
                return Ok(out);
            }
            if self.eat_ident("FROM") {
                let module = self.name("a module name after FROM")?;
                if symbols.is_empty() {
                    return Err(SyntaxError::new(module.pos, "expected symbols before FROM"));
                }
                out.push(Import {
                    module,
                    symbols: std::mem::take(&mut symbols),
                });
                continue;
            }
            symbols.push(self.name("an imported symbol, `FROM` or `;`")?);
            self.eat_punct(',');
        }
    }

    fn def(&mut self) -> R<Def> {
        let name = self.name("a definition (a name followed by `::=`, OBJECT-TYPE, ...)")?;
        let kind = match self.peek() {
            Some(Tok::Assign) => {
                self.at += 1;
                DefKind::Type(self.type_assignment()?)
            }
            Some(Tok::Ident(w)) => {
                let w = w.clone();
                match w.as_str() {
                    "OBJECT" if self.peek_at(1) == Some(&Tok::Ident("IDENTIFIER".into())) => {
                        self.at += 2;
                        self.expect_assign()?;
                        DefKind::ObjectIdentifier(self.oid_value()?)
                    }
                    "MACRO" => {
                        self.at += 1;
                        self.expect_assign()?;
                        self.expect_ident("BEGIN")?;
                        while !self.eat_ident("END") {
                            if self.next().is_none() {
                                return self.err("`END` of the macro definition");
                            }
                        }
                        DefKind::Macro
                    }
                    "OBJECT-TYPE" => DefKind::ObjectType(Box::new(self.object_type()?)),
                    "NOTIFICATION-TYPE" => self.notification()?,
                    "TRAP-TYPE" => self.trap()?,
                    m if NODE_MACROS.contains(&m) => {
                        let macro_name = self.name("a macro")?;
                        self.skip_clauses()?;
                        DefKind::Node {
                            macro_name,
                            oid: self.oid_value()?,
                        }
                    }
                    m if is_macro_name(m) && self.peek_at(1) != Some(&Tok::Assign) => {
                        // A macro the compiler does not know (a vendor's own): its clauses
                        // and value are skipped; it defines no node.
                        self.at += 1;
                        self.skip_clauses()?;
                        self.skip_value()?;
                        DefKind::OtherValue
                    }
                    _ => {
                        // A value of some other type (`x INTEGER ::= 5`): parse the type,
                        // skip the value.
                        self.type_ast()?;
                        self.expect_assign()?;
                        self.skip_value()?;
                        DefKind::OtherValue
                    }
                }
            }
            _ => {
                return self.err(&format!(
                    "`::=`, OBJECT IDENTIFIER or a macro after `{}`",
                    name.name
                ))
            }
        };
        Ok(Def { name, kind })
    }

    /// Skips a macro's clauses up to its `::=` (strings and braces are single or balanced).
    fn skip_clauses(&mut self) -> R<()> {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return self.err("`::=` ending the macro's clauses"),
                Some(Tok::Assign) if depth == 0 => {
                    self.at += 1;
                    return Ok(());
                }
                Some(Tok::Punct('{')) => depth += 1,
                Some(Tok::Punct('}')) => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.at += 1;
        }
    }

    /// Skips one value: a token or a balanced `{ ... }`.
    fn skip_value(&mut self) -> R<()> {
        if self.eat_punct('{') {
            let mut depth = 1usize;
            while depth > 0 {
                match self.next().map(|t| t.tok) {
                    None => return self.err("`}`"),
                    Some(Tok::Punct('{')) => depth += 1,
                    Some(Tok::Punct('}')) => depth -= 1,
                    _ => {}
                }
            }
            Ok(())
        } else if self.next().is_some() {
            Ok(())
        } else {
            self.err("a value")
        }
    }

    fn type_assignment(&mut self) -> R<TypeDef> {
        if self.is_ident("TEXTUAL-CONVENTION") {
            let tc = self.name("TEXTUAL-CONVENTION")?;
            let mut def = TypeDef {
                textual_convention: Some(tc),
                display_hint: None,
                status: None,
                syntax: TypeAst {
                    pos: self.pos(),
                    kind: TypeKind::Null,
                    constraint: Constraint::None,
                },
            };
            loop {
                if self.eat_ident("DISPLAY-HINT") {
                    def.display_hint = Some(self.string("the DISPLAY-HINT string")?);
                } else if self.eat_ident("STATUS") {
                    def.status = Some(self.name("a status")?);
                } else if self.eat_ident("DESCRIPTION") {
                    self.string("the DESCRIPTION string")?;
                } else if self.eat_ident("REFERENCE") {
                    self.string("the REFERENCE string")?;
                } else if self.eat_ident("SYNTAX") {
                    def.syntax = self.type_ast()?;
                    return Ok(def);
                } else {
                    return self.err("DISPLAY-HINT, STATUS, DESCRIPTION, REFERENCE or SYNTAX");
                }
            }
        }
        Ok(TypeDef {
            textual_convention: None,
            display_hint: None,
            status: None,
            syntax: self.type_ast()?,
        })
    }

    fn type_ast(&mut self) -> R<TypeAst> {
        if self.depth >= MAX_NESTING {
            return Err(SyntaxError::new(
                self.pos(),
                format!("types nested more than {MAX_NESTING} deep"),
            ));
        }
        self.depth += 1;
        let t = self.type_ast_inner();
        self.depth -= 1;
        t
    }

    fn type_ast_inner(&mut self) -> R<TypeAst> {
        let pos = self.pos();
        if self.eat_punct('[') {
            self.expect_ident("APPLICATION")?;
            let tag = self.u32_number("an application tag")?;
            self.expect_punct(']')?;
            if !self.eat_ident("IMPLICIT") {
                self.eat_ident("EXPLICIT");
            }
            let inner = self.type_ast()?;
            return Ok(TypeAst {
                pos,
                kind: TypeKind::Application(tag, Box::new(inner)),
                constraint: Constraint::None,
            });
        }
        let word = self.name("a type")?;
        let kind = match word.name.as_str() {
            "INTEGER" => TypeKind::Integer(self.named_numbers()?),
            "OCTET" => {
                self.expect_ident("STRING")?;
                TypeKind::OctetString
            }
            "OBJECT" => {
                self.expect_ident("IDENTIFIER")?;
                TypeKind::ObjectIdentifier
            }
            "NULL" => TypeKind::Null,
            "BITS" => {
                let named = self.named_numbers()?;
                let mut bits = Vec::new();
                for (n, v) in named {
                    let bit = u32::try_from(v).map_err(|_| {
                        SyntaxError::new(pos, format!("bit {n}({v}) must be 0 or more"))
                    })?;
                    bits.push((n, bit));
                }
                TypeKind::Bits(bits)
            }
            "SEQUENCE" => {
                if self.eat_ident("OF") {
                    TypeKind::SequenceOf(self.name("the entry type after SEQUENCE OF")?)
                } else {
                    TypeKind::Sequence(self.components()?)
                }
            }
            "CHOICE" => TypeKind::Choice(self.components()?),
            _ => TypeKind::Ref(word, self.named_numbers()?),
        };
        let constraint = self.constraint()?;
        Ok(TypeAst {
            pos,
            kind,
            constraint,
        })
    }

    /// `{ name Type, ... }` of SEQUENCE and CHOICE.
    fn components(&mut self) -> R<Vec<(Name, TypeAst)>> {
        self.expect_punct('{')?;
        let mut out = Vec::new();
        if self.eat_punct('}') {
            return Ok(out);
        }
        loop {
            let name = self.name("a component name")?;
            let t = self.type_ast()?;
            out.push((name, t));
            if self.eat_punct('}') {
                return Ok(out);
            }
            if !self.eat_punct(',') {
                return self.err("`,` or `}`");
            }
        }
    }

    /// An optional `{ name(number), ... }`.
    fn named_numbers(&mut self) -> R<Vec<(String, i128)>> {
        let mut out = Vec::new();
        if !self.eat_punct('{') {
            return Ok(out);
        }
        loop {
            let name = self.name("an enumeration label `name(number)`")?;
            self.expect_punct('(')?;
            let n = self.number("a number")?;
            self.expect_punct(')')?;
            if out.iter().any(|(l, _): &(String, i128)| *l == name.name) {
                return Err(SyntaxError::new(
                    name.pos,
                    format!("label {} given twice", name.name),
                ));
            }
            out.push((name.name, n));
            if self.eat_punct('}') {
                return Ok(out);
            }
            if !self.eat_punct(',') {
                return self.err("`,` or `}`");
            }
        }
    }

    fn constraint(&mut self) -> R<Constraint> {
        if !self.is_punct('(') {
            return Ok(Constraint::None);
        }
        self.at += 1;
        let c = if self.eat_ident("SIZE") {
            self.expect_punct('(')?;
            let r = self.ranges()?;
            self.expect_punct(')')?;
            Constraint::Size(r)
        } else {
            Constraint::Range(self.ranges()?)
        };
        self.expect_punct(')')?;
        Ok(c)
    }

    fn ranges(&mut self) -> R<Vec<(Bound, Bound)>> {
        let mut out = Vec::new();
        loop {
            let lo = self.bound()?;
            let hi = if self.peek() == Some(&Tok::Range) {
                self.at += 1;
                self.bound()?
            } else {
                lo
            };
            out.push((lo, hi));
            if !self.eat_punct('|') {
                return Ok(out);
            }
        }
    }

    fn bound(&mut self) -> R<Bound> {
        let pos = self.pos();
        match self.next().map(|t| t.tok) {
            Some(Tok::Number(n)) => Ok(Bound::Num(n)),
            Some(Tok::Ident(w)) if w == "MIN" => Ok(Bound::Min),
            Some(Tok::Ident(w)) if w == "MAX" => Ok(Bound::Max),
            Some(Tok::Hex(octets)) if octets.len() <= 8 => Ok(Bound::Num(
                octets
                    .iter()
                    .fold(0i128, |acc, &b| (acc << 8) | i128::from(b)),
            )),
            Some(Tok::Bin(bits)) if bits.len() <= 64 => Ok(Bound::Num(
                bits.chars()
                    .fold(0i128, |acc, b| (acc << 1) | i128::from(b == '1')),
            )),
            _ => {
                self.at = self.at.saturating_sub(1);
                Err(SyntaxError::new(
                    pos,
                    format!("expected a number, MIN or MAX, found {}", self.found()),
                ))
            }
        }
    }

    fn oid_value(&mut self) -> R<OidValue> {
        let pos = self.pos();
        self.expect_punct('{')?;
        let mut parts = Vec::new();
        loop {
            let at = self.pos();
            match self.next().map(|t| t.tok) {
                Some(Tok::Punct('}')) if !parts.is_empty() => return Ok(OidValue { pos, parts }),
                Some(Tok::Number(n)) => {
                    parts.push(OidPart::Number(u32::try_from(n).map_err(|_| {
                        SyntaxError::new(at, format!("OID arc {n} is out of range 0..4294967295"))
                    })?))
                }
                Some(Tok::Ident(name)) => {
                    let name = Name { name, pos: at };
                    if self.eat_punct('(') {
                        let n = self.u32_number("an OID arc")?;
                        self.expect_punct(')')?;
                        parts.push(OidPart::Named(name, n));
                    } else if parts.is_empty() {
                        parts.push(OidPart::Name(name));
                    } else {
                        return Err(SyntaxError::new(
                            at,
                            format!("expected a number in the OID value, found `{}` (only the first component may be a name)", name.name),
                        ));
                    }
                }
                _ => {
                    self.at = self.at.saturating_sub(1);
                    return self.err("an OID component (name or number) or `}`");
                }
            }
        }
    }

    fn name_list(&mut self, what: &str) -> R<Vec<Name>> {
        self.expect_punct('{')?;
        let mut out = Vec::new();
        loop {
            out.push(self.name(what)?);
            if self.eat_punct('}') {
                return Ok(out);
            }
            if !self.eat_punct(',') {
                return self.err("`,` or `}`");
            }
        }
    }
}

mod clauses;

#[cfg(test)]
mod tests;
