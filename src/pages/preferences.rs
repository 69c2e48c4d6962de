//! The unsubscribe page, the subscription center and the "what changed" page.

use super::{Layout, MessagePage, Status};
use crate::domain::parse::Lang;
use crate::domain::ConsentValue;
use crate::i18n::{texts, Texts};
use crate::views::{ChangeView, Effect, PreferencesView, PurposeBlock};
use leptos::prelude::*;

/// One page for every bad link, whatever the database holds: same words (served with a 404).
pub fn invalid_link_page(lang: Lang) -> impl IntoView {
    let t = texts(lang);
    view! { <MessagePage brand=None lang=lang title=t.invalid_title body=t.invalid_body hint=t.invalid_hint/> }
}

/// Something failed on our side (served with a 500 or 503).
pub fn failed_page() -> impl IntoView {
    let t = texts(Lang::En);
    view! { <MessagePage brand=None lang=Lang::En title=t.error_title body=t.error_body/> }
}

/// Hidden fields that record what the contact saw.
fn shown_fields(v: &PreferencesView) -> impl IntoView {
    view! {
        <input type="hidden" name="stamp" value=v.stamp.clone()/>
    }
}

fn unsubscribe_all_form(token: &str, v: &PreferencesView, t: &'static Texts) -> impl IntoView {
    // The published design may leave it out.
    v.brand.unsubscribe_all.then(|| view! {
        <form method="post" action=format!("/u/{token}") class="all">
            {shown_fields(v)}
            <input type="hidden" name="action" value="unsubscribe_all"/>
            <button type="submit" class="btn btn-danger" aria-describedby="all-hint">{v.brand.text("unsubscribe_all", t.unsubscribe_all).to_owned()}</button>
            <p id="all-hint" class="muted">{v.brand.text("unsubscribe_all_hint", t.unsubscribe_all_hint).to_owned()}</p>
        </form>
    })
}

fn mandatory_note(v: &PreferencesView, t: &'static Texts) -> impl IntoView {
    let names: Vec<String> = v
        .purposes
        .iter()
        .filter(|p| p.mandatory)
        .map(|p| p.name.clone())
        .collect();
    (!names.is_empty()).then(|| {
        view! {
            <section class="note" aria-labelledby="svc-title">
                <h2 id="svc-title">{t.mandatory_heading}</h2>
                <p class="muted"><bdi>{names.join(", ")}</bdi> {t.colon} {t.mandatory_note}</p>
            </section>
        }
    })
}

