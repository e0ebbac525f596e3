//! Fuzzes the packet filter file parser, the loader's time resolution, the classifier built from
//! what loads, and FILTER_CONVERT: none may panic on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let services = servicedb::ServiceDb::default();
    let now = filter::LocalTime(1_800_000_000);
    if let Ok(list) = filter::parse(&text, "fuzz", &services, now) {
        let c = filter::Classifier::compile(&list.rules);
        let p = filter::Packet {
            src: std::net::IpAddr::from([10, 0, 0, 1]),
            dst: std::net::IpAddr::from([10, 0, 0, 2]),
            protocol: 6,
            src_port: 1024,
            dst_port: 80,
            tcp_flags: 0x10,
            fragment_offset: 0,
            time: now,
            length: 60,
        };
        assert_eq!(c.classify(&p), filter::reference(&list.rules, &p));
        let _ = filter::nft::to_json("se0", &list.rules);
    }
    let _ = filter::convert(&text);
});
