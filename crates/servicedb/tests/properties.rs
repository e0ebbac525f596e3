//! Property tests: emit ∘ parse round trip, and the parsers never panic on anything.

use std::collections::HashSet;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use servicedb::{Entry, Protocol, ServiceDb};

/// A valid application name: 1 to 9 characters of the allowed set, starting with a letter or
/// digit, not only digits, not `OTHER`, and not a `tos-`/`weight-` word (which would not read
/// back as an alias).
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9._+-]{0,8}".prop_filter("not a valid alias", |n| {
        let lower = n.to_ascii_lowercase();
        !n.chars().all(|c| c.is_ascii_digit())
            && lower != "other"
            && !lower.starts_with("tos-")
            && !lower.starts_with("weight-")
    })
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp)]
}

/// A comment as the parser leaves it: trimmed, not empty, no line break.
fn comment() -> impl Strategy<Value = Option<String>> {
    option::of("[^\n]{0,30}")
        .prop_map(|c| c.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()))
}

/// An entry on its own (line 0); `twin` asks for the same name under the other protocol too.
fn entry() -> impl Strategy<Value = (Entry, Option<u16>)> {
    (
        name(),
        any::<u16>(),
        protocol(),
        vec(name(), 0..4),
        option::of(any::<u8>()),
        option::of(1u16..=1000),
        comment(),
        option::of(any::<u16>()),
    )
        .prop_map(
            |(name, port, protocol, aliases, tos, weight, comment, twin)| {
                (
                    Entry {
                        name,
                        port,
                        protocol,
                        aliases,
                        tos,
                        weight,
                        comment,
                        line: 0,
                    },
                    twin,
                )
            },
        )
}

/// Keeps the entries that the application rules allow together, numbering their lines.
fn valid_database(candidates: Vec<(Entry, Option<u16>)>) -> Vec<Entry> {
    let mut names: HashSet<(String, Protocol)> = HashSet::new();
    let mut ports: HashSet<(u16, Protocol)> = HashSet::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut add = |entry: Entry, entries: &mut Vec<Entry>| {
        let own: Vec<String> = entry.names().map(str::to_ascii_lowercase).collect();
        let distinct: HashSet<&String> = own.iter().collect();
        if distinct.len() != own.len()
            || own
                .iter()
                .any(|n| names.contains(&(n.clone(), entry.protocol)))
            || ports.contains(&(entry.port, entry.protocol))
        {
            return;
        }
        for n in own {
            names.insert((n, entry.protocol));
        }
        ports.insert((entry.port, entry.protocol));
        let mut entry = entry;
        entry.line = entries.len() + 1;
        entries.push(entry);
    };
    for (entry, twin) in candidates {
        let twin = twin.map(|port| {
            let mut other = entry.clone();
            other.protocol = match entry.protocol {
                Protocol::Tcp => Protocol::Udp,
                Protocol::Udp => Protocol::Tcp,
            };
            other.port = port;
            other
        });
        add(entry, &mut entries);
        if let Some(twin) = twin {
            add(twin, &mut entries);
        }
    }
    entries
}

fn without_lines<'a>(entries: impl Iterator<Item = &'a Entry>) -> Vec<Entry> {
    entries
        .map(|e| Entry {
            line: 0,
            ..e.clone()
        })
        .collect()
}

