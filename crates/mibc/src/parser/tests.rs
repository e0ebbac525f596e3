//! Parser tests: a module with every construct the generator needs, and errors with
//! positions.

use super::*;

const SMALL: &str = r#"
TEST-MIB DEFINITIONS ::= BEGIN
IMPORTS
MODULE-IDENTITY, OBJECT-TYPE, Integer32, enterprises FROM SNMPv2-SMI
DisplayString FROM SNMPv2-TC;

testMIB MODULE-IDENTITY
LAST-UPDATED "202611220000Z"
ORGANIZATION "x"
CONTACT-INFO "y"
DESCRIPTION "z"
REVISION "202611220000Z" DESCRIPTION "first"
::= { enterprises 99999 }

Small ::= TEXTUAL-CONVENTION
DISPLAY-HINT "d"
STATUS current
DESCRIPTION "a small number"
SYNTAX Integer32 (0..10 | 20)

testTable OBJECT-TYPE
SYNTAX SEQUENCE OF TestEntry
MAX-ACCESS not-accessible
STATUS current
DESCRIPTION "t"
::= { testMIB 1 }

testEntry OBJECT-TYPE
SYNTAX TestEntry
MAX-ACCESS not-accessible
STATUS current
DESCRIPTION "e"
INDEX { testIndex, IMPLIED testName }
::= { testTable 1 }

TestEntry ::= SEQUENCE { testIndex Integer32, testName DisplayString }

testName OBJECT-TYPE
SYNTAX DisplayString (SIZE (1..32))
MAX-ACCESS read-create
STATUS current
DESCRIPTION "n"
DEFVAL { "x" }
::= { testEntry 2 }
END
"#;

#[test]
fn parses_a_module() {
    let m = parse(SMALL).unwrap();
    let m = &m[0];
    assert_eq!(m.name.name, "TEST-MIB");
    assert_eq!(m.imports.len(), 2);
    assert_eq!(m.imports[0].symbols.len(), 4);
    assert_eq!(m.imports[1].module.name, "SNMPv2-TC");
    assert_eq!(m.defs.len(), 6);
    let DefKind::Type(tc) = &m.defs[1].kind else {
        panic!("not a type")
    };
    assert!(tc.textual_convention.is_some());
    assert_eq!(
        tc.syntax.constraint,
        Constraint::Range(vec![
            (Bound::Num(0), Bound::Num(10)),
            (Bound::Num(20), Bound::Num(20))
        ])
    );
    let DefKind::ObjectType(e) = &m.defs[3].kind else {
        panic!("not an object")
    };
    assert_eq!(e.index.len(), 2);
    assert!(e.index[1].implied && !e.index[0].implied);
    let DefKind::ObjectType(n) = &m.defs[5].kind else {
        panic!("not an object")
    };
    assert_eq!(n.defval, Some(DefVal::Str("x".into())));
    assert_eq!(n.oid.parts[1], OidPart::Number(2));
    assert_eq!(module_name(SMALL).as_deref(), Some("TEST-MIB"));
}

#[test]
fn errors_say_where_and_what() {
    let bad = "X DEFINITIONS ::= BEGIN\n a OBJECT IDENTIFIER ::= { b c }\nEND";
    let e = parse(bad).unwrap_err();
    assert_eq!(
        e.pos,
        Pos {
            line: 2,
            column: 30
        }
    );
    assert!(e.message.contains("only the first component"), "{e}");
    let e =
        parse("X DEFINITIONS ::= BEGIN\n a OBJECT-TYPE SYNTAX INTEGER\n FOO x ::= { a 1 }\nEND")
            .unwrap_err();
    assert_eq!(e.pos, Pos { line: 3, column: 2 });
    assert!(e.message.contains("found `FOO`"), "{e}");
    let e = parse("X DEFINITIONS ::= BEGIN\n").unwrap_err();
    assert!(e.message.contains("`END` of module X"), "{e}");
    assert!(parse("").is_err());
}

#[test]
fn unknown_macros_are_skipped() {
    let m = parse(
        "V DEFINITIONS ::= BEGIN\nvendorThing VENDOR-TYPE\n  KIND { a, b }\n  DESCRIPTION \"x\"\n  ::= { foo 1 }\nx OBJECT IDENTIFIER ::= { iso 9 }\nEND",
    )
    .unwrap();
    assert_eq!(m[0].defs.len(), 2);
    assert_eq!(m[0].defs[0].kind, DefKind::OtherValue);
    assert!(is_macro_name("OBJECT-TYPE") && !is_macro_name("INTEGER") && !is_macro_name("Gauge32"));
}