/// `GET /u/{token}`: what the contact receives, one button per topic, and "everything".
pub fn unsubscribe_page(token: &str, v: PreferencesView) -> impl IntoView {
    let t = texts(v.lang);
    let receiving: Vec<(String, String, String)> = v
        .receiving_email()
        .into_iter()
        .filter_map(|row| {
            let cell = row
                .cells
                .iter()
                .find(|c| c.channel == crate::domain::Channel::Email)?;
            Some((
                row.name.clone(),
                row.description.clone(),
                cell.field.clone(),
            ))
        })
        .collect();
    let list = if receiving.is_empty() {
        view! { <p class="empty">{t.nothing_received}</p> }.into_any()
    } else {
        view! {
            <ul class="topics" role="list">
                {receiving.into_iter().map(|(name, desc, field)| {
                    let label = t.unsubscribe_from_topic(&name);
                    let desc_id = format!("d-{}", field.replace('.', "-"));
                    view! {
                        <li class="topic">
                            <div class="topic-text">
                                <span class="topic-name" dir="auto">{name.clone()}</span>
                                <span class="muted" id=desc_id.clone() dir="auto">{desc}</span>
                            </div>
                            <form method="post" action=format!("/u/{token}")>
                                {shown_fields(&v)}
                                <input type="hidden" name="action" value="unsubscribe"/>
                                <input type="hidden" name="topic" value=field/>
                                <button type="submit" class="btn btn-quiet" aria-label=label aria-describedby=desc_id>{t.unsubscribe_from}</button>
                            </form>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let all_form = unsubscribe_all_form(token, &v, t);
    let manage = format!("/p/{token}");
    let note = mandatory_note(&v, t);
    view! {
        <Layout brand=Some(v.brand.clone()) lang=v.lang title=v.brand.text("unsubscribe_title", t.unsubscribe_title).to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">{v.brand.text("unsubscribe_title", t.unsubscribe_title).to_owned()}</h1>
                <p class="for">{t.for_address} " " <strong><bdi>{v.address.clone()}</bdi></strong></p>
                <p class="intro">{v.brand.text("unsubscribe_intro", t.unsubscribe_intro).to_owned()}</p>
                <h2>{t.you_receive}</h2>
                {list}
                {all_form}
                <p class="manage"><a href=manage>{t.manage_link}</a></p>
            </section>
            {note}
        </Layout>
    }
}

fn purpose_fieldset(p: &PurposeBlock, t: &'static Texts) -> impl IntoView {
    let legend_id = format!("p-{}", p.key);
    view! {
        <fieldset class="purpose" aria-describedby=format!("{legend_id}-d")>
            <legend id=legend_id.clone() dir="auto">{p.name.clone()}</legend>
            <p class="muted" id=format!("{legend_id}-d") dir="auto">{p.description.clone()}</p>
            <ul class="topics" role="list">
                {p.topics.iter().map(|row| {
                    let desc_id = format!("d-{}", row.key.replace('.', "-"));
                    let pending: Vec<&str> = row
                        .cells
                        .iter()
                        .filter(|c| c.value == ConsentValue::Pending)
                        .map(|c| t.channel(c.channel))
                        .collect();
                    view! {
                        <li class="topic">
                            <div class="topic-text">
                                <span class="topic-name" dir="auto">{row.name.clone()}</span>
                                <span class="muted" id=desc_id.clone() dir="auto">{row.description.clone()}</span>
                                {(!pending.is_empty()).then(|| view! {
                                    <span class="pending">{pending.join(", ")} {t.colon} {t.pending_note}</span>
                                })}
                            </div>
                            <div class="channels">
                                {row.cells.iter().map(|c| {
                                    let id = format!("f-{}", c.field.replace('.', "-"));
                                    let label = format!("{} — {}", row.name, t.channel(c.channel));
                                    view! {
                                        <span class="check">
                                            <input type="checkbox" id=id.clone() name=c.field.clone() value="on"
                                                checked=c.receiving || c.value == ConsentValue::Pending
                                                aria-label=label aria-describedby=desc_id.clone()/>
                                            <label for=id>{t.channel(c.channel)}</label>
                                        </span>
                                    }
                                }).collect_view()}
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </fieldset>
    }
}

/// The contact's data rights: a copy of their data, or erasure; each answered by email.
fn rights_section(token: &str, v: &PreferencesView) -> impl IntoView {
    let r = crate::i18n::rights_texts(v.lang);
    let action = format!("/u/{token}/request");
    let lang = v.lang.code();
    v.data_rights.then(|| {
        view! {
            <section class="note rights" aria-labelledby="rights-title">
                <h2 id="rights-title">{r.rights_heading}</h2>
                <p class="muted">{r.rights_intro}</p>
                <form method="post" action=action.clone()>
                    <input type="hidden" name="kind" value="access"/>
                    <input type="hidden" name="lang" value=lang/>
                    <button type="submit" class="btn btn-quiet">{r.rights_copy_button}</button>
                </form>
                <form method="post" action=action>
                    <input type="hidden" name="kind" value="erasure"/>
                    <input type="hidden" name="lang" value=lang/>
                    <button type="submit" class="btn btn-quiet" aria-describedby="erase-hint">{r.rights_erase_button}</button>
                    <p id="erase-hint" class="muted">{r.rights_erase_hint}</p>
                </form>
            </section>
        }
    })
}

/// `GET /p/{token}`: the subscription center, every topic on every channel.
pub fn center_page(token: &str, v: PreferencesView) -> impl IntoView {
    let t = texts(v.lang);
    let optional: Vec<PurposeBlock> = v
        .purposes
        .iter()
        .filter(|p| !p.mandatory)
        .cloned()
        .collect();
    let all_form = unsubscribe_all_form(token, &v, t);
    let action = format!("/u/{token}");
    let fields = shown_fields(&v);
    let sets = optional
        .iter()
        .map(|p| purpose_fieldset(p, t))
        .collect_view();
    let note = mandatory_note(&v, t);
    let rights = rights_section(token, &v);
    view! {
        <Layout brand=Some(v.brand.clone()) lang=v.lang title=v.brand.text("center_title", t.center_title).to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">{v.brand.text("center_title", t.center_title).to_owned()}</h1>
                <p class="for">{t.for_address} " " <strong><bdi>{v.address.clone()}</bdi></strong></p>
                <p class="intro">{v.brand.text("center_intro", t.center_intro).to_owned()}</p>
                <form method="post" action=action class="center">
                    {fields}
                    <input type="hidden" name="action" value="save"/>
                    {sets}
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">{v.brand.text("save", t.save).to_owned()}</button>
                        <span class="muted">{v.brand.text("save_hint", t.save_hint).to_owned()}</span>
                    </div>
                </form>
                {all_form}
            </section>
            {note}
            {rights}
        </Layout>
    }
}

/// `GET /u/{token}/done/{change}`: what changed, with an undo.
pub fn done_page(token: &str, v: ChangeView) -> impl IntoView {
    let t = texts(v.lang);
    let title = if v.is_undo {
        t.undone_title.to_owned()
    } else {
        v.brand.text("done_title", t.done_title).to_owned()
    };
    let body = if v.lines.is_empty() {
        view! { <p>{t.done_nothing}</p> }.into_any()
    } else {
        [
            (Effect::Stopped, t.no_longer_receive),
            (Effect::Started, t.now_receive),
            (Effect::Pending, t.waiting_confirmation),
        ]
        .into_iter()
        .filter_map(|(effect, heading)| {
            let items: Vec<String> = v
                .lines
                .iter()
                .filter(|l| l.effect == effect)
                .map(|l| t.topic_by_channels(&l.what, &l.channels))
                .collect();
            (!items.is_empty()).then(|| {
                // Only email items are confirmed by email.
                let by_email = v.lines.iter().any(|l| {
                    l.effect == Effect::Pending && l.channels.contains(&crate::domain::Channel::Email)
                });
                let hint = (effect == Effect::Pending && by_email).then(|| {
                    view! { <p class="muted">{crate::i18n::optin_texts(v.lang).check_inbox_hint}</p> }
                });
                view! {
                    <h2 class="changes-heading">{heading}</h2>
                    <ul class="changes" role="list">
                        {items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}
                    </ul>
                    {hint}
                }
            })
        })
        .collect_view()
        .into_any()
    };
    let undo_action = format!("/u/{token}/undo");
    let back = format!("/p/{token}");
    let receipt = format!(
        "/u/{token}/done/{}/receipt?lang={}",
        v.change_id,
        v.lang.code()
    );
    view! {
        <Layout brand=Some(v.brand.clone()) lang=v.lang title=title.to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title" class="done">{title}</h1>
                <div role="status">{body}</div>
                {v.can_undo.then(|| view! {
                    <form method="post" action=undo_action class="undo">
                        <input type="hidden" name="change" value=v.change_id.clone()/>
                        <input type="hidden" name="lang" value=v.lang.code()/>
                        <button type="submit" class="btn btn-quiet" aria-describedby="undo-hint">{t.undo}</button>
                        <p id="undo-hint" class="muted">{t.undo_hint}</p>
                    </form>
                })}
                {v.receipt.then(|| view! { <super::ReceiptOffer href=receipt lang=v.lang/> })}
                <p class="manage"><a href=back>{t.back_to_center}</a></p>
            </section>
        </Layout>
    }
}

/// `GET /`: there is nothing to see without a link.
#[component]
pub fn HomePage() -> impl IntoView {
    let t = texts(Lang::En);
    view! { <MessagePage brand=None lang=Lang::En title=t.invalid_title body=t.invalid_body hint=t.invalid_hint/> }
}

/// Any other path.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    Status::from_context().set(404);
    let t = texts(Lang::En);
    view! { <MessagePage brand=None lang=Lang::En title=t.invalid_title body=t.invalid_body hint=t.invalid_hint/> }
}
