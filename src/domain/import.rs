//! Consent imports: a CSV file in one of the two layouts organizations keep consent in, read
//! into rows of (contact key, topic, opted in?) with per-row errors. Plain Rust: the file's
//! bytes in, rows out; the service matches them to contacts and writes them.
//!
//! - **wide**: one row per contact, a column per topic (`Newsletter consent`, `Product update
//!   consent`), a value per cell; several files merge on the key;
//! - **long**: one row per contact and option (`Consent ID`, `Email`, `Consent option`,
//!   `Consent value`); the consent ID is the source's own key of that consent.
//!
//! The bytes may be UTF-8 (with or without a byte-order mark) or Latin-1 (read as Windows-1252,
//! as browsers do); the delimiter (comma, semicolon, tab, bar) and quoting are detected.

use super::parse::{EmailAddress, Lang, PhoneNumber};
use super::ConsentLevel;

/// The most rows one file may hold (a bound on what one import holds in memory).
pub const MAX_ROWS: usize = 2_000_000;

/// How the file keeps consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    Wide,
    Long,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Wide => "wide",
            Layout::Long => "long",
        }
    }
    pub fn parse(s: &str) -> Option<Layout> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wide" => Some(Layout::Wide),
            "long" => Some(Layout::Long),
            _ => None,
        }
    }
}

/// How the bytes were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    /// Not UTF-8: read as Windows-1252 (Latin-1's superset).
    Latin1,
}

/// The file's text, however it was encoded (borrowed when it is UTF-8 already: a large file
/// is not held twice).
pub fn decode(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, Encoding) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest), Encoding::Utf8Bom);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), Encoding::Utf8),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text, Encoding::Latin1)
        }
    }
}

/// The delimiter that splits the first lines into the same number (more than one) of fields;
/// a comma when none does.
pub fn sniff_delimiter(text: &str) -> u8 {
    let sample: String = text.lines().take(20).collect::<Vec<_>>().join("\n");
    let mut best = (b',', 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let mut r = csv::ReaderBuilder::new()
            .delimiter(d)
            .has_headers(false)
            .flexible(true)
            .from_reader(sample.as_bytes());
        let counts: Vec<usize> = r
            .records()
            .filter_map(|r| r.ok())
            .map(|r| r.len())
            .collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        if first > 1 && counts.iter().all(|&c| c == first) && first > best.1 {
            best = (d, first);
        }
    }
    best.0
}

/// A consent value as files write it: True/False, yes/no, 1/0, opt-in/opt-out, any case.
pub fn parse_consent(cell: &str) -> Option<bool> {
    let v: String = cell
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .collect();
    match v.as_str() {
        "true" | "yes" | "y" | "1" | "optin" | "optedin" | "subscribed" | "on" | "granted" => {
            Some(true)
        }
        "false" | "no" | "n" | "0" | "optout" | "optedout" | "unsubscribed" | "off"
        | "withdrawn" | "denied" => Some(false),
        _ => None,
    }
}

/// A column or option name folded for matching: lower case, letters and digits only, a
/// trailing "consent" and plural "s" dropped (`Product update consent` matches
/// `Product updates`).
pub fn fold_name(name: &str) -> String {
    let mut s: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    for suffix in ["consentvalue", "consent", "optin"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            if !rest.is_empty() {
                s = rest.to_owned();
                break;
            }
        }
    }
    if s.len() > 1 {
        if let Some(rest) = s.strip_suffix('s') {
            s = rest.to_owned();
        }
    }
    s
}

/// What a column of the file is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "is", content = "topic")]
pub enum Column {
    Email,
    Phone,
    /// The source's own id of a consent (long) or of a contact (wide).
    ConsentId,
    /// Long: the option's name; its values map to topics.
    Option,
    /// Long: the value of the row's option.
    Value,
    /// When the contact gave it (kept as evidence).
    ConsentDate,
    Level,
    Locale,
    Child,
    /// Wide: a topic's column (by the topic's key).
    Topic(String),
    Ignored,
}

