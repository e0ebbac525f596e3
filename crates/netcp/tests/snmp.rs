//! netcp's built-in `snmp` service against net-snmp's tools: v1, v2c and v3 authPriv gets,
//! walks of the whole tree, a Set, a wrong community, SHOW SNMP and a bad snmp.toml;
//! notifications (v1, v2c, informs, v3 traps) to net-snmp's snmptrapd.

mod common;

use std::process::Command;

use common::*;

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

/// snmptrapd on `port`, logging numerically to a file the test polls.
struct Trapd {
    child: std::process::Child,
    out: std::path::PathBuf,
}

impl Trapd {
    fn start(dir: &std::path::Path, port: u16) -> Trapd {
        Trapd::start_with(
            dir,
            port,
            "disableAuthorization yes\nauthCommunity log public\n",
        )
    }

    /// snmptrapd with the configuration `conf` (e.g. v3 users).
    fn start_with(dir: &std::path::Path, port: u16, conf_text: &str) -> Trapd {
        let conf = dir.join("snmptrapd.conf");
        std::fs::write(&conf, conf_text).unwrap();
        let out = dir.join("snmptrapd.out");
        let child = Command::new("snmptrapd")
            // Its engine ID and users stay in the test's directory.
            .env("SNMP_PERSISTENT_DIR", dir)
            .args(["-f", "-Lo", "-n", "-On", "-C", "-c"])
            .arg(&conf)
            .arg(format!("udp:127.0.0.1:{port}"))
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("snmptrapd (scripts/test installs it)");
        let t = Trapd { child, out };
        t.wait_for("NET-SNMP version");
        t
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits until the output holds `needle` `times` times.
    fn wait_count(&self, needle: &str, times: usize) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let t = self.text();
            if t.matches(needle).count() >= times {
                return t;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "snmptrapd never showed `{needle}` {times} times:\n{t}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait_count(needle, 1)
    }
}

impl Drop for Trapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn snmp_get(at: &str, oid: &str) -> String {
    text(&tool("snmpget", &["-v2c", "-c", "public", "-On", at, oid]))
}

fn restart(netcp: &mut Netcp) {
    netcp.signal(libc::SIGTERM);
    assert!(netcp.wait_exit(std::time::Duration::from_secs(15)));
    netcp.spawn();
}

const ENGINE_BOOTS: &str = "1.3.6.1.6.3.10.2.1.2.0";
const COLD_START: &str = ".1.3.6.1.6.3.1.1.5.1\n";
const WARM_START: &str = ".1.3.6.1.6.3.1.1.5.2\n";
const AUTH_FAILURE: &str = ".1.3.6.1.6.3.1.1.5.5\n";

fn boots(at: &str) -> u64 {
    let t = snmp_get(at, ENGINE_BOOTS);
    t.rsplit(':')
        .next()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("snmpEngineBoots: {t}"))
}

#[test]
fn notifications_reach_snmptrapd_and_state_persists() {
    let port = free_port();
    let trap_port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [[service]]\nname = \"snmp\"\nbuiltin = \"snmp\"\nport = {port}\nlisten = [\"127.0.0.1\"]\n"
    );
    let services = format!("{SERVICES}snmp 161/udp\n");
    let mut netcp = Netcp::start_with("snmp-notify", &servers, &services);
    let at = format!("127.0.0.1:{port}");
    let boots_first = boots(&at);
    let snmp_toml = |contact: &str| {
        format!(
            "[system]\ncontact = \"{contact}\"\n\n[agent]\nauthentication_traps = true\n\n\
             [[community]]\nname = \"public\"\nsources = [\"127.0.0.0/8\"]\n\n\
             [[community]]\nname = \"private\"\naccess = \"read-write\"\nsources = [\"127.0.0.1\"]\n\n\
             [[target]]\naddress = \"127.0.0.1:{trap_port}\"\nversion = \"2c\"\n\n\
             [[target]]\naddress = \"127.0.0.1:{trap_port}\"\nversion = \"1\"\n\n\
             [[target]]\naddress = \"127.0.0.1:{trap_port}\"\nkind = \"inform\"\n\
             retries = 2\ntimeout_ms = 500\n"
        )
    };
    std::fs::write(netcp.dir.join("snmp.toml"), snmp_toml("ops@example.com")).unwrap();
    let trapd = Trapd::start(&netcp.dir.0, trap_port);

    // coldStart at start: a v2c trap, an inform (snmptrapd answers it) and a v1 trap.
    restart(&mut netcp);
    let t = trapd.wait_count(COLD_START, 2);
    assert!(t.contains("Cold Start Trap (0)"), "{t}");
    let log = netcp.wait_log("netcp.log", "kind=inform");
    netcp.wait_log("netcp.log", "acknowledged after");
    assert!(log.contains("notification=coldStart"), "{log}");
    assert_eq!(boots(&at), boots_first + 1, "snmpEngineBoots counts starts");
    let shown = netcp.netcu_ok(&["show", "snmp"]);
    assert!(
        shown.contains(&format!("127.0.0.1:{trap_port} v2c: inform, 2 retries")),
        "{shown}"
    );

    // A wrong community: authenticationFailure (v2c, inform, v1).
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
    let t = trapd.wait_count(AUTH_FAILURE, 2);
    trapd.wait_for("Authentication Failure Trap (0)");
    assert!(t.contains("Authentication Failure Trap (0)"), "{t}");

    // sysContact set by SNMP survives RELOAD (which sends warmStart) and a restart.
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
    assert!(netcp.dir.join("snmp-state.toml").exists());
    netcp.netcu_ok(&["reload"]);
    trapd.wait_count(WARM_START, 2);
    trapd.wait_for("Warm Start Trap");
    let t = snmp_get(&at, "1.3.6.1.2.1.1.4.0");
    assert!(t.contains("noc@example.com"), "after reload: {t}");
    let before = boots(&at);
    restart(&mut netcp);
    trapd.wait_count(COLD_START, 4);
    let t = snmp_get(&at, "1.3.6.1.2.1.1.4.0");
    assert!(t.contains("noc@example.com"), "after restart: {t}");
    assert_eq!(boots(&at), before + 1);

    // Once snmp.toml changes sysContact, snmp.toml wins.
    std::fs::write(netcp.dir.join("snmp.toml"), snmp_toml("new@example.com")).unwrap();
    netcp.netcu_ok(&["reload"]);
    let t = snmp_get(&at, "1.3.6.1.2.1.1.4.0");
    assert!(
        t.contains("new@example.com"),
        "after snmp.toml changed: {t}"
    );
}

