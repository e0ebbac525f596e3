fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut c = mibc::Compiler::new().search_path(&args[1]);
    match c.compile(&args[2]) {
        Ok(m) => {
            if args.len() > 3 {
                print!("{}", m.to_rust())
            } else {
                print!("{}", m.list())
            }
        }
        Err(e) => {
            eprintln!("ERROR {e}");
            std::process::exit(1)
        }
    }
}