/// Words that reach the parser's corners when strung together.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("smtp".to_string()),
        Just("25/tcp".to_string()),
        Just("25/udp".to_string()),
        Just("port1/tcp".to_string()),
        Just("65536/UDP".to_string()),
        Just("1/ddp".to_string()),
        Just("/".to_string()),
        Just("tos-5".to_string()),
        Just("TOS-300".to_string()),
        Just("weight-0".to_string()),
        Just("Weight-1000".to_string()),
        Just("OTHER".to_string()),
        Just("#".to_string()),
        Just("é".to_string()),
        Just("\u{fffd}".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        "[a-z0-9/#-]{1,12}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn to_text_then_parse_round_trips(candidates in vec(entry(), 0..40)) {
        let entries = valid_database(candidates);
        let text: String = entries.iter().map(|e| e.to_line() + "\n").collect();
        let db = ServiceDb::parse(&text, "gen").map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let parsed: Vec<Entry> = db.entries().cloned().collect();
        prop_assert_eq!(&parsed, &entries);

        let again = ServiceDb::parse(&db.to_text(), "again")
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(without_lines(again.entries()), without_lines(entries.iter()));
        prop_assert_eq!(again.applications(), db.applications());

        let host = ServiceDb::parse_host(&text, "host")
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(without_lines(host.entries()), without_lines(entries.iter()));

        for e in &entries {
            for n in e.names() {
                prop_assert_eq!(db.lookup(&n.to_ascii_uppercase(), e.protocol), Some(e));
                prop_assert_eq!(db.port_by_name(n, e.protocol), Some(e.port));
            }
            prop_assert_eq!(db.by_port(e.port, e.protocol), Some(e));
            prop_assert_eq!(db.name_by_port(e.port, e.protocol), Some(e.name.as_str()));
        }
    }

    #[test]
    fn entry_to_line_round_trips((entry, _) in entry()) {
        let entry = Entry { line: 1, ..entry };
        if entry.names().map(str::to_ascii_lowercase).collect::<HashSet<_>>().len()
            == entry.aliases.len() + 1
        {
            let db = ServiceDb::parse(&entry.to_line(), "line")
                .map_err(|e| TestCaseError::fail(format!("{e}\n{}", entry.to_line())))?;
            prop_assert_eq!(db.entries().collect::<Vec<_>>(), vec![&entry]);
        }
    }

    #[test]
    fn never_panics_on_strings(text in any::<String>()) {
        check_any(&text);
    }

    #[test]
    fn never_panics_on_printable_text(text in "\\PC{0,300}") {
        check_any(&text);
    }

    #[test]
    fn never_panics_on_lossy_bytes(bytes in vec(any::<u8>(), 0..2000)) {
        check_any(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn never_panics_on_word_soup(words in vec(word(), 0..200)) {
        check_any(&words.concat());
        check_any(&words.join(" "));
    }

    #[test]
    fn never_panics_on_long_lines(
        head in "[a-zA-Zé#/ \t-]{0,3}",
        repeat in 1usize..20_000,
        unit in "[a-z0-9/ #é\t-]{1,4}",
    ) {
        let text = format!("{head}{}\nx {}/tcp {}\n", unit.repeat(repeat), "9".repeat(repeat), unit.repeat(repeat));
        check_any(&text);
    }
}

/// Both parsers on `text`: no panic, errors well formed, success consistent.
fn check_any(text: &str) {
    let lines = text.split('\n').count();
    for (result, strict) in [
        (ServiceDb::parse(text, "fuzz"), true),
        (ServiceDb::parse_host(text, "fuzz"), false),
    ] {
        match result {
            Ok(db) => {
                let again = if strict {
                    ServiceDb::parse(&db.to_text(), "again")
                } else {
                    ServiceDb::parse_host(&db.to_text(), "again")
                };
                match again {
                    Ok(again) => {
                        assert_eq!(without_lines(again.entries()), without_lines(db.entries()))
                    }
                    Err(e) => panic!("to_text of a parsed database does not parse: {e}"),
                }
            }
            Err(errors) => {
                assert!(!errors.is_empty());
                let mut last = (0, 0);
                for e in &errors {
                    assert!(e.line >= 1 && e.line <= lines, "{e}");
                    assert!(e.column >= 1, "{e}");
                    assert!((e.line, e.column) >= last, "errors out of order");
                    last = (e.line, e.column);
                    assert!(e
                        .to_string()
                        .starts_with(&format!("fuzz:{}:{}: expected ", e.line, e.column)));
                }
            }
        }
    }
}

#[test]
fn huge_lines_stay_linear() {
    // 100 000 aliases on one line, all the same (each a repeat) or all different.
    let same = format!("a 1/tcp {}\n", "b ".repeat(100_000));
    let errors = ServiceDb::parse(&same, "big").unwrap_err();
    assert_eq!(errors.len(), 99_999);
    let different: String = (0..100_000).map(|i| format!(" a{i}")).collect();
    let text = format!("x 1/tcp{different}\n");
    for db in [
        ServiceDb::parse(&text, "big").unwrap(),
        ServiceDb::parse_host(&text, "big").unwrap(),
    ] {
        assert_eq!(db.port_by_name("a99999", Protocol::Tcp), Some(1));
        assert_eq!(
            db.lookup("A0", Protocol::Tcp).unwrap().aliases.len(),
            100_000
        );
    }
}
