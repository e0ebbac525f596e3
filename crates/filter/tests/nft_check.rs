//! The generated nftables JSON is accepted by the real `nft` (`nft -c -j -f FILE`, a dry run).
//! Needs the `nftables` package and CAP_NET_ADMIN (the test suite runs as root); fails loudly
//! when `nft` is missing rather than passing silently.

use std::process::Command;

use filter::{nft, parse, LocalTime};
use servicedb::ServiceDb;

const LIST: &str = "\
! every construct the translation knows
deny tcp 10.0.0.0/8 gt 1023 192.168.1.1/32 eq 25 established log
drop udp 0/0 0/0 ne 53
drop icmp 2001:db8::/32 ::/0 eq echo
deny icmp 0/0 0/0 eq 5
deny ip 2001:db8::/32 ::/0
permit ip 0/0 0/0 start 23:00 end 01:00 repeat
permit tcp 0/0 0/0 le 1023 start 08:00 end 17:00 repeat
permit 47 192.168.0.0/16 10.0.0.0/8 start \"1 00:00\" end \"2 00:00\"
permit udp 0/0 0/0 eq 53 end \"0 03:00\"
permit icmp
deny udp
";

#[test]
fn nft_accepts_the_json() {
    let now = LocalTime(1_800_000_000);
    let list = match parse(LIST, "nft-test.dat", &ServiceDb::default(), now) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(list.rules.len(), 11);
    let json = nft::to_json("lo", &list.rules).to_string();
    let path = std::env::temp_dir().join(format!("maynard-filter-nft-{}.json", std::process::id()));
    if let Err(e) = std::fs::write(&path, &json) {
        panic!("cannot write {}: {e}", path.display());
    }
    let out = Command::new("nft")
        .arg("-c")
        .arg("-j")
        .arg("-f")
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    match out {
        Err(e) => panic!("`nft` could not be run ({e}): install the Debian package nftables"),
        Ok(o) => assert!(
            o.status.success(),
            "nft refused the JSON: {}\n{json}",
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}