/// SNMPv3 traps (authPriv with SHA and AES, noAuthNoPriv) reach snmptrapd, which knows the
/// users under netcp's engine ID; a user whose password snmptrapd has differently is refused;
/// an authPriv inform discovers snmptrapd's engine and is acknowledged.
#[test]
fn v3_traps_reach_snmptrapd() {
    let port = free_port();
    let trap_port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [[service]]\nname = \"snmp\"\nbuiltin = \"snmp\"\nport = {port}\nlisten = [\"127.0.0.1\"]\n"
    );
    let services = format!("{SERVICES}snmp 161/udp\n");
    let mut netcp = Netcp::start_with("snmp-v3-notify", &servers, &services);
    let shown = netcp.netcu_ok(&["show", "snmp"]);
    let engine = shown
        .split("engine ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap_or_else(|| panic!("no engine ID in SHOW SNMP: {shown}"))
        .to_string();
    let target = |user: &str| {
        format!("[[target]]\naddress = \"127.0.0.1:{trap_port}\"\nversion = \"3\"\nuser = \"{user}\"\n\n")
    };
    let snmp_toml = format!(
        "[agent]\nauthentication_traps = true\n\n\
         [[community]]\nname = \"public\"\nsources = [\"127.0.0.0/8\"]\n\n\
         [[user]]\nname = \"trapper\"\nauth = \"sha\"\nauth_password = \"trapauthpass\"\n\
         privacy = \"aes\"\nprivacy_password = \"trapprivpass\"\n\n\
         [[user]]\nname = \"plain\"\n\n\
         [[user]]\nname = \"wrongpw\"\nauth = \"sha\"\nauth_password = \"netcpsidepass\"\n\n\
         {}{}{}{}kind = \"inform\"\nretries = 2\ntimeout_ms = 500\n",
        target("trapper"),
        target("plain"),
        target("wrongpw"),
        target("trapper"),
    );
    std::fs::write(netcp.dir.join("snmp.toml"), snmp_toml).unwrap();
    let trapd = Trapd::start_with(
        &netcp.dir.0,
        trap_port,
        &format!(
            "createUser -e 0x{engine} trapper SHA trapauthpass AES trapprivpass\n\
             createUser trapper SHA trapauthpass AES trapprivpass\n\
             createUser -e 0x{engine} plain\n\
             createUser -e 0x{engine} wrongpw SHA trapdsidepass\n\
             authUser log trapper priv\nauthUser log plain noauth\nauthUser log wrongpw\n\
             format2 %P %V| %v\\n\n"
        ),
    );
    let log_path = netcp.dir.join("netcp.log");
    let sent = |times: usize| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if log.matches("version=3").count() >= times {
                assert!(!log.contains("result=failed"), "{log}");
                return log;
            }
            assert!(std::time::Instant::now() < deadline, "{log}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };

    // coldStart at the start, to each of the four v3 targets; the inform (to snmptrapd's own
    // engine, discovered first) is acknowledged.
    restart(&mut netcp);
    let log = sent(4);
    assert!(log.contains("notification=coldStart"), "{log}");
    let informs = |log: &str| {
        log.lines()
            .filter(|l| {
                l.contains("version=3")
                    && l.contains("kind=inform")
                    && l.contains("acknowledged after 1 sends")
            })
            .count()
    };
    assert_eq!(informs(&log), 1, "{log}");
    trapd.wait_count(COLD_START, 2);
    let shown = netcp.netcu_ok(&["show", "snmp"]);
    assert!(
        shown.contains(&format!(
            "127.0.0.1:{trap_port} v3: trap, user trapper authPriv"
        )),
        "{shown}"
    );

    // A wrong community: authenticationFailure, a test-triggered trap.
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
            &format!("127.0.0.1:{port}"),
            "1.3.6.1.2.1.1.1.0",
        ],
    );
    assert!(text(&out).contains("Timeout"), "{}", text(&out));
    let log = sent(8);
    assert_eq!(informs(&log), 2, "{log}");
    trapd.wait_count(AUTH_FAILURE, 2);
    // The wrong password's traps went out (the log) and snmptrapd refused both.
    let t = trapd.wait_count(REFUSED_WRONGPW, 2);
    let decoded = |user: &str, trap: &str| {
        t.lines()
            .filter(|l| l.contains(&format!("SNMP v3, user {user},")) && l.ends_with(trap))
            .count()
    };
    // trapper: a trap and an inform each.
    for (user, times) in [("trapper", 2), ("plain", 1)] {
        assert_eq!(decoded(user, COLD_START.trim_end()), times, "{user}: {t}");
        assert_eq!(decoded(user, AUTH_FAILURE.trim_end()), times, "{user}: {t}");
    }
    assert!(!t.contains("user wrongpw"), "{t}");
    assert_eq!(t.matches("TRAP2, SNMP v3").count(), 4, "{t}");
    assert_eq!(
        t.matches("INFORM, SNMP v3, user trapper,").count(),
        2,
        "{t}"
    );
}

