//! One service: a line of the services file.

use serde::{Deserialize, Serialize};

use crate::Protocol;

/// The message weight that counts as one message (`weight-100`), and the weight of a service
/// without `weight-N`.
pub const ONE_MESSAGE_WEIGHT: u16 = 100;

/// One service of the database: `name port/protocol [aliases...] [tos-N] [weight-N] [#comment]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The service (application) name, as written in the file.
    pub name: String,
    /// The port number.
    pub port: u16,
    /// The transport protocol.
    pub protocol: Protocol,
    /// Other names of the same service, as written in the file.
    pub aliases: Vec<String>,
    /// The `tos-N` value (0-255) to set as IP_TOS / IPV6_TCLASS on the service's sockets; `None`
    /// keeps the system default.
    pub tos: Option<u8>,
    /// The `weight-N` value (1-1000; 100 = one message) used when counting the service's
    /// messages; `None` counts each socket read and write as one message.
    pub weight: Option<u16>,
    /// The text after `#` on the entry's line, trimmed; `None` if there is none.
    pub comment: Option<String>,
    /// The 1-based line of the file the entry came from.
    pub line: usize,
}

impl Entry {
    /// The weight of one socket read or write of this service, in hundredths of a message: the
    /// `weight-N` value, or 100 (one message) when the entry has none.
    pub fn message_weight(&self) -> u16 {
        self.weight.unwrap_or(ONE_MESSAGE_WEIGHT)
    }

    /// True when `name` is the entry's name or one of its aliases, ignoring ASCII case.
    pub fn answers_to(&self, name: &str) -> bool {
        self.names().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// The name followed by the aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// The canonical text line of the entry, without a line end:
    /// `name port/protocol tos-N weight-N aliases... #comment`, name and port in aligned columns.
    ///
    /// For an entry that the parser produced (or one that obeys the same rules) the line parses
    /// back to an equal entry, except for [`line`](Entry::line). A line break inside the comment
    /// is written as a space, since it would end the line.
    pub fn to_line(&self) -> String {
        let mut line = format!(
            "{:<width$} {:>5}/{}",
            self.name,
            self.port,
            self.protocol,
            width = crate::MAX_NAME_LEN
        );
        // The keywords come before the aliases: in a host database a second `tos-N` is an
        // alias, and it must stay second to read back as one.
        if let Some(tos) = self.tos {
            line.push_str(&format!(" tos-{tos}"));
        }
        if let Some(weight) = self.weight {
            line.push_str(&format!(" weight-{weight}"));
        }
        for alias in &self.aliases {
            line.push(' ');
            line.push_str(alias);
        }
        if let Some(comment) = &self.comment {
            let comment = comment.replace('\n', " ");
            let comment = comment.trim();
            if !comment.is_empty() {
                line.push_str(" #");
                line.push_str(comment);
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            name: "mq".into(),
            port: 1414,
            protocol: Protocol::Tcp,
            aliases: vec![],
            tos: None,
            weight: None,
            comment: None,
            line: 1,
        }
    }

    #[test]
    fn is_serde() {
        fn serde<T: Serialize + serde::de::DeserializeOwned + Clone + PartialEq>() {}
        serde::<Entry>();
        serde::<Protocol>();
    }

    #[test]
    fn message_weight_default_is_one_message() {
        let mut e = entry();
        assert_eq!(e.message_weight(), 100);
        e.weight = Some(50);
        assert_eq!(e.message_weight(), 50);
        e.weight = Some(1000);
        assert_eq!(e.message_weight(), 1000);
    }

    #[test]
    fn to_line_minimal() {
        assert_eq!(entry().to_line(), "mq         1414/tcp");
    }

    #[test]
    fn to_line_full() {
        let e = Entry {
            name: "http".into(),
            port: 80,
            protocol: Protocol::Udp,
            aliases: vec!["www".into(), "web".into()],
            tos: Some(5),
            weight: Some(100),
            comment: Some("World Wide Web".into()),
            line: 7,
        };
        assert_eq!(
            e.to_line(),
            "http         80/udp tos-5 weight-100 www web #World Wide Web"
        );
    }

    #[test]
    fn to_line_comment_cleanup() {
        let mut e = entry();
        e.comment = Some("  two\nlines ".into());
        assert_eq!(e.to_line(), "mq         1414/tcp #two lines");
        e.comment = Some("   ".into());
        assert_eq!(e.to_line(), "mq         1414/tcp");
    }

    #[test]
    fn long_names_are_not_cut() {
        let mut e = entry();
        e.name = "kerberos-adm".into();
        assert_eq!(e.to_line(), "kerberos-adm  1414/tcp");
    }

    #[test]
    fn names_and_answers_to() {
        let mut e = entry();
        e.aliases = vec!["MQSeries".into()];
        assert_eq!(e.names().collect::<Vec<_>>(), vec!["mq", "MQSeries"]);
        assert!(e.answers_to("MQ"));
        assert!(e.answers_to("mqseries"));
        assert!(!e.answers_to("mqs"));
    }
}
