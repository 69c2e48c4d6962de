//! Segments and the dashboard: the SQL a segment becomes says exactly what the domain's rules
//! say, on every contact point of a random data set, now and as of past moments; an analyst
//! builds a segment on the console, counts it, exports it with working unsubscribe links, counts
//! it as of before an opt-out; the dashboard shows an import's opt-ins; bad input is told.

use crate::console::{create_user, csrf_of, Browser, GOOD};
use crate::helpers::{beside, fresh_database, postgres, spawn_app, spawn_app_at, TestApp};
use prefcenter::domain::segment::{Check, Clause, Day, Definition, Resolved, Rule};
use prefcenter::domain::{Channel, ConsentLevel, Enforcement, Purpose, Topic};
use prefcenter::store::segment::{all_facts, page, Audience};

/// A small deterministic generator (xorshift64*), so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

fn purpose(id: i64, enforcement: Enforcement, channels: &[Channel]) -> Purpose {
    Purpose {
        id,
        key: format!("p{id}"),
        name: format!("Purpose {id}"),
        description: String::new(),
        enforcement,
        channels: channels.to_vec(),
        mandatory: false,
        min_level: ConsentLevel::UNKNOWN,
        retired: false,
    }
}

fn topic(id: i64, purpose_id: i64, retired: bool) -> Topic {
    Topic {
        id,
        purpose_id,
        key: format!("t{id}"),
        name: format!("Topic {id}"),
        description: String::new(),
        retired,
    }
}

/// The catalogue the random rules draw from: every kind of purpose the decision tells apart.
fn catalogue() -> (Vec<Purpose>, Vec<Topic>) {
    let both = [Channel::Email, Channel::Sms];
    let mut leveled = purpose(9003, Enforcement::Restrictive, &both);
    leveled.min_level = ConsentLevel::MARKETING;
    let mut mandatory = purpose(9004, Enforcement::NonRestrictive, &[Channel::Email]);
    mandatory.mandatory = true;
    let mut retired = purpose(9006, Enforcement::Restrictive, &both);
    retired.retired = true;
    (
        vec![
            purpose(9001, Enforcement::Restrictive, &both),
            purpose(9002, Enforcement::NonRestrictive, &both),
            leveled,
            mandatory,
            purpose(9005, Enforcement::Disabled, &both),
            retired,
            purpose(9007, Enforcement::NonRestrictive, &[Channel::Email]),
        ],
        vec![
            topic(9101, 9001, false),
            topic(9102, 9001, false),
            topic(9103, 9002, false),
            topic(9104, 9002, true),
            topic(9105, 9003, false),
        ],
    )
}

const DAYS: [&str; 4] = ["2026-10-01", "2026-10-10", "2026-10-20", "2026-10-30"];

/// A moment of October 2026: day `d`, second `s` of the day.
fn moment(d: u64, s: u64) -> String {
    format!(
        "2026-10-{:02}T{:02}:{:02}:{:02}.000000Z",
        d + 1,
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    )
}

/// (subject kind, id, channel) → (value, custodian, seq, when) of a point's last records.
type Last<'a> = std::collections::HashMap<(&'a str, i64, &'a str), (String, &'a str, i64, String)>;

