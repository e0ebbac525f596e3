#![no_main]
//! Fuzzes the MIB compiler: arbitrary text (lossy UTF-8) through the lexer, the parser and,
//! when it parses, the resolver (imports from the repository's `mibs/`), the code generator
//! and the listing. None may panic; an error must carry a position when it is a syntax error.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = mibc::parser::module_name(&text);
    match mibc::parser::parse(&text) {
        Err(e) => assert!(e.pos.line >= 1 || text.is_empty(), "{e}"),
        Ok(_) => {
            let mut c = mibc::Compiler::new()
                .search_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../mibs"));
            if let Ok(m) = c.compile_text(&text, "fuzz.mib") {
                let _ = m.to_rust();
                let _ = m.list();
            }
        }
    }
});
