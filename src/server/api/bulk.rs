//! Whole send lists in and out: a JSON array or newline-delimited JSON, read as it arrives and
//! answered a batch at a time in the same form, so memory stays bounded whatever the length.
//! What each batch's answer is (a decision, links) is the calling route's.

use super::{ApiError, ErrorBody, ReasonBody};
use crate::domain::PointKind;
use crate::services::links::Links;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::future::Future;
use tokio::sync::mpsc;
use utoipa::ToSchema;

/// Recipients per batch (one lookup of each kind per batch).
pub(super) const BULK_BATCH: usize = 1000;
/// The most recipients one list may have.
pub(super) const BULK_MAX: u64 = 1_000_000;

/// One recipient of a list: exactly one of `email` and `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Recipient {
    email: Option<String>,
    phone: Option<String>,
    /// The caller's own id for the recipient, echoed back.
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// One answer of a list (a line of newline-delimited JSON, or an element of the array): a
/// recipient's answer, a recipient's error, or the error that ended the list.
#[derive(Debug, Default, Serialize, ToSchema)]
pub(super) struct BulkLine {
    /// The recipient's place in the list, from 0 (absent on a line that ends the list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The caller's own id for the recipient, as sent.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A decision (`/decide/bulk`): whether the recipient may be contacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    /// A decision's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReasonBody>,
    /// The recipient's links (`/links/bulk`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl BulkLine {
    /// A recipient's error line.
    pub fn error(code: &str, message: impl Into<String>, field: Option<&str>) -> BulkLine {
        BulkLine {
            error: Some(ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                field: field.map(str::to_owned),
            }),
            ..BulkLine::default()
        }
    }
}

/// A batch's recipients' addresses, parsed at the edge.
pub(super) type Batch = std::sync::Arc<Vec<(PointKind, String)>>;

/// Whether a list comes as newline-delimited JSON (else a JSON array), from its media type.
pub(super) fn is_ndjson(headers: &HeaderMap) -> Result<bool, ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("application/x-ndjson") => Ok(true),
        Some("application/json") => Ok(false),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send a JSON array (application/json) or one recipient per line (application/x-ndjson).",
        )),
    }
}

/// Answers a list: `answer` gets each batch's parsed addresses and gives one line each (`None`
/// leaves a recipient out); recipients that do not parse get their error line unless
/// `skip_errors`. The answer streams in the list's form and order.
///
/// The list's first bytes are awaited before the answer begins: a client that sent `Expect:
/// 100-continue` (curl does for any body over a megabyte) is told to go on when the body is
/// first read, and an answer under way would leave it waiting out its own timeout (a second).
pub(super) async fn stream<F, Fut>(
    body: Body,
    ndjson: bool,
    skip_errors: bool,
    answer: F,
) -> Response
where
    F: FnMut(Batch) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<Option<BulkLine>>, ApiError>> + Send + 'static,
{
    // The body, read on a blocking thread by serde_json as it arrives; recipients go a batch
    // at a time into a bounded channel (the reader waits while the answers are behind).
    let (items_tx, items_rx) = mpsc::channel::<Vec<Result<Recipient, String>>>(4);
    use futures_util::StreamExt as _;
    let mut data = body.into_data_stream();
    let first = data.next().await;
    let data = futures_util::TryStreamExt::map_err(
        futures_util::stream::iter(first).chain(data),
        std::io::Error::other,
    );
    let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(data));
    tokio::task::spawn_blocking(move || read_recipients(reader, ndjson, items_tx));

    let (out_tx, out_rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(answer_all(ndjson, skip_errors, items_rx, out_tx, answer));
    let body = Body::from_stream(futures_util::stream::unfold(out_rx, |mut rx| async {
        rx.recv().await.map(|x| (x, rx))
    }));
    let media = if ndjson {
        "application/x-ndjson"
    } else {
        "application/json"
    };
    ([(header::CONTENT_TYPE, media)], body).into_response()
}

/// Recipients read and not sent yet: they go to the answering task a batch at a time (one
/// channel operation per thousand recipients, not one each).
struct Chunks<'a> {
    tx: &'a mpsc::Sender<Vec<Result<Recipient, String>>>,
    buf: Vec<Result<Recipient, String>>,
}

impl Chunks<'_> {
    /// Adds one; `false` once the answering side is gone (the reading stops).
    fn push(&mut self, item: Result<Recipient, String>) -> bool {
        let last = item.is_err();
        self.buf.push(item);
        if self.buf.len() >= BULK_BATCH || last {
            return self.flush();
        }
        true
    }

    fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(BULK_BATCH));
        self.tx.blocking_send(chunk).is_ok()
    }
}

/// Reads recipients from the body (a JSON array, or JSON values one per line) into `tx`; a
/// body that stops being what the call takes ends the list with its error.
fn read_recipients(
    reader: impl std::io::Read,
    ndjson: bool,
    tx: mpsc::Sender<Vec<Result<Recipient, String>>>,
) {
    let reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut chunks = Chunks {
        tx: &tx,
        buf: Vec::with_capacity(BULK_BATCH),
    };
    if ndjson {
        for item in de.into_iter::<Recipient>() {
            let failed = item.is_err();
            if !chunks.push(item.map_err(|e| e.to_string())) || failed {
                return;
            }
        }
        chunks.flush();
        return;
    }
    struct Each<'a, 'b>(&'a mut Chunks<'b>);
    impl<'de> serde::de::Visitor<'de> for Each<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of recipients")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(r) = seq.next_element::<Recipient>()? {
                if !self.0.push(Ok(r)) {
                    return Ok(());
                }
            }
            Ok(())
        }
    }
    let done =
        serde::Deserializer::deserialize_seq(&mut de, Each(&mut chunks)).and_then(|_| de.end());
    match done {
        Ok(()) => {
            chunks.flush();
        }
        Err(e) => {
            chunks.push(Err(e.to_string()));
        }
    }
}

