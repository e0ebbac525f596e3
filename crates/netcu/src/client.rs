//! Talking to netcp over its control socket.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use control::protocol::{decode, encode, Request, Response};

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the socket.
    #[error(
        "netcp is not running: cannot connect to {path} ({source}).\n\
         Start it with `netcp`, or point netcu at its socket with --socket PATH or $MAYNARD_SOCKET."
    )]
    NotRunning {
        /// The socket path tried.
        path: PathBuf,
        /// Why the connection failed.
        source: std::io::Error,
    },
    /// The connection broke or the answer was not our protocol.
    #[error("netcp at {path}: {message}")]
    Protocol {
        /// The socket path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// A connection to netcp, kept open across the commands of one session.
pub struct Client {
    path: PathBuf,
    conn: Option<(BufReader<UnixStream>, UnixStream)>,
}

/// How long netcu waits for an answer (a drain or a reload can take a while).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

impl Client {
    /// A client for the socket at `path` (not yet connected).
    pub fn new(path: PathBuf) -> Client {
        Client { path, conn: None }
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(&mut self) -> Result<&mut (BufReader<UnixStream>, UnixStream), ClientError> {
        if self.conn.is_none() {
            let stream =
                UnixStream::connect(&self.path).map_err(|source| ClientError::NotRunning {
                    path: self.path.clone(),
                    source,
                })?;
            let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
            let reader = stream.try_clone().map_err(|e| self.broken(e.to_string()))?;
            self.conn = Some((BufReader::new(reader), stream));
        }
        self.conn.as_mut().ok_or_else(|| ClientError::Protocol {
            path: PathBuf::new(),
            message: "no connection".into(),
        })
    }

    fn broken(&self, message: String) -> ClientError {
        ClientError::Protocol {
            path: self.path.clone(),
            message,
        }
    }

    /// Sends one request and waits for its answer. A connection that broke since the last
    /// request (netcp restarted) is re-opened once.
    pub fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
        let reused = self.conn.is_some();
        match self.try_call(request) {
            Err(ClientError::Protocol { .. }) if reused => self.try_call(request),
            other => other,
        }
    }

    /// Sends one streaming request (live capture) and hands each answer line to `each` until
    /// it returns false or netcp closes. The connection is closed afterwards, which tells netcp
    /// to stop a capture that had not finished.
    pub fn stream(
        &mut self,
        request: &Request,
        mut each: impl FnMut(Response) -> bool,
    ) -> Result<(), ClientError> {
        // A connection left from an earlier command may have broken meanwhile: start afresh.
        self.conn = None;
        let line = encode(request);
        let (reader, writer) = self.connect()?;
        let mut result = writer.write_all(line.as_bytes()).map_err(|e| e.to_string());
        let mut answer = String::new();
        while result.is_ok() {
            answer.clear();
            match reader.read_line(&mut answer) {
                Ok(0) => break,
                Ok(_) => match decode::<Response>(answer.trim_end()) {
                    Ok(r) => {
                        if !each(r) {
                            break;
                        }
                    }
                    Err(e) => result = Err(e.to_string()),
                },
                Err(e) => result = Err(e.to_string()),
            }
        }
        self.conn = None;
        result.map_err(|m| self.broken(m))
    }

    fn try_call(&mut self, request: &Request) -> Result<Response, ClientError> {
        let line = encode(request);
        let (reader, writer) = self.connect()?;
        let result = writer
            .write_all(line.as_bytes())
            .map_err(|e| e.to_string())
            .and_then(|()| {
                let mut answer = String::new();
                match reader.read_line(&mut answer) {
                    Ok(0) => Err("connection closed without an answer".to_string()),
                    Ok(_) => decode::<Response>(answer.trim_end()).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            });
        result.map_err(|m| {
            self.conn = None;
            self.broken(m)
        })
    }
}