/// Fills the database with `contacts` random contacts of profile `profile`, each with an email
/// address and most with a phone number, and random ledger records (and the states they leave)
/// on the catalogue's purposes and topics. Straight SQL: this test is about reading.
async fn random_data(app: &TestApp, rng: &mut Rng, profile: i64, contacts: usize) {
    use sqlx::Executor as _;
    let pg = postgres().is_some();
    let (t, f) = ("TRUE", "FALSE");
    let blob = if pg { "'\\x00'::bytea" } else { "X'00'" };
    let mut c = app.db().await;
    let (ps, ts) = catalogue();
    let subjects: Vec<(&str, i64)> = ps
        .iter()
        .map(|p| ("purpose", p.id))
        .chain(ts.iter().map(|t| ("topic", t.id)))
        .collect();
    let mut seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM consent_ledger")
        .fetch_one(&mut c)
        .await
        .unwrap();
    let mut sql = String::new();
    for n in 0..contacts {
        let level = rng.below(6);
        let child = if rng.chance(15) { t } else { f };
        let tracking = if rng.chance(50) { t } else { f };
        let locale = match rng.below(4) {
            0 => "NULL".to_owned(),
            1 => "'de'".to_owned(),
            2 => "'fr'".to_owned(),
            _ => "'en'".to_owned(),
        };
        let suppressed = if rng.chance(5) {
            format!("'{}'", moment(27, 0))
        } else {
            "NULL".into()
        };
        let created = moment(rng.below(30), rng.below(86_400));
        let id: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO contacts (profile_id, locale, consent_level, is_child, tracking_allowed,
                 suppressed_at, created_at)
             VALUES ({profile}, {locale}, {level}, {child}, {tracking}, {suppressed}, '{created}')
             RETURNING id"
        ))
        .fetch_one(&mut c)
        .await
        .unwrap();
        let mut points = Vec::new();
        for (kind, address) in [
            ("email", format!("'r{n}@example.com'")),
            ("phone", format!("'+4915100{n:05}'")),
        ] {
            if kind == "phone" && rng.chance(30) {
                continue;
            }
            let point: i64 = sqlx::query_scalar(&format!(
                "INSERT INTO contact_points (contact_id, kind, address, created_at)
                 VALUES ({id}, '{kind}', {address}, '{created}') RETURNING id"
            ))
            .fetch_one(&mut c)
            .await
            .unwrap();
            points.push(point);
        }
        for point in points {
            // (subject, channel) → (value, custodian, seq, at), the last record's.
            let mut last: Last = Default::default();
            for _ in 0..rng.below(7) {
                let (kind, sid) = *rng.pick(&subjects);
                let ch = *rng.pick(&["email", "sms", "email"]);
                let value = *rng.pick(&["opted_in", "opted_out", "pending", "not_set", "opted_in"]);
                let cc = if rng.chance(30) { t } else { f };
                let at = moment(rng.below(30), rng.below(86_400));
                seq += 1;
                sql.push_str(&format!(
                    "INSERT INTO consent_ledger (seq, occurred_at, contact_point_id, subject_kind,
                         subject_id, channel, old_value, new_value, custodian_confirmed,
                         actor_kind, source, change_id, evidence_digest, prev_hash, hash)
                     VALUES ({seq}, '{at}', {point}, '{kind}', {sid}, '{ch}', 'not_set',
                         '{value}', {cc}, 'system', 'system', 'test-{seq}', {blob}, {blob},
                         {blob});\n"
                ));
                last.insert((kind, sid, ch), (value.to_owned(), cc, seq, at));
            }
            for ((kind, sid, ch), (value, cc, s, at)) in last {
                sql.push_str(&format!(
                    "INSERT INTO consent_states (contact_point_id, subject_kind, subject_id,
                         channel, value, custodian_confirmed, ledger_seq, set_at)
                     VALUES ({point}, '{kind}', {sid}, '{ch}', '{value}', {cc}, {s}, '{at}');\n"
                ));
            }
        }
        if sql.len() > 200_000 {
            c.execute(std::mem::take(&mut sql).as_str()).await.unwrap();
        }
    }
    if !sql.is_empty() {
        c.execute(sql.as_str()).await.unwrap();
    }
}

