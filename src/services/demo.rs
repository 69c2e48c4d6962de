//! The demo organization (the seeds' Contoso) and the benchmark's bulk contacts.

use super::{new_token, Core};
use crate::domain::ledger::{Desired, Evidence};
use crate::domain::parse::{EmailAddress, Lang};
use crate::domain::{
    ActorKind, Channel, ConsentLevel, ConsentValue, Enforcement, PointKind, Source, Subject,
};
use crate::store::catalog::{self, NewProfile};
use crate::store::contacts::{self, NewContact};
use crate::store::writer::{ChangeMeta, ChangeSet};
use crate::store::writer::{Priority, Tx, Unit};
use crate::store::{backend, Conn, Result};
use futures_util::future::BoxFuture;

pub const DEMO_PROFILE: &str = "contoso";

/// The demo's contacts: address, phone, and opted-in (true) / opted-out (false) topics.
/// A demo contact: email, phone, and (topic key, opted in?) on email.
/// A demo contact: address, phone, stored language (`None`: the pages follow the browser's
/// `Accept-Language`), and their email topics.
pub type DemoContact = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static [(&'static str, bool)],
);

/// The demo contacts' names (the staff desk finds them by name too).
fn demo_name(email: &str) -> Option<&'static str> {
    match email {
        "holly@contoso.com" => Some("Holly Dickson"),
        "frank@contoso.com" => Some("Frank Lee"),
        "lena@contoso.com" => Some("Lena Müller"),
        _ => None,
    }
}

pub const DEMO_CONTACTS: &[DemoContact] = &[
    (
        "holly@contoso.com",
        Some("+14255550101"),
        Some("en"),
        &[("newsletter", false), ("product-updates", true)],
    ),
    (
        "frank@contoso.com",
        None,
        Some("en"),
        &[("newsletter", true), ("product-updates", false)],
    ),
    (
        "lena@contoso.com",
        None,
        None,
        &[("newsletter", true), ("product-updates", true)],
    ),
];

/// The demo catalogue's names and descriptions in German, French and Arabic.
const DEMO_TRANSLATIONS: &[(&str, Lang, &str, &str)] = &[
    (
        "commercial",
        Lang::De,
        "Angebote und Neuigkeiten",
        "Neuigkeiten, Angebote und Einladungen von Contoso.",
    ),
    (
        "commercial",
        Lang::Fr,
        "Communications commerciales",
        "Actualités, offres et invitations de Contoso.",
    ),
    (
        "commercial",
        Lang::Ar,
        "الرسائل التسويقية",
        "أخبار وعروض ودعوات من Contoso.",
    ),
    (
        "newsletter",
        Lang::De,
        "Newsletter",
        "Einmal im Monat Geschichten, Tipps und Neues von Contoso.",
    ),
    (
        "newsletter",
        Lang::Fr,
        "Lettre d'information",
        "Chaque mois, des articles, des conseils et les nouveautés de Contoso.",
    ),
    (
        "newsletter",
        Lang::Ar,
        "النشرة الإخبارية",
        "ملخص شهري للقصص والنصائح وجديد Contoso.",
    ),
    (
        "product-updates",
        Lang::De,
        "Produktneuheiten",
        "Neue Funktionen und Änderungen an den Contoso-Produkten, die Sie nutzen.",
    ),
    (
        "product-updates",
        Lang::Fr,
        "Nouveautés produits",
        "Nouvelles fonctionnalités et évolutions des produits Contoso que vous utilisez.",
    ),
    (
        "product-updates",
        Lang::Ar,
        "تحديثات المنتجات",
        "ميزات وتغييرات جديدة في منتجات Contoso التي تستخدمها.",
    ),
    (
        "events",
        Lang::De,
        "Veranstaltungen",
        "Einladungen zu Webinaren, Konferenzen und Treffen vor Ort.",
    ),
    (
        "events",
        Lang::Fr,
        "Événements",
        "Invitations à des webinaires, conférences et rencontres près de chez vous.",
    ),
    (
        "events",
        Lang::Ar,
        "الفعاليات",
        "دعوات إلى ندوات عبر الإنترنت ومؤتمرات ولقاءات محلية.",
    ),
    (
        "transactional",
        Lang::De,
        "Servicenachrichten",
        "Belege sowie Konto- und Sicherheitshinweise zu Dingen, die Sie angefordert haben.",
    ),
    (
        "transactional",
        Lang::Fr,
        "Messages de service",
        "Reçus, avis de compte et de sécurité concernant ce que vous avez demandé.",
    ),
    (
        "transactional",
        Lang::Ar,
        "رسائل الخدمة",
        "إيصالات وإشعارات الحساب والأمان بشأن ما طلبته.",
    ),
];

