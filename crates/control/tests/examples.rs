//! The files under `examples/` are what an administrator copies: they must parse and resolve.

use control::config::model::parse_servers;
use control::config::network::parse_network;

fn example(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn network_tap_parses() {
    let (cfg, warnings) = parse_network(&example("network-tap.toml"), "network-tap.toml")
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(cfg.interfaces.len(), 1);
    assert_eq!(cfg.interfaces[0].name, "se0");
}

#[test]
fn servers_tap_listens_on_the_stack_address() {
    let parsed = parse_servers(&example("servers-tap.toml"), "servers-tap.toml")
        .unwrap_or_else(|e| panic!("{e:?}"));
    let want: std::net::IpAddr = "192.0.2.2".parse().unwrap();
    assert!(parsed.config.defaults.listen.contains(&want));
    assert_eq!(parsed.config.services.len(), 6);
}
