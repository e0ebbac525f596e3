//! The built-in TFTP server against clients no one here wrote: curl's TFTP client (options
//! blksize and tsize) and tftp-hpa's `tftp` (binary and netascii, get and put) on the host's
//! loopback, and curl again through Maynard's own stack on a TAP device. A Python client asks
//! for RFC 7440's window, which neither speaks.
//!
//! The stack test needs root (TAP) and iproute2; all need curl and tftp-hpa.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::stack_env::*;
use common::*;

fn pattern(n: usize) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

fn tftp_section(root: &Path) -> String {
    format!(
        "[tftp]\nroot = \"{}\"\nallow_write = true\nallow_create = true\nmax_blksize = 8192\n",
        root.display()
    )
}

fn curl(args: &[&str]) -> std::process::Output {
    run(Command::new("curl")
        .args(["-sS", "--max-time", "30"])
        .args(args))
}

/// tftp-hpa's client, one command.
fn tftp_hpa(port: u16, mode: &str, command: &str, cwd: &Path) -> std::process::Output {
    run(Command::new("tftp")
        .current_dir(cwd)
        .args(["127.0.0.1", &port.to_string(), "-m", mode, "-c"])
        .args(command.split_whitespace()))
}

#[test]
fn tftp_serves_files_to_curl_and_tftp_hpa() {
    let root = TempDir::new("tftp-root");
    let local = TempDir::new("tftp-client");
    let image = pattern(1_000_003);
    std::fs::write(root.join("boot.img"), &image).unwrap();
    std::fs::create_dir_all(root.join("cfg")).unwrap();
    let text = "line one\nline two\r\nbare\rcr\n";
    std::fs::write(root.join("cfg/motd.txt"), text).unwrap();
    std::fs::write(root.0.parent().unwrap().join("outside.txt"), "secret").unwrap();
    let port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = true\nhost_services = \"\"\n{}\
         [[service]]\nname = \"tftp\"\nbuiltin = \"tftp\"\nport = {port}\nprotocols = [\"udp\"]\nlisten = [\"127.0.0.1\", \"::1\"]\n",
        tftp_section(&root.0)
    );
    // IPS rules on the TFTP server's events, not enforced on the host (no nftables table):
    // the test looks at the decisions only.
    let ips = "[ips]\nnft_table = \"\"\nevent_socket = \"\"\n\
               [[rule]]\nname = \"tftp-scan\"\ncomponent = \"tftp\"\nevent = \"not-found\"\n\
               threshold = 2\nwindow = \"60s\"\nduration = \"1m\"\n";
    let netcp = Netcp::start_files("tftp", &[("servers.toml", &servers), ("ips.toml", ips)]);
    let url = |name: &str| format!("tftp://127.0.0.1:{port}/{name}");

    // curl: the default 512-byte blocks, then 8192 asked for with blksize.
    let got = local.join("a.img");
    let out = curl(&[&url("boot.img"), "-o", got.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}\n{}", netcp.stderr());
    assert!(std::fs::read(&got).unwrap() == image, "curl's copy differs");
    let out = curl(&[
        "--tftp-blksize",
        "8192",
        &url("boot.img"),
        "-o",
        got.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        std::fs::read(&got).unwrap() == image,
        "the 8192-byte-block copy differs"
    );

    // Over IPv6 too: the transfer's socket is beside the service's, on ::1.
    let out = curl(&[
        &format!("tftp://[::1]:{port}/boot.img"),
        "-o",
        got.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        std::fs::read(&got).unwrap() == image,
        "the IPv6 copy differs"
    );

    // Refusals: no such file (curl's 68); a name that leaves the root (tftp-hpa sends it as
    // written, curl would tidy the `..` away).
    assert_eq!(curl(&[&url("nothing.img")]).status.code(), Some(68));
    assert_eq!(curl(&[&url("router.cfg")]).status.code(), Some(68));
    wait_for("the IPS's decision", 10, || {
        netcp
            .stderr()
            .contains("event=ips-block rule=tftp-scan source=127.0.0.1")
    });
    let out = tftp_hpa(port, "binary", "get ../outside.txt o.txt", &local.0);
    assert!(
        text_of(&out).contains("Access violation"),
        "{}",
        text_of(&out)
    );

    // tftp-hpa: binary get, netascii get (line ends come back as they were), put.
    let out = tftp_hpa(port, "binary", "get boot.img b.img", &local.0);
    assert!(text_of(&out).is_empty(), "{}", text_of(&out));
    assert!(std::fs::read(local.join("b.img")).unwrap() == image);
    let out = tftp_hpa(port, "netascii", "get cfg/motd.txt motd.txt", &local.0);
    assert!(text_of(&out).is_empty(), "{}", text_of(&out));
    assert_eq!(
        std::fs::read_to_string(local.join("motd.txt")).unwrap(),
        text
    );
    let upload = pattern(70_000);
    std::fs::write(local.join("up.bin"), &upload).unwrap();
    let out = tftp_hpa(port, "binary", "put up.bin cfg/up.bin", &local.0);
    assert!(text_of(&out).is_empty(), "{}", text_of(&out));
    assert!(std::fs::read(root.join("cfg/up.bin")).unwrap() == upload);
    let out = tftp_hpa(port, "netascii", "put motd.txt cfg/motd2.txt", &local.0);
    assert!(text_of(&out).is_empty(), "{}", text_of(&out));
    assert_eq!(
        std::fs::read_to_string(root.join("cfg/motd2.txt")).unwrap(),
        text
    );
    // curl uploads too (-T).
    let out = curl(&[
        "-T",
        local.join("up.bin").to_str().unwrap(),
        &url("curl-up.bin"),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(std::fs::read(root.join("curl-up.bin")).unwrap() == upload);

    // RFC 7440's window: 4 blocks of 1024 per acknowledgement (a client of our own: neither
    // curl nor tftp-hpa asks for a window).
    let script = format!(
        "import socket, struct\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)\n\
         s.sendto(b'\\x00\\x01boot.img\\x00octet\\x00blksize\\x001024\\x00windowsize\\x004\\x00', ('127.0.0.1', {port}))\n\
         oack, server = s.recvfrom(2048)\n\
         assert oack[:2] == b'\\x00\\x06', oack\n\
         assert b'windowsize\\x004\\x00' in oack, oack\n\
         s.sendto(b'\\x00\\x04\\x00\\x00', server)\n\
         data = bytearray(); expect = 1; acks = 0\n\
         while True:\n\
         \x20   p, _ = s.recvfrom(2048)\n\
         \x20   op, block = struct.unpack('!HH', p[:4])\n\
         \x20   assert op == 3 and block == expect & 0xffff, (op, block, expect)\n\
         \x20   data += p[4:]; expect += 1\n\
         \x20   last = len(p) - 4 < 1024\n\
         \x20   if block % 4 == 0 or last:\n\
         \x20       s.sendto(struct.pack('!HH', 4, block), server); acks += 1\n\
         \x20   if last: break\n\
         open('{}', 'wb').write(data)\n\
         print(acks)\n",
        local.join("w.img").display()
    );
    let out = run(Command::new("python3").args(["-c", &script]));
    assert!(
        out.status.success(),
        "{}\n{}",
        text_of(&out),
        netcp.stderr()
    );
    assert!(std::fs::read(local.join("w.img")).unwrap() == image);
    let acks: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(acks, image.len() / 1024 / 4 + 1, "one ACK per window");

    // Each transfer is logged as a connection with its outcome (a write's after its dally).
    for outcome in [
        "outcome=\"sent boot.img (1000003 bytes)\"",
        "outcome=\"received cfg/up.bin (70000 bytes)\"",
        "outcome=\"read nothing.img: File not found\"",
        "outcome=\"read ../outside.txt: Access violation\"",
    ] {
        wait_for(outcome, 10, || netcp.stderr().contains(outcome));
    }
}

fn text_of(out: &std::process::Output) -> String {
    text(out).trim().to_string()
}

#[test]
fn tftp_serves_on_maynards_stack() {
    require_root();
    let k = pid_tag();
    let tap = format!("mayt{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.123.{k}.1"), format!("100.123.{k}.2"));
    let root = TempDir::new("tftp-stack-root");
    let image = pattern(400_000);
    std::fs::write(root.join("boot.img"), &image).unwrap();
    let netcp = start_netcp_with(
        "tftp-stack",
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
        &format!(
            "{}[[service]]\nname = \"tftp\"\nbuiltin = \"tftp\"\nport = 69\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n",
            tftp_section(&root.0)
        ),
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);
    let got = root.join("got.img");
    for blksize in ["512", "1468"] {
        let out = curl(&[
            "--interface",
            &linux,
            "--tftp-blksize",
            blksize,
            &format!("tftp://{ours}/boot.img"),
            "-o",
            got.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}\n{}", netcp.stderr());
        assert!(
            std::fs::read(&got).unwrap() == image,
            "blksize {blksize}: copy differs"
        );
    }
    // The transfer ran from a port of the stack's own, not 69.
    let log = netcp.stderr();
    assert!(
        log.contains("outcome=\"sent boot.img (400000 bytes)\""),
        "{log}"
    );
    std::thread::sleep(Duration::from_millis(10));
}
