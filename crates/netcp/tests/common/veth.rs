//! A network namespace joined to the root namespace by a veth pair, for tests of what netcp
//! does on the host's own interfaces; removed on drop.

use std::process::Command;

use super::run;

/// Runs `cmd` with sh.
pub fn sh(cmd: &str) -> std::process::Output {
    run(Command::new("sh").arg("-c").arg(cmd))
}

/// Runs `cmd` with sh and fails the test if it fails.
pub fn must(cmd: &str) {
    let out = sh(cmd);
    assert!(
        out.status.success(),
        "`{cmd}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespace and the addresses on both ends.
pub struct Veth {
    /// The namespace's name.
    pub ns: String,
    /// The root end's interface.
    pub root_if: String,
    /// The root end's address (a /24 of 198.18.0.0/15 picked from the process id).
    pub root_ip: String,
    /// The namespace end's address (its interface is eth0).
    pub ns_ip: String,
}

impl Veth {
    /// Makes the pair; `tag` (a few letters) keeps the names of different tests apart.
    pub fn new(tag: &str) -> Veth {
        let id = std::process::id() % 10000;
        let net = std::process::id() % 250 + 1;
        let v = Veth {
            ns: format!("mayn-{tag}-{id}"),
            root_if: format!("m{tag}{id}"),
            root_ip: format!("198.18.{net}.1"),
            ns_ip: format!("198.18.{net}.2"),
        };
        let _ = sh(&format!(
            "ip netns del {} 2>/dev/null; ip link del {} 2>/dev/null",
            v.ns, v.root_if
        ));
        must(&format!("ip netns add {}", v.ns));
        must(&format!(
            "ip link add {} type veth peer name eth0 netns {}",
            v.root_if, v.ns
        ));
        must(&format!(
            "ip addr add {}/24 dev {} && ip link set {} up",
            v.root_ip, v.root_if, v.root_if
        ));
        must(&format!(
            "ip -n {ns} addr add {ip}/24 dev eth0 && ip -n {ns} link set eth0 up && ip -n {ns} link set lo up",
            ns = v.ns,
            ip = v.ns_ip
        ));
        v
    }

    /// Runs `cmd` with sh inside the namespace.
    pub fn in_ns(&self, cmd: &str) -> std::process::Output {
        sh(&format!("ip netns exec {} sh -c '{}'", self.ns, cmd))
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = sh(&format!(
            "ip netns del {}; ip link del {} 2>/dev/null",
            self.ns, self.root_if
        ));
    }
}

/// Deletes an nftables table (`inet NAME`) of the root namespace on drop: a test that fails
/// while netcp has a table in place (netcp killed) would otherwise leave it hooked into every
/// packet's path on this machine.
pub struct NftTableGuard(pub String);

impl Drop for NftTableGuard {
    fn drop(&mut self) {
        let _ = sh(&format!("nft delete table inet {} 2>/dev/null", self.0));
    }
}
