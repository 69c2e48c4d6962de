//! The preference form designer: the draft an admin edits, its preview, publishing it as the
//! next immutable version, and opening any version as its contacts saw it.

use super::consent::{brand_of, Result};
use super::Core;
use crate::domain::design::{words_in, Design, ShownPurpose, ShownTopic};
use crate::domain::parse::Lang;
use crate::domain::{Channel, ConsentValue, Subject};
use crate::store::audit::Actor;
use crate::store::catalog::{self, Catalog};
use crate::store::design::{self as store, Publish, Published};
use crate::store::writer::Priority;
use crate::views::{Cell, PreferencesView, PurposeBlock, TopicRow};

/// What the designer page works with.
pub struct Designer {
    pub catalog: Catalog,
    /// The draft (the published design until a draft is saved), and who saved it when.
    pub draft: Design,
    pub draft_saved: Option<(String, String)>,
    /// Keys of every purpose and topic in use (what the "shown" boxes offer), with its name.
    pub items: Vec<(String, String, bool)>,
    /// Every published version: (version, when, by whom).
    pub versions: Vec<(i64, String, String)>,
}

/// The designer's data for a profile (`None`: no such profile).
pub async fn designer(core: &Core, profile_id: i64) -> Result<Option<Designer>> {
    let Some(catalog) = catalog::load(&core.read, profile_id).await? else {
        return Ok(None);
    };
    let saved = store::draft(&core.read, profile_id).await?;
    let (draft, draft_saved) = match saved {
        Some((d, at, by)) => (d, Some((at, by))),
        None => (catalog.profile.design.clone(), None),
    };
    let versions = store::versions(&core.read, profile_id).await?;
    Ok(Some(Designer {
        items: item_keys(&catalog),
        catalog,
        draft,
        draft_saved,
        versions,
    }))
}

/// Every purpose and topic in use: (key, name, is a topic).
pub fn item_keys(cat: &Catalog) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for p in cat.purposes.iter().filter(|p| !p.retired) {
        out.push((p.key.clone(), p.name.clone(), false));
        for t in cat.topics_of(p.id).filter(|t| !t.retired) {
            out.push((format!("{}/{}", p.key, t.key), t.name.clone(), true));
        }
    }
    out
}

/// What a design shows of a catalogue, with every language's words (what a version keeps).
pub fn shown_items(cat: &Catalog, design: &Design) -> Vec<ShownPurpose> {
    let texts = |s: Subject| {
        cat.texts_of(s)
            .map(|t| {
                (
                    t.lang.code().to_owned(),
                    t.name.clone(),
                    t.description.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    cat.purposes
        .iter()
        .filter(|p| {
            !p.retired
                && p.enforcement != crate::domain::Enforcement::Disabled
                && design.shows(&p.key, None)
        })
        .map(|p| ShownPurpose {
            key: p.key.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            mandatory: p.mandatory,
            channels: p.channels.clone(),
            texts: texts(Subject::Purpose(p.id)),
            topics: cat
                .topics_of(p.id)
                .filter(|t| !t.retired && design.shows(&p.key, Some(&t.key)))
                .map(|t| ShownTopic {
                    key: t.key.clone(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                    texts: texts(Subject::Topic(t.id)),
                })
                .collect(),
        })
        .collect()
}

/// Saves the draft; `false` when there is no such profile.
pub async fn save_draft(
    core: &Core,
    profile_id: i64,
    design: Design,
    actor: Actor,
) -> Result<bool> {
    Ok(core
        .writer
        .run(
            store::SaveDraft {
                profile_id,
                design,
                actor,
            },
            Priority::Interactive,
        )
        .await?)
}

/// Puts a checked logo into the draft, or takes it out; `false` when there is no such profile.
pub async fn set_logo(
    core: &Core,
    profile_id: i64,
    logo: Option<(crate::domain::design::Logo, Vec<u8>)>,
    actor: Actor,
) -> Result<bool> {
    Ok(core
        .writer
        .run(
            store::SetLogo {
                profile_id,
                logo,
                actor,
            },
            Priority::Interactive,
        )
        .await?)
}

/// Publishes the draft: the pages show it at once, on every instance within a second.
pub async fn publish(core: &Core, profile_id: i64, actor: Actor) -> Result<Publish> {
    let Some(d) = designer(core, profile_id).await? else {
        return Ok(Publish::NotFound);
    };
    let json = |design: &Design| {
        serde_json::to_string(&shown_items(&d.catalog, design))
            .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))
    };
    let items = json(&d.draft)?;
    let items_now = json(&d.catalog.profile.design)?;
    let out = core
        .writer
        .run(
            store::PublishDraft {
                profile_id,
                items,
                items_now,
                actor,
            },
            Priority::Interactive,
        )
        .await?;
    core.forget_catalogs();
    Ok(out)
}

/// A published version of a profile.
pub async fn version(core: &Core, profile_id: i64, version: i64) -> Result<Option<Published>> {
    Ok(store::version(&core.read, profile_id, version).await?)
}

/// A catalogue with its profile's words (name, postal address, legal footer, privacy link) as
/// they stood at `at`: a past version opens with what its contacts saw then.
pub async fn as_shown_at(core: &Core, mut cat: Catalog, at: &str) -> Result<Catalog> {
    cat.profile = crate::store::catalog::profile_words_as_of(&core.read, cat.profile, at).await?;
    Ok(cat)
}

/// The subscription center as a design shows it, for a sample contact: the first topic of
/// each purpose received, the others not (what the preview and a version's page show).
pub fn sample_view(
    cat: &Catalog,
    design: &Design,
    items: &[ShownPurpose],
    lang: Lang,
    form_version: i64,
) -> PreferencesView {
    let purposes = items
        .iter()
        .map(|p| {
            let (name, description) = words_in(&p.name, &p.description, &p.texts, lang);
            let row = |key: String, name: &str, description: &str, receiving: bool| TopicRow {
                key: format!("{key}.email"),
                name: name.to_owned(),
                description: description.to_owned(),
                cells: p
                    .channels
                    .iter()
                    .map(|c| Cell {
                        channel: *c,
                        receiving: receiving || p.mandatory,
                        value: if receiving {
                            ConsentValue::OptedIn
                        } else {
                            ConsentValue::NotSet
                        },
                        field: format!("{key}.{}", c.as_str()),
                    })
                    .collect(),
            };
            let topics = if p.topics.is_empty() {
                vec![row(format!("p-{}", p.key), name, description, true)]
            } else {
                p.topics
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let (n, d) = words_in(&t.name, &t.description, &t.texts, lang);
                        row(format!("t-{}-{}", p.key, t.key), n, d, i == 0)
                    })
                    .collect()
            };
            PurposeBlock {
                key: p.key.clone(),
                name: name.to_owned(),
                description: description.to_owned(),
                mandatory: p.mandatory,
                channels: if p.channels.is_empty() {
                    vec![Channel::Email]
                } else {
                    p.channels.clone()
                },
                topics,
            }
        })
        .collect();
    PreferencesView {
        brand: brand_of(&cat.profile, design, lang),
        lang,
        form_version,
        stamp: String::new(),
        address: "a***e@example.com".to_owned(),
        data_rights: true,
        purposes,
    }
}