/// A topic as the mapping step matches names to: its key and its names.
#[derive(Debug, Clone)]
pub struct TopicName {
    pub key: String,
    pub names: Vec<String>,
}

/// Which topic a name means: the topic whose key or any of whose names folds the same.
pub fn match_topic(name: &str, topics: &[TopicName]) -> Option<String> {
    let f = fold_name(name);
    if f.is_empty() {
        return None;
    }
    topics
        .iter()
        .find(|t| fold_name(&t.key) == f || t.names.iter().any(|n| fold_name(n) == f))
        .map(|t| t.key.clone())
}

/// The header's columns as the file names them, guessed: keys and optional columns by their
/// usual names, wide topic columns by the topics they name. What is not recognised is
/// `Ignored` (the mapping step, or `--map`, names it).
pub fn guess_columns(header: &[String], topics: &[TopicName]) -> Vec<Column> {
    header
        .iter()
        .map(|h| {
            let f: String = h
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            let f = f
                .strip_suffix("alternatekey")
                .or_else(|| f.strip_suffix("primarykey"))
                .unwrap_or(&f)
                .to_owned();
            match f.as_str() {
                "email" | "emailaddress" | "mail" | "email1" => Column::Email,
                "phone" | "phonenumber" | "mobile" | "mobilephone" | "sms" => Column::Phone,
                "consentid" | "id" | "contactid" | "customerid" => Column::ConsentId,
                "consentoption" | "option" | "topic" | "consenttype" => Column::Option,
                "consentvalue" | "value" | "status" | "consentstatus" => Column::Value,
                "consentdate" | "date" | "consentedat" | "optindate" | "dateofconsent" => {
                    Column::ConsentDate
                }
                "consentlevel" | "level" => Column::Level,
                "locale" | "language" | "lang" => Column::Locale,
                "child" | "ischild" | "minor" => Column::Child,
                _ => match match_topic(h, topics) {
                    Some(key) => Column::Topic(key),
                    None => Column::Ignored,
                },
            }
        })
        .collect()
}

/// The layout a header means: long when it has an option and a value column.
pub fn guess_layout(columns: &[Column]) -> Layout {
    if columns.contains(&Column::Option) && columns.contains(&Column::Value) {
        Layout::Long
    } else {
        Layout::Wide
    }
}

/// How one file is read: its layout, what each column is, and (long) which topic each option
/// name means (folded name → topic key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mapping {
    pub layout: Layout,
    pub columns: Vec<Column>,
    /// Long: option names (as the file writes them) and the topic each is.
    pub options: Vec<(String, String)>,
}

/// Why a mapping cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("no column holds the email address or the phone number")]
    NoKey,
    #[error("a long file needs a consent option column and a consent value column")]
    NoOptionOrValue,
    #[error("no column names a topic")]
    NoTopic,
    #[error("the column {0} is named twice")]
    Twice(String),
}

impl Mapping {
    pub fn check(&self) -> Result<(), MappingError> {
        let has = |c: &Column| self.columns.contains(c);
        if !has(&Column::Email) && !has(&Column::Phone) {
            return Err(MappingError::NoKey);
        }
        for c in [
            Column::Email,
            Column::Phone,
            Column::ConsentId,
            Column::Option,
            Column::Value,
            Column::ConsentDate,
            Column::Level,
            Column::Locale,
            Column::Child,
        ] {
            if self.columns.iter().filter(|x| **x == c).count() > 1 {
                return Err(MappingError::Twice(column_label(&c)));
            }
        }
        match self.layout {
            Layout::Long if !has(&Column::Option) || !has(&Column::Value) => {
                Err(MappingError::NoOptionOrValue)
            }
            Layout::Wide if !self.columns.iter().any(|c| matches!(c, Column::Topic(_))) => {
                Err(MappingError::NoTopic)
            }
            _ => Ok(()),
        }
    }

    /// The topic an option name means (long).
    pub fn topic_of_option(&self, option: &str) -> Option<&str> {
        let f = fold_name(option);
        self.options
            .iter()
            .find(|(name, _)| fold_name(name) == f)
            .map(|(_, key)| key.as_str())
    }
}

