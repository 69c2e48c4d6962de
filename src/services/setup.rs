//! The compliance setup: profiles, purposes and topics as admins create, change, order and
//! retire them in the console. Each change is one unit through the writer (with its audit
//! entry and, where a decision's grounds changed, a definition version); this instance's
//! cached catalogues are dropped at once, other instances notice the catalogue version.

use super::consent::Result;
use super::Core;
use crate::domain::setup::{ProfileFields, PurposeFields, TopicFields};
use crate::store::audit::Actor;
use crate::store::catalog::{self, ProfileSummary};
use crate::store::setup::{self, Item, Saved};
use crate::store::writer::{Priority, Unit};

async fn run<U: Unit>(core: &Core, unit: U) -> Result<U::Output> {
    let out = core.writer.run(unit, Priority::Interactive).await?;
    core.forget_catalogs();
    Ok(out)
}

/// Every profile, with how many purposes and topics it has.
pub async fn profiles(core: &Core) -> Result<Vec<ProfileSummary>> {
    Ok(catalog::summaries(&core.read).await?)
}

pub async fn save_profile(
    core: &Core,
    id: Option<i64>,
    fields: ProfileFields,
    actor: Actor,
) -> Result<Saved> {
    run(core, setup::SaveProfile { id, fields, actor }).await
}

pub async fn save_purpose(
    core: &Core,
    id: Option<i64>,
    profile_id: i64,
    fields: PurposeFields,
    actor: Actor,
) -> Result<Saved> {
    run(
        core,
        setup::SavePurpose {
            id,
            profile_id,
            fields,
            actor,
        },
    )
    .await
}

pub async fn save_topic(
    core: &Core,
    id: Option<i64>,
    purpose_id: i64,
    fields: TopicFields,
    actor: Actor,
) -> Result<Saved> {
    run(
        core,
        setup::SaveTopic {
            id,
            purpose_id,
            fields,
            actor,
        },
    )
    .await
}

/// Moves a purpose or topic one place; `false` when there is no such item.
pub async fn move_item(core: &Core, item: Item, up: bool, actor: Actor) -> Result<bool> {
    run(core, setup::Move { item, up, actor }).await
}

/// Retires a purpose or topic; `false` when there is no such item.
pub async fn retire(core: &Core, item: Item, actor: Actor) -> Result<bool> {
    run(core, setup::Retire { item, actor }).await
}

/// The profile a purpose or topic belongs to (`None`: no such item).
pub async fn owner(core: &Core, item: Item) -> Result<Option<i64>> {
    Ok(catalog::owner(&core.read, item).await?)
}
