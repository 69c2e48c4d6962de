//! The real binary killed with SIGKILL while an email is being handed to the SMTP server, then
//! started again: the email is sent again with the same Message-ID, and every change that was
//! acknowledged before the kill is still there.

use crate::helpers::post_form_to;
use crate::smtp::{free_port, Reply, Smtp};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub(crate) struct Running {
    pub child: Child,
    pub base: String,
    pub links: Vec<(String, String)>,
}

impl Running {
    /// The printed link of the demo contact whose address starts with `who`.
    pub fn link(&self, who: &str) -> String {
        self.links
            .iter()
            .find(|(a, _)| a.starts_with(who))
            .unwrap()
            .1
            .clone()
    }
}

/// A server a failed test left running would go on using CPU and ports: it is killed when
/// its `Running` goes away (after a test's own kill or stop, this does nothing).
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path, db_url: &str, smtp_port: u16) -> Running {
    start_with(dir, db_url, smtp_port, &[])
}

/// The real binary on `db_url`, sending mail to the test SMTP server on `smtp_port`, with
/// short leases and polls; `extra` arguments are added. Returns once it listens.
// The caller waits for (or kills, then waits for) the child it gets back.
#[allow(clippy::zombie_processes)]
pub(crate) fn start_with(
    dir: &std::path::Path,
    db_url: &str,
    smtp_port: u16,
    extra: &[&str],
) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_prefcenter"))
        .args([
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            db_url,
            "--data-dir",
        ])
        .arg(dir)
        .args([
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &smtp_port.to_string(),
            "--smtp-security",
            "none",
            "--mail-lease-ms",
            "1000",
            "--poll-ms",
            "100",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut links = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server starts");
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() == 2 && parts[1].contains("/u/") {
            links.push((parts[0].to_owned(), parts[1].to_owned()));
        }
        if let Some(base) = line.strip_prefix("prefcenter listening on ") {
            return Running {
                child,
                base: base.trim().to_owned(),
                links,
            };
        }
    }
}

#[tokio::test]
async fn a_server_killed_mid_send_sends_again_with_the_same_message_id_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = crate::helpers::fresh_database(dir.path()).await;
    let port = free_port();
    // The first delivery hangs in DATA long enough to kill the server under it.
    let smtp = Smtp::start_on(port, &[Reply::Stall(Duration::from_secs(3))]);
    let mut first = start(dir.path(), &db_url, port);
    let client = crate::helpers::client();
    // Acknowledged changes: Holly asks for the Newsletter, Frank unsubscribes by one-click.
    let holly = first.link("holly");
    let res = post_form_to(
        &client,
        &holly,
        "action=save&t1.email=on&t2.email=on&t3.email=on&t2.sms=on",
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = post_form_to(&client, &first.link("frank"), "List-Unsubscribe=One-Click").await;
    assert_eq!(res.status(), 200);

    // Kill it while the SMTP server holds the message.
    smtp.wait_for_attempt().await;
    assert_eq!(smtp.attempts(), 1, "the send began");
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    assert!(first.base.starts_with("http://"));

    // Started again, it sends the message again once the dead process's lease runs out.
    let mut second = start(dir.path(), &db_url, port);
    let got = smtp.wait_for(2).await;
    assert_eq!(got.len(), 2);
    let ids: Vec<String> = got
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids[0], ids[1], "a resend is the same message");
    assert_eq!(got[0].to, vec!["holly@contoso.com".to_owned()]);
    // Either link confirms: the receiver may keep either copy.
    let confirm = format!("{}{}", second.base, got[1].confirm_path());
    assert_eq!(client.get(&confirm).send().await.unwrap().status(), 200);

    Command::new("kill")
        .arg("-TERM")
        .arg(second.child.id().to_string())
        .status()
        .unwrap();
    assert!(second.child.wait().unwrap().success());

    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&db_url).await.unwrap();
    let states: Vec<(String, String)> = sqlx::query_as(
        "SELECT cp.address, s.value FROM consent_states s
         JOIN contact_points cp ON cp.id = s.contact_point_id
         WHERE s.subject_kind = 'topic' AND s.subject_id = 1 AND s.channel = 'email' ORDER BY 1",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(
        states,
        vec![
            ("frank@contoso.com".to_owned(), "opted_out".to_owned()),
            ("holly@contoso.com".to_owned(), "pending".to_owned()),
            ("lena@contoso.com".to_owned(), "opted_in".to_owned()),
        ]
    );
    let sent: String = sqlx::query_scalar("SELECT status FROM outbox")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(sent, "sent");
    db.close().await.unwrap();
    let verify = Command::new(env!("CARGO_BIN_EXE_prefcenter"))
        .args(["ledger", "verify", "--database-url", &db_url, "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