/// A column's role in words (errors, the mapping step).
pub fn column_label(c: &Column) -> String {
    match c {
        Column::Email => "Email".into(),
        Column::Phone => "Phone".into(),
        Column::ConsentId => "Consent ID".into(),
        Column::Option => "Consent option".into(),
        Column::Value => "Consent value".into(),
        Column::ConsentDate => "Consent date".into(),
        Column::Level => "Consent level".into(),
        Column::Locale => "Locale".into(),
        Column::Child => "Child".into(),
        Column::Topic(k) => format!("topic {k}"),
        Column::Ignored => "ignored".into(),
    }
}

/// One row read: who, and what they said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The file's line (1 is the header).
    pub line: u64,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub consent_id: Option<String>,
    /// (topic key, opted in?)
    pub items: Vec<(String, bool)>,
    /// As the file writes it (evidence only).
    pub consent_date: Option<String>,
    pub level: Option<ConsentLevel>,
    pub locale: Option<Lang>,
    pub child: Option<bool>,
}

/// Why a row is refused: its line, the column, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub why: String,
}

/// One data row of a file: read, or refused with why (every refused cell).
pub type Entry = Result<Row, Vec<RowError>>;

/// What one file reads into: every data row in file order, read or refused (a refused row
/// keeps its place, so a row's index stays the same when another row's cell is emptied).
#[derive(Debug, Default)]
pub struct Read {
    pub entries: Vec<Entry>,
}

impl Read {
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.entries.iter().filter_map(|e| e.as_ref().ok())
    }
    pub fn errors(&self) -> impl Iterator<Item = &RowError> {
        self.entries
            .iter()
            .filter_map(|e| e.as_ref().err())
            .flatten()
    }
}

/// Reads the header of a file's text: the delimiter and the column names.
pub fn header(text: &str) -> Result<(u8, Vec<String>), String> {
    let delimiter = sniff_delimiter(text);
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let h = r
        .headers()
        .map_err(|e| format!("the first line is not a CSV header: {e}"))?;
    let names: Vec<String> = h.iter().map(|s| s.trim().to_owned()).collect();
    if names.iter().all(|n| n.is_empty()) {
        return Err("the file is empty".into());
    }
    Ok((delimiter, names))
}

/// The distinct values of one column (a long file's option names, for the mapping step), in
/// order of first appearance; `max` at most.
pub fn distinct_values(text: &str, delimiter: u8, column: usize, max: usize) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for rec in r.records().flatten() {
        let Some(v) = rec.get(column).map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        if seen.insert(fold_name(v)) {
            out.push(v.to_owned());
            if out.len() >= max {
                break;
            }
        }
    }
    out
}

/// Reads every row of a file under a mapping; a row with an error is listed, not read.
pub fn read(text: &str, delimiter: u8, mapping: &Mapping) -> Result<Read, String> {
    let mut out = Read::default();
    read_each(text, delimiter, mapping, |e| out.entries.push(e))?;
    Ok(out)
}

/// [`read`], each entry handed to `each` as it is read instead of kept (a large file's rows
/// are then never all in memory twice).
pub fn read_each(
    text: &str,
    delimiter: u8,
    mapping: &Mapping,
    mut each: impl FnMut(Entry),
) -> Result<(), String> {
    let mut rows = RowReader::new(text.as_bytes(), delimiter, mapping.clone());
    while let Some(entry) = rows.next_entry() {
        each(entry?);
    }
    Ok(())
}

/// A file's rows under a mapping, read one at a time from any reader of its UTF-8 text (a
/// large file's rows need not all be in memory: an import writes them a batch at a time).
pub struct RowReader<R: std::io::Read> {
    csv: csv::Reader<R>,
    record: csv::StringRecord,
    mapping: Mapping,
    /// The columns of each role.
    at: Roles,
    /// Records read so far.
    n: usize,
}