/// What seeding created: the initial consent (applied through the writer once it runs).
pub struct Seeded {
    pub initial: Vec<ChangeSet>,
}

/// Creates Contoso with its purposes, topics and contacts on an empty database. Returns
/// `None` when the database already holds a profile (the demo is created once).
pub async fn seed(conn: &mut Conn) -> Result<Option<Seeded>> {
    // Several instances may start together on one PostgreSQL database: the check is made
    // under the writers' lock, so one of them creates the demo.
    backend::begin_write(conn).await?;
    let r = match catalog::any_profile(conn.as_mut()).await {
        Ok(Some(_)) => Ok(None),
        Ok(None) => seed_in_tx(conn).await.map(Some),
        Err(e) => Err(e),
    };
    backend::finish(conn, r).await
}

async fn seed_in_tx(conn: &mut Conn) -> Result<Seeded> {
    let profile = catalog::insert_profile(
        conn.as_mut(),
        &NewProfile {
            key: DEMO_PROFILE,
            name: "Contoso",
            brand_primary: "#0f5fa8",
            footer_address: "Contoso Ltd. · 4567 Main Street · Buffalo, NY 98052 · United States",
            privacy_url: Some("https://www.contoso.com/privacy"),
            sender_name: Some("Contoso"),
            sender_address: Some("news@contoso.com"),
            reply_to: Some("privacy@contoso.com"),
            jurisdiction: Some("US"),
        },
    )
    .await?;
    let commercial = catalog::insert_purpose(
        conn.as_mut(),
        profile,
        "commercial",
        "Commercial",
        "News, offers and invitations from Contoso.",
        Enforcement::NonRestrictive,
        &[Channel::Email, Channel::Sms],
        false,
        1,
    )
    .await?;
    let mut topics = Vec::new();
    for (pos, (key, name, desc)) in [
        (
            "newsletter",
            "Newsletter",
            "A monthly round-up of stories, tips and what's new at Contoso.",
        ),
        (
            "product-updates",
            "Product updates",
            "New features and changes to the Contoso products you use.",
        ),
        (
            "events",
            "Events",
            "Invitations to webinars, conferences and local meet-ups.",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let id =
            catalog::insert_topic(conn.as_mut(), commercial, key, name, desc, pos as i64).await?;
        topics.push((key, id));
    }
    let transactional = catalog::insert_purpose(
        conn.as_mut(),
        profile,
        "transactional",
        "Transactional",
        "Receipts, account and security notices about things you asked for.",
        Enforcement::NonRestrictive,
        &[Channel::Email],
        true,
        2,
    )
    .await?;
    // Contoso's words in its contacts' other languages (English is the profile's default).
    let subject = |key: &str| match key {
        "commercial" => Some(Subject::Purpose(commercial)),
        "transactional" => Some(Subject::Purpose(transactional)),
        key => topics
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, id)| Subject::Topic(*id)),
    };
    for (key, lang, name, description) in DEMO_TRANSLATIONS {
        if let Some(s) = subject(key) {
            catalog::insert_item_text(conn.as_mut(), s, *lang, name, description).await?;
        }
    }

    let mut initial = Vec::new();
    for (email, phone, locale, prefs) in DEMO_CONTACTS {
        let now = crate::store::now();
        let contact = contacts::insert_contact(
            conn.as_mut(),
            &NewContact {
                name: demo_name(email),
                profile_id: profile,
                locale: *locale,
                level: ConsentLevel::MARKETING,
                is_child: false,
            },
            &now,
        )
        .await?;
        let email = EmailAddress::parse(email).expect("demo address is valid");
        let cp = contacts::insert_point(
            conn.as_mut(),
            contact,
            PointKind::Email,
            email.as_str(),
            &now,
        )
        .await?;
        let mut items: Vec<(i64, Desired)> = Vec::new();
        if let Some(phone) = phone {
            let pp = contacts::insert_point(conn.as_mut(), contact, PointKind::Phone, phone, &now)
                .await?;
            // Holly agreed to product updates by text message (TCPA: texts need an opt-in).
            if let Some((_, id)) = topics.iter().find(|(k, _)| *k == "product-updates") {
                items.push((
                    pp,
                    Desired {
                        subject: Subject::Topic(*id),
                        channel: Channel::Sms,
                        value: ConsentValue::OptedIn,
                        custodian_confirmed: false,
                        only_if_current: None,
                    },
                ));
            }
        }
        let email_items: Vec<(i64, Desired)> = prefs
            .iter()
            .filter_map(|(key, on)| {
                let id = topics.iter().find(|(k, _)| k == key)?.1;
                Some((
                    cp,
                    Desired {
                        subject: Subject::Topic(id),
                        channel: Channel::Email,
                        value: if *on {
                            ConsentValue::OptedIn
                        } else {
                            ConsentValue::OptedOut
                        },
                        custodian_confirmed: false,
                        only_if_current: None,
                    },
                ))
            })
            .collect();
        items.splice(0..0, email_items);
        initial.push(ChangeSet {
            items,
            meta: ChangeMeta {
                actor_kind: ActorKind::Import,
                actor_id: Some("demo-seed".into()),
                source: Source::Import,
                change_id: format!("demo-seed-{cp}"),
                form_version: None,
                language: None,
                request_id: None,
                confirmation: None,
                evidence: Evidence {
                    justification: Some("Demo data: the seeds' consent table".into()),
                    ..Default::default()
                },
            },
        });
    }
    Ok(Seeded { initial })
}