/// A random rule of any kind.
fn random_rule(rng: &mut Rng, ps: &[Purpose], ts: &[Topic]) -> Rule {
    let day = |rng: &mut Rng| {
        rng.chance(70)
            .then(|| Day::parse(rng.pick::<&str>(&DAYS[..])).unwrap())
    };
    match rng.below(9) {
        0..=3 => {
            let p = rng.pick(ps);
            let topics: Vec<&Topic> = ts.iter().filter(|t| t.purpose_id == p.id).collect();
            let topic =
                (!topics.is_empty() && rng.chance(50)).then(|| rng.pick(&topics).key.clone());
            Rule::Consent {
                purpose: p.key.clone(),
                topic,
                allowed: rng.chance(75),
            }
        }
        4 => Rule::MinLevel {
            level: rng.below(6) as u8,
        },
        5 => Rule::NoChildWithoutCustodian,
        6 => Rule::Tracking {
            allowed: rng.chance(50),
        },
        7 => Rule::Locale {
            locales: vec![rng.pick(&["en", "de", "fr"]).to_string()],
        },
        _ => {
            let (mut from, mut to) = (day(rng), day(rng));
            if let (Some(a), Some(b)) = (&from, &to) {
                if b < a {
                    std::mem::swap(&mut from, &mut to);
                }
            }
            if rng.chance(50) {
                Rule::Created { from, to }
            } else {
                Rule::Changed { from, to }
            }
        }
    }
}

/// The SQL's members and the domain's, for one definition at one moment.
async fn both(
    reader: &prefcenter::store::Reader,
    profile: i64,
    r: &Resolved,
    at: Option<&str>,
) -> (Vec<i64>, Vec<i64>) {
    let audience = Audience::of(profile, r, at);
    let by_sql: Vec<i64> = page(reader, &audience, 0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.point_id)
        .collect();
    let count = prefcenter::store::segment::count(reader, &audience)
        .await
        .unwrap();
    assert_eq!(count as usize, by_sql.len(), "the count is the members'");
    let by_domain: Vec<i64> = all_facts(reader, profile, r.channel, at)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, f)| r.matches(f))
        .map(|(id, _)| id)
        .collect();
    (by_sql, by_domain)
}

#[tokio::test]
async fn a_segment_counted_by_sql_is_the_domain_decision_on_every_contact_of_a_random_data_set() {
    let app = spawn_app().await;
    let profile: i64 =
        sqlx::query_scalar("SELECT id FROM compliance_profiles WHERE key = 'contoso'")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();
    let seed = 0x5EED_0013_u64;
    let mut rng = Rng(seed);
    random_data(&app, &mut rng, profile, 300).await;
    let reader = app.reader().await;
    let (ps, ts) = catalogue();
    let mut nonempty = 0;
    for case in 0..120 {
        let channel = *rng.pick(&[Channel::Email, Channel::Email, Channel::Sms, Channel::Phone]);
        let rules: Vec<Clause> = (0..1 + rng.below(4))
            .map(|i| Clause {
                or: i > 0 && rng.chance(35),
                rule: random_rule(&mut rng, &ps, &ts),
            })
            .collect();
        let def = Definition { channel, rules };
        let r = def.resolve(&ps, &ts, "en").unwrap();
        let at = rng
            .chance(40)
            .then(|| moment(rng.below(30), rng.below(86_400)));
        let (sql, domain) = both(&reader, profile, &r, at.as_deref()).await;
        assert_eq!(
            sql, domain,
            "seed {seed:#x}, case {case}: {def:?} as of {at:?}"
        );
        if !sql.is_empty() {
            nonempty += 1;
        }
    }
    assert!(nonempty > 40, "the cases find members ({nonempty} of 120)");
    // Each consent rule alone, on both channels, now: the decision's every branch.
    for p in &ps {
        let topics: Vec<Option<&Topic>> = std::iter::once(None)
            .chain(ts.iter().filter(|t| t.purpose_id == p.id).map(Some))
            .collect();
        for t in topics {
            for channel in [Channel::Email, Channel::Sms] {
                for allowed in [true, false] {
                    let r = Resolved {
                        channel,
                        default_locale: "en".into(),
                        groups: vec![vec![Check::Consent {
                            purpose: p.clone(),
                            topic: t.cloned(),
                            allowed,
                        }]],
                    };
                    let (sql, domain) = both(&reader, profile, &r, None).await;
                    assert_eq!(
                        sql,
                        domain,
                        "{} {:?} {channel:?} {allowed}",
                        p.key,
                        t.map(|t| &t.key)
                    );
                }
            }
        }
    }
    app.stop().await;
}