/// Where each role's column is.
#[derive(Debug, Clone, Copy)]
struct Roles {
    email: Option<usize>,
    phone: Option<usize>,
    id: Option<usize>,
    option: Option<usize>,
    value: Option<usize>,
    date: Option<usize>,
    level: Option<usize>,
    locale: Option<usize>,
    child: Option<usize>,
}

impl<R: std::io::Read> RowReader<R> {
    pub fn new(text: R, delimiter: u8, mapping: Mapping) -> RowReader<R> {
        let csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(text);
        let col = |c: &Column| mapping.columns.iter().position(|x| x == c);
        let at = Roles {
            email: col(&Column::Email),
            phone: col(&Column::Phone),
            id: col(&Column::ConsentId),
            option: col(&Column::Option),
            value: col(&Column::Value),
            date: col(&Column::ConsentDate),
            level: col(&Column::Level),
            locale: col(&Column::Locale),
            child: col(&Column::Child),
        };
        RowReader {
            csv,
            record: csv::StringRecord::new(),
            mapping,
            at,
            n: 0,
        }
    }

    /// The next data row (blank lines passed over), `None` at the end; an error when the file
    /// holds more than [`MAX_ROWS`] rows.
    pub fn next_entry(&mut self) -> Option<Result<Entry, String>> {
        loop {
            if self.n >= MAX_ROWS {
                return Some(Err(format!("the file holds more than {MAX_ROWS} rows")));
            }
            let rec = match self.csv.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => Ok(&self.record),
                Err(e) => Err(e),
            };
            let n = self.n;
            self.n += 1;
            if let Some(e) = entry(&self.mapping, self.at, n, rec) {
                return Some(Ok(e));
            }
        }
    }
}

