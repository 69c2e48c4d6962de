//! Segments over a large contact list: counting "Newsletter allowed on email" (and a segment of
//! several rules joined by and/or) over BENCH_SEGMENT_CONTACTS contacts (1,000,000 by default),
//! and exporting it as CSV with a one-click unsubscribe link and the List-Unsubscribe values
//! minted per row, through the same service the console's export streams.
//!
//! `cargo bench --features ssr --bench segments` (release build). The database is an SQLite
//! file in a temporary folder (BENCH_TMPDIR, else TMPDIR), or the PostgreSQL database
//! `BENCH_SEGMENT_POSTGRES` names (emptied first). Targets (issue 13): a count under 500 ms, the
//! export under 5 s.

use futures_util::StreamExt as _;
use prefcenter::domain::segment::{Clause, Column, Day, Definition, Rule};
use prefcenter::domain::{Channel, Subject};
use prefcenter::services::segment as seg;
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let contacts = env_usize("BENCH_SEGMENT_CONTACTS", 1_000_000);
    let runs = env_usize("BENCH_SEGMENT_RUNS", 5);
    let tmp = std::env::var("BENCH_TMPDIR")
        .ok()
        .or_else(|| std::env::var("TMPDIR").ok())
        .unwrap_or_else(|| "/tmp".into());
    let dir = tempfile::Builder::new()
        .prefix("prefcenter-segments-")
        .tempdir_in(tmp)
        .expect("a temporary folder");
    // BENCH_SEGMENT_DB: an SQLite file kept between runs (seeded when it does not exist yet).
    let kept = std::env::var("BENCH_SEGMENT_DB")
        .ok()
        .filter(|p| !p.is_empty());
    let reuse = kept
        .as_ref()
        .is_some_and(|p| std::path::Path::new(p).exists());
    let url = match (std::env::var("BENCH_SEGMENT_POSTGRES"), &kept) {
        (Ok(u), _) if !u.is_empty() => u,
        (_, Some(p)) => format!("sqlite://{p}"),
        _ => format!("sqlite://{}/bench.db", dir.path().display()),
    };
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("segments: {contacts} contacts on {backend}");

    // The data: the demo's catalogue, the bench contacts, and their newsletter states: a third
    // opted in, a fifth opted out, one in fifty waiting for confirmation, the rest never asked
    // (Commercial is non-restrictive: allowed by default); one in forty a child; levels 0–5;
    // languages en/de/fr.
    let t = Instant::now();
    let mut db = prefcenter::store::open(&url, 4)
        .await
        .expect("the database");
    if !reuse {
        prefcenter::services::demo::seed(&mut db.write)
            .await
            .expect("the demo catalogue");
        prefcenter::services::demo::bench_contacts(&mut db.write, contacts, 30)
            .await
            .expect("the bench contacts");
    }
    let cat = prefcenter::store::catalog::load(
        &db.read,
        prefcenter::store::catalog::profile_id_by_key(&db.read, "contoso")
            .await
            .expect("the profile")
            .expect("contoso"),
    )
    .await
    .expect("the catalogue")
    .expect("contoso's catalogue");
    let profile = cat.profile.id;
    let commercial = cat
        .purposes
        .iter()
        .find(|p| p.key == "commercial")
        .unwrap()
        .id;
    let newsletter = cat
        .topics
        .iter()
        .find(|t| t.key == "newsletter")
        .unwrap()
        .id;
    let pg = backend == "PostgreSQL";
    let (yes, no) = if pg { ("TRUE", "FALSE") } else { ("1", "0") };
    let statements = [
        format!(
            "UPDATE contacts SET consent_level = id % 6,
                 is_child = CASE WHEN id % 40 = 0 THEN {yes} ELSE {no} END,
                 locale = CASE id % 3 WHEN 0 THEN 'en' WHEN 1 THEN 'de' ELSE 'fr' END
             WHERE profile_id = {profile}"
        ),
        format!(
            "INSERT INTO consent_states (contact_point_id, subject_kind, subject_id, channel,
                 value, custodian_confirmed, ledger_seq, set_at)
             SELECT cp.id, 'topic', {newsletter}, 'email',
                 CASE WHEN cp.id % 3 = 0 THEN 'opted_in' WHEN cp.id % 5 = 0 THEN 'opted_out'
                      WHEN cp.id % 50 = 1 THEN 'pending' ELSE 'not_set' END,
                 CASE WHEN cp.id % 80 = 0 THEN {yes} ELSE {no} END, 1, c.created_at
             FROM contact_points cp JOIN contacts c ON c.id = cp.contact_id
             WHERE c.profile_id = {profile} AND cp.address LIKE 'bench%'"
        ),
        format!(
            "INSERT INTO consent_states (contact_point_id, subject_kind, subject_id, channel,
                 value, custodian_confirmed, ledger_seq, set_at)
             SELECT cp.id, 'purpose', {commercial}, 'email', 'opted_in', {no}, 1, c.created_at
             FROM contact_points cp JOIN contacts c ON c.id = cp.contact_id
             WHERE c.profile_id = {profile} AND cp.address LIKE 'bench%' AND cp.id % 7 = 0"
        ),
        "ANALYZE".to_owned(),
    ];
    if !reuse {
        use sqlx::{Connection as _, Executor as _};
        sqlx::any::install_default_drivers();
        let mut c = sqlx::AnyConnection::connect(&url)
            .await
            .expect("a connection");
        for s in &statements {
            c.execute(s.as_str()).await.expect("the states");
        }
        c.close().await.expect("closed");
    }
    println!("seeded in {:.1} s", t.elapsed().as_secs_f64());

    let secret: std::sync::Arc<[u8]> = vec![7u8; 32].into();
    prefcenter::server::check_keys(&mut db, &secret)
        .await
        .expect("the signing keys");
    let (writer, _task) = prefcenter::store::writer::Writer::spawn(
        db.write,
        db.write_options,
        secret.clone(),
        prefcenter::store::Clock::system(),
    );
    let core = std::sync::Arc::new(prefcenter::services::Core::new(
        db.read,
        writer,
        prefcenter::services::Policy::new("https://prefs.example.com"),
        secret,
    ));

    let newsletter_rule = Clause {
        or: false,
        rule: Rule::Consent {
            purpose: "commercial".into(),
            topic: Some("newsletter".into()),
            allowed: true,
        },
    };
    let segments = [
        (
            "Newsletter allowed on email",
            Definition {
                channel: Channel::Email,
                rules: vec![newsletter_rule.clone()],
            },
        ),
        (
            "Newsletter allowed and level ≥ 3, or German, created this year",
            Definition {
                channel: Channel::Email,
                rules: vec![
                    newsletter_rule.clone(),
                    Clause {
                        or: false,
                        rule: Rule::MinLevel { level: 3 },
                    },
                    Clause {
                        or: true,
                        rule: Rule::Locale {
                            locales: vec!["de".into()],
                        },
                    },
                    Clause {
                        or: false,
                        rule: Rule::Created {
                            from: Day::parse("2026-01-01"),
                            to: None,
                        },
                    },
                ],
            },
        ),
    ];
    let mut worst_count = 0f64;
    for (name, def) in &segments {
        let e = seg::evaluate(&core, profile, def, None)
            .await
            .expect("evaluated")
            .expect("usable");
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..runs {
            let t = Instant::now();
            n = seg::count(&core, &e).await.expect("counted");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        worst_count = worst_count.max(median);
        println!(
            "count  {name}: {n} points, median {median:.0} ms, best {:.0} ms, worst {:.0} ms ({runs} runs)",
            times[0],
            times[times.len() - 1]
        );
    }

    // The export of the first: address, contact, name, the unsubscribe link and the headers.
    let (name, def) = &segments[0];
    let saved = prefcenter::store::segment::Segment {
        id: 0,
        profile_id: profile,
        name: name.to_string(),
        definition: serde_json::to_string(def).unwrap(),
        created_by: "bench".into(),
        created_at: String::new(),
        updated_by: "bench".into(),
        updated_at: String::new(),
    };
    let e = seg::evaluate(&core, profile, def, None)
        .await
        .expect("evaluated")
        .expect("usable");
    let t = Instant::now();
    let spec = seg::ExportSpec {
        columns: vec![
            Column::Address,
            Column::ContactId,
            Column::Name,
            Column::UnsubscribeUrl,
            Column::ListUnsubscribe,
        ],
        links_for: Some(Subject::Topic(newsletter)),
    };
    let actor = prefcenter::store::audit::Actor {
        user_id: None,
        name: "bench".into(),
    };
    let mut stream = Box::pin(
        seg::export(core.clone(), &saved, e, spec, &actor)
            .await
            .expect("the export"),
    );
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("a chunk");
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let export = t.elapsed().as_secs_f64();
    println!(
        "export {name}: {} rows, {:.1} MB, {export:.2} s",
        lines.saturating_sub(1),
        bytes as f64 / 1e6
    );
    println!(
        "targets: count under 500 ms ({}), export under 5 s ({})",
        if worst_count < 500.0 {
            "met"
        } else {
            "NOT met"
        },
        if export < 5.0 { "met" } else { "NOT met" }
    );
}