/// Issues fresh links through the writer: (point, token hash) pairs.
struct IssueLinks {
    links: Vec<(String, crate::domain::token::TokenHash)>,
    ttl_days: i64,
}

impl Unit for IssueLinks {
    type Output = Vec<bool>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Vec<bool>>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for (address, hash) in &self.links {
                match contacts::point_by_address(tx, PointKind::Email, address).await? {
                    Some(o) => {
                        contacts::issue_link(tx, o.contact_point_id, hash, self.ttl_days).await?;
                        out.push(true);
                    }
                    None => out.push(false),
                }
            }
            Ok(out)
        })
    }
}

/// Issues a fresh link for every demo contact (tokens are stored hashed, so each start mints
/// new ones to print), through the writer. Returns (address, link).
pub async fn demo_links(core: &Core) -> Result<Vec<(String, String)>> {
    let tokens: Vec<_> = DEMO_CONTACTS.iter().map(|_| new_token()).collect();
    let unit = IssueLinks {
        links: DEMO_CONTACTS
            .iter()
            .zip(&tokens)
            .map(|((email, _, _, _), t)| (email.to_string(), t.hash()))
            .collect(),
        ttl_days: core.policy.link_ttl_days,
    };
    let found = core.writer.run(unit, Priority::Interactive).await?;
    Ok(DEMO_CONTACTS
        .iter()
        .zip(tokens)
        .zip(found)
        .filter(|(_, f)| *f)
        .map(|(((email, _, _, _), t), _)| {
            (
                email.to_string(),
                format!("{}/u/{}", core.policy.base_url, t.as_str()),
            )
        })
        .collect())
}

/// The benchmark's bulk unit: opts the first `n` email points out of the demo's Newsletter,
/// through the writer at bulk priority (bounded pieces), as an import of `n` rows will.
pub async fn bench_bulk(core: &Core, n: usize) -> Result<u64> {
    let Some(profile) = crate::store::catalog::profile_id_by_key(&core.read, DEMO_PROFILE).await?
    else {
        return Ok(0);
    };
    let catalog = core.catalog(profile).await?;
    let Some(topic) = catalog.topics.iter().find(|t| t.key == "newsletter") else {
        return Ok(0);
    };
    let points = contacts::email_points(&core.read, n as i64).await?;
    // Alternate between runs so that every run changes every row again.
    static FLIP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
    let flip = FLIP.fetch_xor(true, std::sync::atomic::Ordering::Relaxed);
    let items = points
        .into_iter()
        .map(|cp| {
            (
                cp,
                Desired {
                    subject: Subject::Topic(topic.id),
                    channel: Channel::Email,
                    value: if flip {
                        ConsentValue::OptedOut
                    } else {
                        ConsentValue::OptedIn
                    },
                    custodian_confirmed: false,
                    only_if_current: None,
                },
            )
        })
        .collect();
    let meta = ChangeMeta {
        actor_kind: ActorKind::Import,
        actor_id: Some("bench-bulk".into()),
        source: Source::Import,
        change_id: super::consent::new_change_id(),
        form_version: None,
        language: None,
        request_id: None,
        confirmation: None,
        evidence: Evidence::default(),
    };
    core.writer.apply_bulk(items, meta).await
}

/// Adds `n` contacts to the demo profile, each with an email point and a link token; returns
/// the tokens (for the benchmark). Bulk inserts in one transaction.
pub async fn bench_contacts(conn: &mut Conn, n: usize, ttl_days: i64) -> Result<Vec<String>> {
    let profile = catalog::find_profile(conn.as_mut(), DEMO_PROFILE)
        .await?
        .ok_or_else(|| crate::store::StoreError::Corrupt("run with --demo once first".into()))?;
    let tokens: Vec<_> = (0..n).map(|_| new_token()).collect();
    let hashes: Vec<_> = tokens.iter().map(|t| t.hash()).collect();
    contacts::insert_bench(conn, profile, &hashes, ttl_days).await?;
    let tokens = tokens.iter().map(|t| t.as_str().to_owned()).collect();
    Ok(tokens)
}
