//! Compiles the test and IETF MIB modules with mibc, the way a subagent's build script does.

use std::path::Path;

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = here.join("../tests/data");
    let mibs = here.join("../../../mibs");
    println!("cargo:rerun-if-changed={}", data.display());
    println!("cargo:rerun-if-changed={}", mibs.display());
    let mut compiler = mibc::Compiler::new().search_path(&data).search_path(&mibs);
    for module in [
        "MAYNARD-TEST-MIB",
        "IF-MIB",
        "HOST-RESOURCES-MIB",
        "RFC1213-MIB",
        "SNMPv2-MIB",
    ] {
        match compiler.compile(module) {
            Ok(m) => {
                if let Err(e) = m.write_rust(&out_dir) {
                    panic!("{e}");
                }
            }
            Err(e) => panic!("{e}"),
        }
    }
}
