//! A real SMTP server (mailin-embedded) inside the test binary, on a random port, whose replies
//! a test scripts: accept, a temporary 451, a permanent 550, or a stall before answering DATA.

use mailin_embedded::response::{INTERNAL_ERROR, NO_MAILBOX, OK};
use mailin_embedded::{Action, Handler, Response, Server, SslConfig};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server answers the next message's DATA.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Accept,
    /// 451: try again later.
    Temporary,
    /// 550: refused for good.
    Permanent,
    /// Holds the message this long before accepting it (a slow server; a crash window).
    Stall(Duration),
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        let prefix = format!("{}:", name.to_ascii_lowercase());
        head.split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    /// The confirm link's path (`/c/<token>`) from the plain-text part.
    pub fn confirm_path(&self) -> String {
        let text = self.raw.replace("=\r\n", "");
        let i = text.find("/c/").expect("a confirm link in the email");
        text[i..i + 3 + 32].to_owned()
    }
}

#[derive(Clone)]
struct Scripted {
    inbox: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    attempts: Arc<Mutex<u32>>,
    to: Vec<String>,
    buf: Vec<u8>,
}

impl Handler for Scripted {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.buf.clear();
        OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        *self.attempts.lock().unwrap() += 1;
        let reply = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::Accept);
        let accept = |s: &mut Scripted| {
            s.inbox.lock().unwrap().push(Received {
                to: s.to.clone(),
                raw: String::from_utf8_lossy(&s.buf).into_owned(),
            });
            OK
        };
        // mailin stays in its DATA state after refusing a message, so a refusal also closes
        // the connection (the client sees the reply, then a fresh connection next time).
        let refuse = |mut r: Response| {
            r.action = Action::Close;
            r
        };
        match reply {
            Reply::Accept => accept(self),
            Reply::Temporary => refuse(INTERNAL_ERROR),
            Reply::Permanent => refuse(NO_MAILBOX),
            Reply::Stall(d) => {
                std::thread::sleep(d);
                accept(self)
            }
        }
    }
}

/// A running SMTP server.
pub struct Smtp {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    attempts: Arc<Mutex<u32>>,
}

/// A free port on loopback (nothing listens there until `Smtp::start_on`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Smtp {
    pub fn start() -> Smtp {
        Smtp::start_on(free_port(), &[])
    }

    /// Starts on `port`, answering DATA as `script` says, then accepting.
    pub fn start_on(port: u16, script: &[Reply]) -> Smtp {
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().copied().collect()));
        let attempts = Arc::new(Mutex::new(0));
        let handler = Scripted {
            inbox: inbox.clone(),
            script,
            attempts: attempts.clone(),
            to: Vec::new(),
            buf: Vec::new(),
        };
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let mut server = Server::new(handler);
        server
            .with_name("smtp.test")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Smtp {
            port,
            inbox,
            attempts,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// DATA commands answered (accepted or not).
    pub fn attempts(&self) -> u32 {
        *self.attempts.lock().unwrap()
    }

    /// Waits (polling, at most 5 s) until a DATA command arrived.
    pub async fn wait_for_attempt(&self) {
        for _ in 0..100 {
            if self.attempts() > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (polling, bounded) until `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..300 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} messages, got {}", self.received().len());
    }
}