/// Batches answered at once: the next batch's lookup runs (on a read connection's thread)
/// while the one before is written out. Measured on 2 cores, a million recipients: 2.7–3.2 s
/// against 3.6–4.1 s one batch at a time.
const IN_FLIGHT: usize = 2;

/// A batch read and parsed, with what its lines are: each recipient's place among the parsed
/// addresses and its reference, or its error line; and the line that ends the list after it.
struct Read {
    lines: Vec<Result<(usize, Option<String>), BulkLine>>,
    addresses: Batch,
    failure: Option<BulkLine>,
}

/// Answers the recipients a batch at a time, in order, into the response body.
async fn answer_all<F, Fut>(
    ndjson: bool,
    skip_errors: bool,
    mut items: mpsc::Receiver<Vec<Result<Recipient, String>>>,
    out: mpsc::Sender<Result<Bytes, std::io::Error>>,
    mut answer: F,
) where
    F: FnMut(Batch) -> Fut,
    Fut: Future<Output = Result<Vec<Option<BulkLine>>, ApiError>>,
{
    use futures_util::StreamExt as _;
    let mut first = true;
    let mut index: u64 = 0;
    // One element of the answer, with the separator its form needs.
    let mut push = |buf: &mut String, line: &BulkLine| {
        let text = serde_json::to_string(line).unwrap_or_default();
        if ndjson {
            buf.push_str(&text);
            buf.push('\n');
        } else {
            buf.push_str(if first { "[\n" } else { ",\n" });
            buf.push_str(&text);
        }
        first = false;
    };
    let mut received: u64 = 0;
    let mut reading = true;
    let mut pending = futures_util::stream::FuturesOrdered::new();
    loop {
        while reading && pending.len() < IN_FLIGHT {
            let Some(batch) = items.recv().await else {
                reading = false;
                break;
            };
            let read = read_batch(batch, &mut received);
            reading = read.failure.is_none();
            let answered = answer(read.addresses.clone());
            pending.push_back(async move { (read, answered.await) });
        }
        let Some((read, answered)) = pending.next().await else {
            break;
        };
        let Read {
            lines,
            addresses,
            mut failure,
        } = read;
        let mut answers = match answered {
            Ok(a) => a,
            Err(e) => {
                failure = Some(BulkLine::error(
                    e.code,
                    "The server could not answer the rest now. Try again.",
                    None,
                ));
                Vec::new()
            }
        };
        let mut buf = String::with_capacity(lines.len() * 96);
        for line in lines {
            let i = index;
            index += 1;
            let mut line = match line {
                Err(_) if skip_errors => continue,
                Err(e) => e,
                Ok((n, reference)) => {
                    let Some(Some(mut line)) = answers.get_mut(n).map(Option::take) else {
                        continue;
                    };
                    let (kind, address) = &addresses[n];
                    match kind {
                        PointKind::Email => line.email = Some(address.clone()),
                        PointKind::Phone => line.phone = Some(address.clone()),
                    }
                    line.reference = reference;
                    line
                }
            };
            line.index = Some(i);
            push(&mut buf, &line);
        }
        let ended = failure.is_some();
        if let Some(f) = failure {
            push(&mut buf, &f);
        }
        if !buf.is_empty() && out.send(Ok(Bytes::from(buf))).await.is_err() {
            return;
        }
        if ended {
            // A batch after it may be in flight: its answers are not sent.
            break;
        }
    }
    if !ndjson {
        let tail = if first { "[]\n" } else { "\n]\n" };
        let _ = out.send(Ok(Bytes::from(tail))).await;
    }
}

/// Parses a batch's addresses at the edge (or says why not); `received` counts the recipients
/// of the list so far, and a batch past [`BULK_MAX`] is cut there and ends the list.
fn read_batch(mut batch: Vec<Result<Recipient, String>>, received: &mut u64) -> Read {
    let mut failure = None;
    if *received + batch.len() as u64 > BULK_MAX {
        batch.truncate(BULK_MAX.saturating_sub(*received) as usize);
        failure = Some(BulkLine::error(
            "too_many_recipients",
            format!("A list has at most {BULK_MAX} recipients; the rest were not answered."),
            None,
        ));
    }
    *received += batch.len() as u64;
    let mut parsed: Vec<(PointKind, String)> = Vec::new();
    let mut lines: Vec<Result<(usize, Option<String>), BulkLine>> = Vec::new();
    for item in batch {
        match item {
            Err(message) => {
                failure = Some(BulkLine::error(
                    "malformed_body",
                    format!("The list is not what this call takes: {message}."),
                    None,
                ));
                break;
            }
            Ok(r) => {
                let reference = r.reference.clone();
                match super::parse_point(r.email, r.phone) {
                    Ok(p) => {
                        lines.push(Ok((parsed.len(), reference)));
                        parsed.push(p);
                    }
                    Err((field, message)) => lines.push(Err(BulkLine {
                        reference,
                        ..BulkLine::error("invalid_field", message, Some(field))
                    })),
                }
            }
        }
    }
    Read {
        lines,
        // Shared with the answering future, read again for each line's address.
        addresses: std::sync::Arc::new(parsed),
        failure,
    }
}