/// One record read as an entry; `None` for a blank line.
fn entry(
    mapping: &Mapping,
    at: Roles,
    n: usize,
    rec: csv::Result<&csv::StringRecord>,
) -> Option<Entry> {
    let Roles {
        email,
        phone,
        id,
        option,
        value,
        date,
        level,
        locale,
        child,
    } = at;
    let line = rec
        .as_ref()
        .ok()
        .and_then(|r| r.position())
        .map(|p| p.line())
        .unwrap_or(n as u64 + 2);
    let rec = match rec {
        Ok(r) => r,
        Err(e) => {
            return Some(Err(vec![RowError {
                line,
                column: String::new(),
                why: format!("not a CSV row: {e}"),
            }]));
        }
    };
    let cell = |i: Option<usize>| {
        i.and_then(|i| rec.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if rec.iter().all(|c| c.trim().is_empty()) {
        return None; // a blank line
    }
    let mut errors = Vec::new();
    let mut fail = |c: &Column, why: String| {
        errors.push(RowError {
            line,
            column: column_label(c),
            why,
        })
    };
    let email_v = match cell(email).map(EmailAddress::parse) {
        None => None,
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => {
            fail(
                &Column::Email,
                super::parse::address_error_words(e).to_owned(),
            );
            None
        }
    };
    let phone_v = match cell(phone).map(PhoneNumber::parse) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            fail(
                &Column::Phone,
                super::parse::address_error_words(e).to_owned(),
            );
            None
        }
    };
    if email_v.is_none() && phone_v.is_none() && cell(email).is_none() && cell(phone).is_none() {
        fail(
            if email.is_some() {
                &Column::Email
            } else {
                &Column::Phone
            },
            "no email address or phone number".into(),
        );
    }
    let mut items = Vec::new();
    match mapping.layout {
        Layout::Long => {
            let opt = cell(option);
            let topic = opt.and_then(|o| mapping.topic_of_option(o));
            match (opt, topic) {
                (None, _) => fail(&Column::Option, "no consent option".into()),
                (Some(o), None) => fail(&Column::Option, format!("“{o}” is not mapped to a topic")),
                (Some(_), Some(t)) => match cell(value).map(parse_consent) {
                    Some(Some(on)) => items.push((t.to_owned(), on)),
                    Some(None) => fail(
                        &Column::Value,
                        format!(
                            "“{}” is not a consent value (true/false, yes/no, 1/0, opt-in/opt-out)",
                            cell(value).unwrap_or_default()
                        ),
                    ),
                    None => fail(&Column::Value, "no consent value".into()),
                },
            }
        }
        Layout::Wide => {
            for (i, c) in mapping.columns.iter().enumerate() {
                let Column::Topic(key) = c else { continue };
                let Some(v) = cell(Some(i)) else { continue };
                match parse_consent(v) {
                    Some(on) => items.push((key.clone(), on)),
                    None => fail(
                        c,
                        format!(
                            "“{v}” is not a consent value (true/false, yes/no, 1/0, opt-in/opt-out)"
                        ),
                    ),
                }
            }
        }
    }
    let level_v = match cell(level) {
        None => None,
        Some(v) => match v.parse::<i64>().ok().and_then(ConsentLevel::new) {
            Some(l) => Some(l),
            None => {
                fail(&Column::Level, format!("“{v}” is not a level from 0 to 5"));
                None
            }
        },
    };
    let locale_v = match cell(locale) {
        None => None,
        Some(v) => match Lang::parse(v) {
            Some(l) => Some(l),
            None => {
                fail(
                    &Column::Locale,
                    format!("“{v}” is not a language this server speaks"),
                );
                None
            }
        },
    };
    let child_v = match cell(child) {
        None => None,
        Some(v) => match parse_consent(v) {
            Some(b) => Some(b),
            None => {
                fail(&Column::Child, format!("“{v}” is not yes or no"));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Some(Err(errors));
    }
    Some(Ok(Row {
        line,
        email: email_v,
        phone: phone_v,
        consent_id: cell(id).map(str::to_owned),
        items,
        consent_date: cell(date).map(|d| d.chars().take(64).collect()),
        level: level_v,
        locale: locale_v,
        child: child_v,
    }))
}

/// Wide files that each hold some topics of the same contacts (the seeds' "separate tables")
/// merged on the key: one row per contact, every file's topics; a later file's value of the
/// same topic wins. The merged row keeps its first line (of the first file). The first file's
/// refused rows keep their place; later files' go after every row (so emptying a cell of a
/// later file moves no row).
pub fn merge(files: Vec<Read>) -> Read {
    let mut out = Read::default();
    let mut tail = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (n, f) in files.into_iter().enumerate() {
        for entry in f.entries {
            let row = match entry {
                Ok(r) => r,
                Err(e) if n == 0 => {
                    out.entries.push(Err(e));
                    continue;
                }
                Err(e) => {
                    tail.push(Err(e));
                    continue;
                }
            };
            let key = match (&row.email, &row.phone) {
                (Some(e), _) => format!("e:{}", e.as_str()),
                (None, Some(p)) => format!("p:{}", p.as_str()),
                (None, None) => continue,
            };
            match at.get(&key) {
                None => {
                    at.insert(key, out.entries.len());
                    out.entries.push(Ok(row));
                }
                Some(&i) => {
                    let Ok(into) = &mut out.entries[i] else {
                        continue;
                    };
                    for (t, on) in row.items {
                        match into.items.iter_mut().find(|(k, _)| *k == t) {
                            Some(slot) => slot.1 = on,
                            None => into.items.push((t, on)),
                        }
                    }
                    into.phone = into.phone.take().or(row.phone);
                    into.consent_date = row.consent_date.or(into.consent_date.take());
                    into.level = row.level.or(into.level);
                    into.locale = row.locale.or(into.locale);
                    into.child = row.child.or(into.child);
                }
            }
        }
    }
    out.entries.extend(tail);
    out
}

/// A kept file with every cell that is this email address or this phone number emptied (an
/// erasure): `None` when no cell is. The rows keep their place (a running import resumes
/// where it was); the file comes back as UTF-8 with its delimiter.
pub fn scrub(bytes: &[u8], email: Option<&str>, phone: Option<&str>) -> Option<Vec<u8>> {
    let (text, _) = decode(bytes);
    let delimiter = sniff_delimiter(&text);
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(Vec::with_capacity(bytes.len()));
    let mut found = false;
    for rec in r.records() {
        let Ok(rec) = rec else { continue };
        let cells: Vec<&str> = rec
            .iter()
            .map(|cell| {
                let c = cell.trim();
                let hit = email.is_some_and(|e| {
                    c.eq_ignore_ascii_case(e)
                        || EmailAddress::parse(c).is_ok_and(|x| x.as_str() == e)
                }) || phone
                    .is_some_and(|p| PhoneNumber::parse(c).is_ok_and(|x| x.as_str() == p));
                if hit {
                    found = true;
                    ""
                } else {
                    cell
                }
            })
            .collect();
        w.write_record(&cells).ok()?;
    }
    if !found {
        return None;
    }
    w.into_inner().ok()
}

/// The SHA-256 of a file's bytes, hex (names the file in every record it made).
pub fn file_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> Vec<TopicName> {
        vec![
            TopicName {
                key: "newsletter".into(),
                names: vec!["Newsletter".into()],
            },
            TopicName {
                key: "product-updates".into(),
                names: vec!["Product updates".into()],
            },
        ]
    }

    fn mapped(text: &str) -> (u8, Mapping) {
        let (d, h) = header(text).unwrap();
        let columns = guess_columns(&h, &topics());
        let layout = guess_layout(&columns);
        (
            d,
            Mapping {
                layout,
                columns,
                options: vec![
                    ("Newsletter".into(), "newsletter".into()),
                    ("Product updates".into(), "product-updates".into()),
                ],
            },
        )
    }

    #[test]
    fn the_seeds_long_table_reads_as_four_consents() {
        let text = "Consent ID (primary key),Email (alternate key),Consent option,Consent value\n\
                    1,holly@contoso.com,Newsletter,False\n\
                    2,holly@contoso.com,Product updates,True\n\
                    3,frank@contoso.com,Newsletter,True\n\
                    4,frank@contoso.com,Product updates,False\n";
        let (d, m) = mapped(text);
        assert_eq!(m.layout, Layout::Long);
        assert_eq!(m.columns[0], Column::ConsentId);
        assert_eq!(m.columns[1], Column::Email);
        m.check().unwrap();
        let r = read(text, d, &m).unwrap();
        assert_eq!(r.errors().count(), 0);
        let rows: Vec<&Row> = r.rows().collect();
        let got: Vec<(&str, &str, bool)> = rows
            .iter()
            .map(|r| {
                (
                    r.email.as_ref().unwrap().as_str(),
                    r.items[0].0.as_str(),
                    r.items[0].1,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("holly@contoso.com", "newsletter", false),
                ("holly@contoso.com", "product-updates", true),
                ("frank@contoso.com", "newsletter", true),
                ("frank@contoso.com", "product-updates", false),
            ]
        );
        assert_eq!(rows[1].consent_id.as_deref(), Some("2"));
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn the_seeds_wide_tables_read_and_merge_on_the_key() {
        let one = "Consent ID;Email;Newsletter consent;Product update consent\n\
                   1;holly@contoso.com;True;True\n2;frank@contoso.com;True;False\n";
        let (d, m) = mapped(one);
        assert_eq!(d, b';');
        assert_eq!(m.layout, Layout::Wide);
        assert_eq!(
            m.columns[2..],
            [
                Column::Topic("newsletter".into()),
                Column::Topic("product-updates".into())
            ]
        );
        let r = read(one, d, &m).unwrap();
        assert_eq!(
            r.rows().nth(1).unwrap().items,
            vec![
                ("newsletter".into(), true),
                ("product-updates".into(), false)
            ]
        );

        let a = "Consent ID,Email,Newsletter consent\n1,holly@contoso.com,True\n2,frank@contoso.com,True\n";
        let b = "Consent ID\tEmail\tProduct update consent\n1\tholly@CONTOSO.com\tTrue\n2\tfrank@contoso.com\tFalse\n";
        let (da, ma) = mapped(a);
        let (db, mb) = mapped(b);
        assert_eq!(db, b'\t');
        let merged = merge(vec![read(a, da, &ma).unwrap(), read(b, db, &mb).unwrap()]);
        let rows: Vec<&Row> = merged.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].items,
            vec![
                ("newsletter".into(), true),
                ("product-updates".into(), true)
            ]
        );
        assert_eq!(
            rows[1].items,
            vec![
                ("newsletter".into(), true),
                ("product-updates".into(), false)
            ]
        );
    }

    #[test]
    fn bad_rows_are_listed_with_their_line_column_and_why() {
        let text = "Email,Newsletter consent,Consent level\n\
                    holly@contoso.com,maybe,3\n\
                    not-an-address,yes,1\n\
                    ,yes,\n\
                    frank@contoso.com,no,9\n\
                    ana@example.com,Opt-In,4\n";
        let (d, m) = mapped(text);
        let r = read(text, d, &m).unwrap();
        assert_eq!(r.entries.len(), 5, "refused rows keep their place");
        assert_eq!(r.entries.len(), 5, "refused rows keep their place");
        let errs: Vec<(u64, &str)> = r.errors().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            errs,
            vec![
                (2, "topic newsletter"),
                (3, "Email"),
                (4, "Email"),
                (5, "Consent level")
            ]
        );
        assert!(r.errors().next().unwrap().why.contains("“maybe”"));
        let rows: Vec<&Row> = r.rows().collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 6);
        assert_eq!(rows[0].items, vec![("newsletter".into(), true)]);
        assert_eq!(rows[0].level, ConsentLevel::new(4));
    }

    #[test]
    fn latin1_and_a_bom_are_read_and_values_in_any_case() {
        let (t, e) = decode(b"\xEF\xBB\xBFEmail\n");
        assert_eq!((&*t, e), ("Email\n", Encoding::Utf8Bom));
        let (t, e) = decode(b"Name\nJos\xe9\n");
        assert_eq!((&*t, e), ("Name\nJosé\n", Encoding::Latin1));
        for (v, want) in [
            ("TRUE", Some(true)),
            ("no", Some(false)),
            ("1", Some(true)),
            ("Opt-out", Some(false)),
            ("opted in", Some(true)),
            ("perhaps", None),
        ] {
            assert_eq!(parse_consent(v), want, "{v}");
        }
        assert_eq!(
            fold_name("Product update consent"),
            fold_name("Product updates")
        );
        assert_ne!(fold_name("Newsletter"), fold_name("News"));
    }

    #[test]
    fn an_erased_address_is_emptied_in_a_kept_file_and_its_row_keeps_its_place() {
        let text = "Email;Phone;Newsletter consent\nHolly@Contoso.com;+1 (425) 555-0101;yes\n\
                    frank@contoso.com;;no\n";
        let out = scrub(
            text.as_bytes(),
            Some("holly@contoso.com"),
            Some("+14255550101"),
        )
        .expect("found");
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            "Email;Phone;Newsletter consent\n;;yes\nfrank@contoso.com;;no\n"
        );
        assert!(scrub(out.as_bytes(), Some("holly@contoso.com"), None).is_none());
    }

    #[test]
    fn a_mapping_needs_a_key_and_what_its_layout_needs() {
        let m = Mapping {
            layout: Layout::Wide,
            columns: vec![Column::Topic("newsletter".into())],
            options: vec![],
        };
        assert_eq!(m.check(), Err(MappingError::NoKey));
        let m = Mapping {
            layout: Layout::Long,
            columns: vec![Column::Email, Column::Option],
            options: vec![],
        };
        assert_eq!(m.check(), Err(MappingError::NoOptionOrValue));
        let m = Mapping {
            layout: Layout::Wide,
            columns: vec![Column::Email, Column::Email, Column::Topic("x".into())],
            options: vec![],
        };
        assert_eq!(m.check(), Err(MappingError::Twice("Email".into())));
    }
}
