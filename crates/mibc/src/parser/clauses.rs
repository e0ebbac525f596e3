//! The clauses of the SMI macro invocations that carry data: OBJECT-TYPE (with DEFVAL),
//! NOTIFICATION-TYPE and TRAP-TYPE.

use super::{Parser, R};
use crate::ast::*;
use crate::error::SyntaxError;
use crate::lexer::Tok;

impl Parser {
    pub(super) fn object_type(&mut self) -> R<ObjectType> {
        let macro_name = self.name("OBJECT-TYPE")?;
        let mut syntax = None;
        let mut o = ObjectType {
            macro_name,
            syntax: TypeAst {
                pos: self.pos(),
                kind: TypeKind::Null,
                constraint: Constraint::None,
            },
            units: None,
            access: None,
            status: None,
            description: None,
            index: Vec::new(),
            augments: None,
            defval: None,
            oid: OidValue {
                pos: self.pos(),
                parts: Vec::new(),
            },
        };
        loop {
            if self.peek() == Some(&Tok::Assign) {
                self.at += 1;
                break;
            }
            let clause =
                self.name("an OBJECT-TYPE clause (SYNTAX, MAX-ACCESS, STATUS, ...) or `::=`")?;
            match clause.name.as_str() {
                "SYNTAX" => syntax = Some(self.type_ast()?),
                "UNITS" => o.units = Some(self.string("the UNITS string")?),
                "MAX-ACCESS" | "ACCESS" | "MIN-ACCESS" => {
                    o.access = Some(self.name("an access (read-only, read-write, ...)")?)
                }
                "STATUS" => o.status = Some(self.name("a status")?),
                "DESCRIPTION" => o.description = Some(self.string("the DESCRIPTION string")?),
                "REFERENCE" => {
                    self.string("the REFERENCE string")?;
                }
                "INDEX" => {
                    self.expect_punct('{')?;
                    loop {
                        let implied = self.eat_ident("IMPLIED");
                        let name = self.name("an index object")?;
                        o.index.push(IndexItem { name, implied });
                        if self.eat_punct('}') {
                            break;
                        }
                        if !self.eat_punct(',') {
                            return self.err("`,` or `}`");
                        }
                    }
                }
                "AUGMENTS" => {
                    let mut l = self.name_list("the augmented entry")?;
                    o.augments = l.pop();
                }
                "DEFVAL" => o.defval = Some(self.defval()?),
                _ => {
                    return Err(SyntaxError::new(
                        clause.pos,
                        format!(
                            "expected an OBJECT-TYPE clause (SYNTAX, UNITS, MAX-ACCESS, STATUS, DESCRIPTION, REFERENCE, INDEX, AUGMENTS, DEFVAL) or `::=`, found `{}`",
                            clause.name
                        ),
                    ))
                }
            }
        }
        o.syntax = match syntax {
            Some(s) => s,
            None => {
                return Err(SyntaxError::new(
                    o.macro_name.pos,
                    "OBJECT-TYPE without SYNTAX",
                ))
            }
        };
        o.oid = self.oid_value()?;
        Ok(o)
    }

    fn defval(&mut self) -> R<DefVal> {
        self.expect_punct('{')?;
        let pos = self.pos();
        let v = match self.next().map(|t| t.tok) {
            Some(Tok::Number(n)) => DefVal::Number(n),
            Some(Tok::Str(s)) => DefVal::Str(s),
            Some(Tok::Hex(h)) => DefVal::Hex(h),
            Some(Tok::Bin(b)) => DefVal::Bin(b),
            Some(Tok::Ident(i)) => DefVal::Ident(i),
            Some(Tok::Punct('{')) => {
                let mut items = Vec::new();
                loop {
                    match self.next().map(|t| t.tok) {
                        Some(Tok::Punct('}')) => break,
                        Some(Tok::Punct(',')) => {}
                        Some(Tok::Ident(i)) => items.push(i),
                        Some(Tok::Number(n)) => items.push(n.to_string()),
                        Some(Tok::Punct('(' | ')')) => {}
                        _ => {
                            self.at = self.at.saturating_sub(1);
                            return self.err("a name, a number or `}` in the DEFVAL");
                        }
                    }
                }
                DefVal::Braces(items)
            }
            _ => {
                return Err(SyntaxError::new(pos, "expected a DEFVAL value"));
            }
        };
        self.expect_punct('}')?;
        Ok(v)
    }

    pub(super) fn notification(&mut self) -> R<DefKind> {
        let macro_name = self.name("NOTIFICATION-TYPE")?;
        let mut objects = Vec::new();
        let mut status = None;
        loop {
            if self.peek() == Some(&Tok::Assign) {
                self.at += 1;
                break;
            }
            let clause = self.name("a NOTIFICATION-TYPE clause or `::=`")?;
            match clause.name.as_str() {
                "OBJECTS" => objects = self.name_list("an object")?,
                "STATUS" => status = Some(self.name("a status")?),
                "DESCRIPTION" | "REFERENCE" => {
                    self.string("a string")?;
                }
                _ => {
                    return Err(SyntaxError::new(
                        clause.pos,
                        format!(
                            "expected OBJECTS, STATUS, DESCRIPTION, REFERENCE or `::=`, found `{}`",
                            clause.name
                        ),
                    ))
                }
            }
        }
        Ok(DefKind::Notification {
            macro_name,
            objects,
            status,
            oid: self.oid_value()?,
        })
    }

    pub(super) fn trap(&mut self) -> R<DefKind> {
        let macro_name = self.name("TRAP-TYPE")?;
        let mut enterprise = None;
        let mut variables = Vec::new();
        loop {
            if self.peek() == Some(&Tok::Assign) {
                self.at += 1;
                break;
            }
            let clause = self.name("a TRAP-TYPE clause or `::=`")?;
            match clause.name.as_str() {
                "ENTERPRISE" => enterprise = Some(self.name("the enterprise OID name")?),
                "VARIABLES" => variables = self.name_list("an object")?,
                "DESCRIPTION" | "REFERENCE" => {
                    self.string("a string")?;
                }
                _ => {
                    return Err(SyntaxError::new(
                        clause.pos,
                        format!("expected ENTERPRISE, VARIABLES, DESCRIPTION, REFERENCE or `::=`, found `{}`", clause.name),
                    ))
                }
            }
        }
        let number = self.u32_number("the trap number")?;
        let enterprise = enterprise
            .ok_or_else(|| SyntaxError::new(macro_name.pos, "TRAP-TYPE without ENTERPRISE"))?;
        Ok(DefKind::Trap {
            macro_name,
            enterprise,
            variables,
            number,
        })
    }
}
