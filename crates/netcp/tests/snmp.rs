//! netcp's built-in `snmp` service against net-snmp's tools: v1, v2c and v3 authPriv gets,
//! walks of the whole tree, a Set, a wrong community, SHOW SNMP and a bad snmp.toml.

mod common;

use std::process::Command;

use common::*;

fn tool(name: &str, args: &[&str]) -> std::process::Output {
    run(Command::new(name).args(args))
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn net_snmp_tools_work_against_netcp_agent() {
    let port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [[service]]\nname = \"snmp\"\nbuiltin = \"snmp\"\nport = {port}\nlisten = [\"127.0.0.1\"]\n"
    );
    let services = format!("{SERVICES}snmp 161/udp\n");
    let netcp = Netcp::start_with("snmp", &servers, &services);
    std::fs::write(
        netcp.dir.join("snmp.toml"),
        "[system]\ncontact = \"ops@example.com\"\nlocation = \"Maynard, MA\"\n\n\
         [[community]]\nname = \"public\"\nsources = [\"127.0.0.0/8\"]\n\n\
         [[community]]\nname = \"private\"\naccess = \"read-write\"\nsources = [\"127.0.0.1\"]\n\n\
         [[user]]\nname = \"ops\"\nauth = \"sha-256\"\nauth_password = \"authpassword\"\n\
         privacy = \"aes\"\nprivacy_password = \"privpassword\"\n",
    )
    .unwrap();
    netcp.netcu_ok(&["reload"]);
    let at = format!("127.0.0.1:{port}");

    for version in ["1", "2c"] {
        let out = tool(
            "snmpget",
            &[
                "-v",
                version,
                "-c",
                "public",
                "-On",
                &at,
                "1.3.6.1.2.1.1.4.0",
                "1.3.6.1.2.1.1.6.0",
            ],
        );
        let t = text(&out);
        assert!(
            t.contains("ops@example.com") && t.contains("Maynard, MA"),
            "v{version}: {t}"
        );
    }
    // The whole tree, both walks, without "OID not increasing".
    for walk in ["snmpwalk", "snmpbulkwalk"] {
        let out = tool(walk, &["-v2c", "-c", "public", "-On", &at, "1.3.6.1"]);
        let t = text(&out);
        assert!(out.status.success(), "{walk}: {t}");
        assert!(!t.contains("not increasing"), "{walk}: {t}");
        assert!(
            t.lines().count() > 100,
            "{walk}: {} lines",
            t.lines().count()
        );
        assert!(
            t.contains(".1.3.6.1.2.1.25.1.1.0"),
            "hrSystemUptime missing from {walk}"
        );
    }
    // A Set through the read-write community.
    let out = tool(
        "snmpset",
        &[
            "-v2c",
            "-c",
            "private",
            "-On",
            &at,
            "1.3.6.1.2.1.1.4.0",
            "s",
            "noc@example.com",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = tool(
        "snmpget",
        &["-v2c", "-c", "public", "-On", &at, "1.3.6.1.2.1.1.4.0"],
    );
    assert!(text(&out).contains("noc@example.com"), "{}", text(&out));
    // The read-only community may not set.
    let out = tool(
        "snmpset",
        &[
            "-v2c",
            "-c",
            "public",
            "-On",
            &at,
            "1.3.6.1.2.1.1.4.0",
            "s",
            "x",
        ],
    );
    assert!(!out.status.success(), "{}", text(&out));
    // A wrong community gets no answer at all.
    let out = tool(
        "snmpget",
        &[
            "-v2c",
            "-c",
            "nosuch",
            "-t",
            "1",
            "-r",
            "0",
            "-On",
            &at,
            "1.3.6.1.2.1.1.1.0",
        ],
    );
    assert!(text(&out).contains("Timeout"), "{}", text(&out));
    // SNMPv3 authPriv.
    let out = tool(
        "snmpget",
        &[
            "-v3",
            "-l",
            "authPriv",
            "-u",
            "ops",
            "-a",
            "SHA-256",
            "-A",
            "authpassword",
            "-x",
            "AES",
            "-X",
            "privpassword",
            "-On",
            &at,
            "1.3.6.1.2.1.1.5.0",
        ],
    );
    assert!(
        out.status.success() && text(&out).contains("STRING"),
        "{}",
        text(&out)
    );

    let shown = netcp.netcu_ok(&["show", "snmp"]);
    assert!(
        shown.contains("snmpInBadCommunityNames") && shown.contains("ops: ReadOnly"),
        "{shown}"
    );
    assert!(
        !shown.contains("private") && !shown.contains("authpassword"),
        "secrets shown: {shown}"
    );
    let counters = netcp.counters("snmp");
    assert!(counters[1].parse::<u64>().unwrap() > 100, "{counters:?}");

    // A bad snmp.toml is refused whole; the agent keeps the old configuration.
    std::fs::write(
        netcp.dir.join("snmp.toml"),
        "[[user]]\nname = \"u\"\nauth = \"md5\"\n",
    )
    .unwrap();
    let out = netcp.netcu(&["reload"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected sha"),
        "{out:?}"
    );
    let out = tool(
        "snmpget",
        &["-v2c", "-c", "public", "-On", &at, "1.3.6.1.2.1.1.4.0"],
    );
    assert!(
        text(&out).contains("noc@example.com") || text(&out).contains("ops@example.com"),
        "{}",
        text(&out)
    );
}