/// What snmptrapd prints for a message whose digest fails under its key for `wrongpw`.
const REFUSED_WRONGPW: &str = "Authentication failed for wrongpw";

/// linkDown and linkUp when an interface of Maynard's stack (a TAP) goes down and up.
#[test]
fn link_traps_follow_the_stacks_interfaces() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "needs root (a TAP device)");
    let trap_port = free_port();
    let tap = format!("mayn{}", std::process::id() % 100_000);
    let tag = std::process::id() % 200 + 20;
    let dir = TempDir::new("snmp-link");
    std::fs::write(
        dir.join("servers.toml"),
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("services"), SERVICES).unwrap();
    std::fs::write(
        dir.join("network.toml"),
        format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"10.{tag}.9.2/24\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("snmp.toml"),
        format!("[[target]]\naddress = \"127.0.0.1:{trap_port}\"\nversion = \"2c\"\n"),
    )
    .unwrap();
    let trapd = Trapd::start(&dir.0, trap_port);
    let socket = dir.join("netcp.sock");
    let mut netcp = Netcp {
        dir,
        socket,
        child: None,
        netns: None,
    };
    struct DelLink(String);
    impl Drop for DelLink {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["link", "del", &self.0]).output();
        }
    }
    let _del = DelLink(tap.clone());
    netcp.spawn();
    trapd.wait_for(COLD_START);
    netcp.netcu_ok(&["set", "interface", "se0", "/down"]);
    let t = trapd.wait_for("OID: .1.3.6.1.6.3.1.1.5.3\t");
    assert!(
        t.contains(".1.3.6.1.2.1.2.2.1.8."),
        "ifOperStatus missing: {t}"
    );
    netcp.netcu_ok(&["set", "interface", "se0", "/up"]);
    trapd.wait_for("OID: .1.3.6.1.6.3.1.1.5.4\t");
    netcp.wait_log("netcp.log", "notification=linkUp");
}

