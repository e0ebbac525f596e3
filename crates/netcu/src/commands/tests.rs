//! The command table's tests: both syntaxes, every family, the errors.

use std::path::PathBuf;

use control::access::AccessAction;
use control::protocol::Request;
use servicedb::Protocol;
use services::Builtin;

use super::*;

#[test]
fn both_styles_make_the_same_request() {
    let vms =
        parse("SET SERV ECHO/REJECT=10.1.0.0/16/ACCEPT=(10.0.0.0/8,::1)/DEF=REJECT/PERM").unwrap();
    let unix = parse(
        "set service ECHO --reject 10.1.0.0/16 --accept 10.0.0.0/8,::1 --default reject --save",
    )
    .unwrap();
    assert_eq!(vms, unix);
    let Action::Send(Request::SetService {
        name,
        changes,
        permanent,
    }) = vms
    else {
        panic!("{vms:?}")
    };
    assert_eq!(name, "ECHO");
    assert!(permanent);
    let rules: Vec<String> = changes
        .access
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(
        rules,
        ["reject 10.1.0.0/16", "accept 10.0.0.0/8", "accept ::1/128"]
    );
    assert_eq!(changes.access_default, Some(AccessAction::Reject));
}

#[test]
fn add_service_defaults_to_the_builtin_of_its_name() {
    let Action::Send(Request::AddService { service, permanent }) =
        parse("add service daytime /port=10013 /protocol=tcp").unwrap()
    else {
        panic!()
    };
    assert_eq!(service.builtin, Some(Builtin::Daytime));
    assert_eq!(service.port, Some(10013));
    assert_eq!(service.protocols, Some(vec![Protocol::Tcp]));
    assert!(!permanent);
    let err = parse("add service mysvc").unwrap_err();
    assert!(err.contains("/PROGRAM"), "{err}");
    let Action::Send(Request::AddService { service, .. }) =
            parse("add service mysvc /program=/bin/cat /arguments=(\"-u\") /user=nobody /port=9999 /protocol=tcp").unwrap()
        else {
            panic!()
        };
    assert_eq!(service.program, Some(PathBuf::from("/bin/cat")));
    assert_eq!(service.arguments, ["-u"]);
}

#[test]
fn errors_are_clear() {
    assert!(parse("sh services").unwrap_err().contains("ambiguous"));
    assert!(parse("show").unwrap_err().contains("SHOW what?"));
    assert!(parse("show services /bogus")
        .unwrap_err()
        .contains("qualifier"));
    assert!(parse("set service echo /limit")
        .unwrap_err()
        .contains("needs a value"));
    assert!(parse("set service echo /limit=many")
        .unwrap_err()
        .contains("expected"));
    assert!(parse("reload extra").unwrap_err().contains("unexpected"));
    assert!(parse("set service echo /accept=10.1.0.0/8")
        .unwrap_err()
        .contains("10.0.0.0/8"));
    assert_eq!(parse("   ! just a comment").unwrap(), Action::Nothing);
}

#[test]
fn qualifiers_attach_anywhere() {
    assert_eq!(
        parse("SHOW SERVICES/FULL ECHO").unwrap(),
        Action::SendFull(Request::ShowServices {
            name: Some("ECHO".into())
        })
    );
    assert_eq!(parse("sho ver").unwrap(), Action::Version);
}

#[test]
fn help_lists_everything() {
    let h = help(&[]);
    for c in all() {
        assert!(h.contains(&c.words.join(" ").to_uppercase()));
    }
    assert!(help(&["set".into(), "serv".into()]).contains("/SOURCE_LIMIT"));
}