/// A server on a fresh database with Contoso's catalogue and contacts but no consent recorded.
async fn empty_contoso() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path()).await;
    let mut db = prefcenter::store::open(&db_url, 1).await.unwrap();
    prefcenter::services::demo::seed(&mut db.write)
        .await
        .unwrap();
    db.read.close().await;
    db.write.close().await.unwrap();
    spawn_app_at(dir, db_url).await
}

fn csv_rows(body: &str) -> Vec<Vec<String>> {
    body.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn an_analyst_builds_counts_and_exports_newsletter_allowed_on_email_and_counts_it_as_of_before_an_opt_out(
) {
    let app = empty_contoso().await;
    let base = app.base.clone();
    // An import opts three contacts in to the newsletter and two out (Commercial is
    // non-restrictive: without the import, Lena would be allowed too).
    let path = app.dir.path().join("consent.csv");
    std::fs::write(
        &path,
        "Email,Newsletter consent\n\
         holly@contoso.com,True\n\
         frank@contoso.com,True\n\
         ana@contoso.com,True\n\
         omar@contoso.com,False\n\
         lena@contoso.com,False\n",
    )
    .unwrap();
    let out = beside(
        &[
            "import",
            path.to_str().unwrap(),
            "--profile",
            "contoso",
            "--source-confirmed",
        ],
        &app,
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let profile: i64 =
        sqlx::query_scalar("SELECT id FROM compliance_profiles WHERE key = 'contoso'")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();

    assert!(create_user(&app, "analyst@contoso.com", "analyst", GOOD).0);
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("analyst@contoso.com", GOOD).await.status, 303);
    let list = b.get("/admin/segments").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("No segment yet."));
    let csrf = csrf_of(&list.body);
    let new = b
        .get(&format!("/admin/segments/new?profile={profile}"))
        .await;
    assert_eq!(new.status, 200);
    assert!(new.body.contains("Newsletter"), "{}", new.body);

    let rule = "&r0.kind=consent&r0.subject=commercial%2Fnewsletter&r0.allowed=yes";
    let form = |name: &str, action: &str, extra: &str| {
        format!(
            "csrf={csrf}&profile={profile}&name={name}&channel=email{rule}{extra}&action={action}"
        )
    };
    // Adding a rule comes back with it; counting shows who is in it, writing nothing.
    let added = b
        .post(
            "/admin/segments/new",
            &form("Newsletter", "add", "&add=min_level"),
            Some(&base),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(
        added.body.contains("Rule 2: Minimum consent level"),
        "{}",
        added.body
    );
    let preview = b
        .post(
            "/admin/segments/new",
            &form("Newsletter", "preview", ""),
            Some(&base),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("<strong>3</strong> contact points"),
        "{}",
        preview.body
    );
    // Bad input is told, on the page, with the form as typed.
    let bad_day = b
        .post(
            "/admin/segments/new",
            &form("N", "preview", "&r1.kind=created&r1.from=2026-13-01"),
            Some(&base),
        )
        .await;
    assert_eq!(bad_day.status, 422);
    assert!(
        bad_day
            .body
            .contains("Rule 2: the first day “2026-13-01” is not a day"),
        "{}",
        bad_day.body
    );
    assert!(bad_day.body.contains("value=\"2026-13-01\""));
    let bad_topic = b
        .post(
            "/admin/segments/new",
            &format!("csrf={csrf}&profile={profile}&name=N&channel=email&r0.kind=consent&r0.subject=commercial%2Fpigeons&action=save"),
            Some(&base),
        )
        .await;
    assert_eq!(bad_topic.status, 422);
    assert!(
        bad_topic.body.contains("has no topic “pigeons”"),
        "{}",
        bad_topic.body
    );
    let unnamed = b
        .post("/admin/segments/new", &form("", "save", ""), Some(&base))
        .await;
    assert_eq!(unnamed.status, 422);
    assert!(unnamed.body.contains("Give the segment a name."));
    let forged = b
        .post(
            "/admin/segments/new",
            &form("x", "save", "").replace(&csrf, "nope"),
            Some(&base),
        )
        .await;
    assert_eq!(forged.status, 403);

    let saved = b
        .post(
            "/admin/segments/new",
            &form("Newsletter+allowed+on+email", "save", ""),
            Some(&base),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let path = saved.location.clone();
    assert!(path.starts_with("/admin/segments/"), "{path}");
    let shown = b.get(&path).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("Newsletter allowed on email"));
    assert!(
        shown.body.contains("Commercial › Newsletter allowed"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("<strong>3</strong>"), "{}", shown.body);

    // The export: exactly the three, each with links that work.
    let csv = b
        .get(&format!(
            "{path}/export.csv?col=address&col=unsubscribe_url&col=list_unsubscribe&links=commercial%2Fnewsletter"
        ))
        .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv
        .body
        .starts_with("address,unsubscribe_url,list_unsubscribe,list_unsubscribe_post\n"));
    let rows = csv_rows(&csv.body);
    let mut who: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    who.sort();
    assert_eq!(
        who,
        ["ana@contoso.com", "frank@contoso.com", "holly@contoso.com"]
    );
    let frank = rows.iter().find(|r| r[0] == "frank@contoso.com").unwrap();
    assert!(frank[1].starts_with(&format!("{base}/u/")), "{frank:?}");
    assert_eq!(frank[2], format!("<{}>", frank[1]));
    assert_eq!(frank[3], "List-Unsubscribe=One-Click");
    // The export is in the audit log.
    let noted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM console_audit WHERE kind = 'segment.export'")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();
    assert_eq!(noted, 1);

    // Frank unsubscribes by one-click a minute later: two are left now, three as of before.
    app.clock.advance(std::time::Duration::from_secs(2));
    let before = app.clock.now_str();
    app.clock.advance(std::time::Duration::from_secs(60));
    let click = app
        .client
        .post(&frank[1])
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert!(click.status().is_success(), "{}", click.status());
    assert!(b.get(&path).await.body.contains("<strong>2</strong>"));
    let then = b.get(&format!("{path}?as_of={}", &before[..19])).await;
    assert_eq!(then.status, 200);
    assert!(then.body.contains("<strong>3</strong>"), "{}", then.body);
    let csv_then = b
        .get(&format!(
            "{path}/export.csv?col=address&as_of={}",
            &before[..19]
        ))
        .await;
    assert_eq!(csv_rows(&csv_then.body).len(), 3);
    let not_a_moment = b.get(&format!("{path}?as_of=yesterday")).await;
    assert_eq!(not_a_moment.status, 422);
    assert!(not_a_moment.body.contains("is not a moment"));
    let bad_column = b.get(&format!("{path}/export.csv?col=password")).await;
    assert_eq!(bad_column.status, 422);
    assert!(bad_column.body.contains("is not a column of the export"));
    assert_eq!(b.get("/admin/segments/999").await.status, 404);

    // The dashboard shows the import's opt-ins and the one-click's opt-out, today.
    let dash = b.get(&format!("/admin/dashboard?profile={profile}")).await;
    assert_eq!(dash.status, 200, "{}", dash.body);
    assert!(dash.body.contains("<svg"), "a chart");
    assert!(dash.body.contains("Commercial › Newsletter"));
    let numbers = b
        .get(&format!("/admin/dashboard.csv?profile={profile}&by=month"))
        .await;
    assert_eq!(numbers.status, 200);
    let month = &before[..7];
    let newsletter = numbers
        .body
        .lines()
        .find(|l| l.contains("Commercial › Newsletter") && l.contains(month))
        .unwrap_or_else(|| panic!("{}", numbers.body));
    assert!(newsletter.ends_with(",3,3,0"), "{newsletter}");
    assert_eq!(b.get("/admin/dashboard?from=someday").await.status, 422);

    // Deleting it (audited) leaves the list empty.
    let deleted = b
        .post(
            &format!("{path}/delete"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(deleted.status, 303);
    assert!(b
        .get("/admin/segments")
        .await
        .body
        .contains("No segment yet."));
    app.assert_ledger_sound().await;
    app.stop().await;
}