/// The interfaces, addresses, TCP listeners and UDP sockets of Maynard's stack in the IF-MIB,
/// IP-MIB, TCP-MIB and UDP-MIB, beside the host's, with the stack's own counters.
#[test]
fn stack_interfaces_and_tcp_in_the_mibs() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "needs root (a TAP device)");
    let port = free_port();
    let tap = format!("mayt{}", std::process::id() % 100_000);
    let tag = std::process::id() % 200 + 20;
    let (linux, ours) = (format!("10.{tag}.10.1"), format!("10.{tag}.10.2"));
    let dir = TempDir::new("snmp-stack");
    std::fs::write(
        dir.join("servers.toml"),
        format!(
            "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
             [[service]]\nname = \"snmp\"\nbuiltin = \"snmp\"\nport = {port}\nlisten = [\"127.0.0.1\"]\n\n\
             [[service]]\nname = \"qotd\"\nbuiltin = \"qotd\"\nprotocols = [\"tcp\", \"udp\"]\nlisten = [\"{ours}\"]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("services"), format!("{SERVICES}snmp 161/udp\n")).unwrap();
    std::fs::write(
        dir.join("network.toml"),
        format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
    )
    .unwrap();
    struct DelLink(String);
    impl Drop for DelLink {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["link", "del", &self.0]).output();
        }
    }
    let _del = DelLink(tap.clone());
    let socket = dir.join("netcp.sock");
    let mut netcp = Netcp {
        dir,
        socket,
        child: None,
        netns: None,
    };
    netcp.spawn();
    let at = format!("127.0.0.1:{port}");
    let walk = |oid: &str| {
        text(&tool(
            "snmpwalk",
            &["-v2c", "-c", "public", "-On", &at, oid],
        ))
    };
    // Linux's end of the TAP, and some traffic through se0.
    for args in [
        vec!["addr", "add", &format!("{linux}/24"), "dev", &tap],
        vec!["link", "set", &tap, "up"],
    ] {
        let out = tool("ip", &args);
        assert!(out.status.success(), "ip {args:?}: {}", text(&out));
    }
    let _ = tool("ping", &["-c", "3", "-i", "0.2", "-W", "1", &ours]);

    // ifDescr: se0 on an ifIndex of the stack's range, after the host's interfaces.
    let descr = walk("1.3.6.1.2.1.2.2.1.2");
    let line = descr
        .lines()
        .find(|l| l.ends_with("\"se0\""))
        .unwrap_or_else(|| panic!("no se0 in ifDescr: {descr}"));
    let index: u32 = line
        .split(" = ")
        .next()
        .and_then(|o| o.rsplit('.').next())
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(index >= 1000, "{line}");
    assert!(descr.contains("\"lo\""), "the host's lo: {descr}");
    let get = |oid: String| snmp_get(&at, &oid);
    assert!(
        get(format!("1.3.6.1.2.1.2.2.1.3.{index}")).contains("INTEGER: 6"),
        "ifType"
    );
    assert!(get(format!("1.3.6.1.2.1.2.2.1.4.{index}")).contains("INTEGER: 1500"));
    assert!(get(format!("1.3.6.1.2.1.31.1.1.1.1.{index}")).contains("\"se0\""));
    assert!(get(format!("1.3.6.1.2.1.2.2.1.6.{index}")).contains("Hex-STRING"));
    // The stack's counters (published once a second; the agent caches a second).
    let mut octets = String::new();
    for _ in 0..40 {
        octets = get(format!("1.3.6.1.2.1.31.1.1.1.6.{index}"));
        if !octets.contains("Counter64: 0") && octets.contains("Counter64") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(
        octets.contains("Counter64") && !octets.contains("Counter64: 0"),
        "ifHCInOctets of se0: {octets}"
    );
    // ipAdEntIfIndex of the stack's address.
    let t = get(format!("1.3.6.1.2.1.4.20.1.2.{ours}"));
    assert!(t.contains(&format!("INTEGER: {index}")), "{t}");
    // qotd's listener on the stack (tcpListenerProcess: netcp's own process).
    let listeners = walk("1.3.6.1.2.1.6.20.1.4");
    let want = format!(".1.3.6.1.2.1.6.20.1.4.1.4.{ours}.17 = Gauge32: ");
    assert!(listeners.contains(&want), "{want} in {listeners}");
    // A full walk of the tcp group stays in order (no "OID not increasing").
    let tcp = walk("1.3.6.1.2.1.6");
    assert!(!tcp.contains("not increasing"), "{tcp}");
    assert!(tcp.contains(".1.3.6.1.2.1.6.13.1.1."), "{tcp}");
    // qotd's UDP socket on the stack: udpTable and udpEndpointProcess (netcp's own process).
    let pid = netcp.child.as_ref().map(|c| c.id()).unwrap();
    let mut udp = String::new();
    let want = format!(".1.3.6.1.2.1.7.7.1.8.1.4.{ours}.17.1.4.0.0.0.0.0.1 = Gauge32: {pid}");
    for _ in 0..20 {
        udp = walk("1.3.6.1.2.1.7");
        if udp.contains(&want) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(udp.contains(&want), "{want} in {udp}");
    assert!(
        udp.contains(&format!(".1.3.6.1.2.1.7.5.1.2.{ours}.17 = INTEGER: 17")),
        "{udp}"
    );
    assert!(!udp.contains("not increasing"), "{udp}");
}
