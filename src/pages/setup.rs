//! The console's compliance setup: profiles, their purposes and topics. Plain server-rendered
//! forms (they work with JavaScript off), every message beside its field, a question before
//! retiring. Everything an admin typed is shown as text.

use super::console::ConsoleFrame;
use crate::domain::auth::Role;
use crate::domain::parse::Lang;
use crate::domain::setup::FieldError;
use crate::domain::{Channel, Enforcement};
use leptos::prelude::*;
use leptos_meta::{Html, Title};

/// Who is signed in (every setup page is an admin's).
#[derive(Clone)]
pub struct Frame {
    pub email: String,
    pub csrf: String,
}

/// A form as posted (or as stored, for an edit), with what was refused.
#[derive(Clone, Default)]
pub struct Form {
    pub values: Vec<(String, String)>,
    pub errors: Vec<FieldError>,
}

impl Form {
    fn val(&self, name: &str) -> String {
        crate::domain::setup::Fields::get(self.values.as_slice(), name)
            .unwrap_or("")
            .to_owned()
    }
    fn has(&self, name: &str, value: &str) -> bool {
        crate::domain::setup::Fields::all(self.values.as_slice(), name).contains(&value)
    }
    fn err(&self, name: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, m)| m.clone())
    }
}

/// A field's id, its message (if refused), the ids of its message and hint, and what
/// `aria-describedby` names.
fn field_ids(
    form: &Form,
    name: &str,
    has_hint: bool,
) -> (String, Option<String>, String, String, Option<String>) {
    let err = form.err(name);
    let id = format!("f-{name}");
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = match (has_hint, err.is_some()) {
        (true, true) => Some(format!("{err_id} {hint_id}")),
        (true, false) => Some(hint_id.clone()),
        (false, true) => Some(err_id.clone()),
        (false, false) => None,
    };
    (id, err, err_id, hint_id, described)
}

/// A labelled one-line field with its hint and its message.
fn input(
    form: &Form,
    name: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    kind: &'static str,
    required: bool,
    readonly: bool,
) -> impl IntoView {
    let (id, err, err_id, hint_id, described) = field_ids(form, name, hint.is_some());
    view! {
        <label for=id.clone()>{label}{(!required && !readonly).then_some(view! { <span class="optional">" (optional)"</span> })}</label>
        <input type=kind id=id name=name value=form.val(name) required=required readonly=readonly
            aria-invalid=err.is_some().then_some("true") aria-describedby=described/>
        {hint.map(|h| view! { <p class="muted" id=hint_id>{h}</p> })}
        {err.map(|e| view! { <p class="form-error" id=err_id>{e}</p> })}
    }
}

/// A labelled text area.
fn area(
    form: &Form,
    name: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    required: bool,
) -> impl IntoView {
    let (id, err, err_id, hint_id, described) = field_ids(form, name, hint.is_some());
    view! {
        <label for=id.clone()>{label}{(!required).then_some(view! { <span class="optional">" (optional)"</span> })}</label>
        <textarea id=id name=name rows="3" required=required
            aria-invalid=err.is_some().then_some("true") aria-describedby=described>{form.val(name)}</textarea>
        {hint.map(|h| view! { <p class="muted" id=hint_id>{h}</p> })}
        {err.map(|e| view! { <p class="form-error" id=err_id>{e}</p> })}
    }
}

/// The name and description in every language but the profile's default, each field in its
/// language's direction.
fn translations(form: &Form, default_lang: Lang) -> impl IntoView {
    let others: Vec<Lang> = Lang::ALL
        .into_iter()
        .filter(|l| *l != default_lang)
        .collect();
    view! {
        <fieldset>
            <legend>"Other languages"</legend>
            <p class="muted">{format!(
                "The name and description above are in {}. Pages in another language show these words where given, else the ones above.",
                default_lang.endonym()
            )}</p>
            {others.into_iter().map(|l| {
                let (name_field, description_field) = crate::domain::setup::translation_fields(l);
                let name_id = format!("f-{name_field}");
                let description_id = format!("f-{description_field}");
                let err = form.err(name_field);
                let err_id = format!("{name_id}-error");
                view! {
                    <div class="translation" lang=l.code() dir=l.dir()>
                        <label for=name_id.clone()>{format!("Name in {}", l.endonym())} <span class="optional">" (optional)"</span></label>
                        <input type="text" id=name_id name=name_field value=form.val(name_field)
                            aria-invalid=err.is_some().then_some("true")
                            aria-describedby=err.is_some().then_some(err_id.clone())/>
                        {err.map(|e| view! { <p class="form-error" id=err_id>{e}</p> })}
                        <label for=description_id.clone()>{format!("Description in {}", l.endonym())} <span class="optional">" (optional)"</span></label>
                        <textarea id=description_id name=description_field rows="2">{form.val(description_field)}</textarea>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
}

/// The message above a form that something was refused (the fields say what).
fn refused(form: &Form) -> Option<impl IntoView> {
    (!form.errors.is_empty()).then(|| {
        let n = form.errors.len();
        view! {
            <p class="form-error" role="alert">
                {if n == 1 { "One field needs attention.".to_owned() } else { format!("{n} fields need attention.") }}
            </p>
        }
    })
}

pub fn enforcement_label(e: Enforcement) -> &'static str {
    match e {
        Enforcement::Restrictive => "Opt-in (restrictive)",
        Enforcement::NonRestrictive => "Opt-out (non-restrictive)",
        Enforcement::Disabled => "Switched off",
    }
}

fn enforcement_hint(e: Enforcement) -> &'static str {
    match e {
        Enforcement::Restrictive => "Only people who said yes are contacted (GDPR, CASL).",
        Enforcement::NonRestrictive => {
            "Everyone is contacted unless they said no (CAN-SPAM, existing customers)."
        }
        Enforcement::Disabled => "Nobody is contacted for this purpose, whatever they said.",
    }
}

pub fn level_label(level: u8) -> &'static str {
    match level {
        0 => "0 (unknown)",
        1 => "1 (contact)",
        2 => "2 (transactional)",
        3 => "3 (subscriptions)",
        4 => "4 (marketing)",
        _ => "5 (profiling)",
    }
}

pub struct ProfileRow {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub purposes: i64,
    pub topics: i64,
}

/// `GET /admin/profiles`.
pub fn profiles_page(frame: Frame, rows: Vec<ProfileRow>) -> impl IntoView {
    let empty = rows.is_empty();
    let rows = rows
        .into_iter()
        .map(|r| {
            let href = format!("/admin/profiles/{}", r.id);
            view! {
                <tr>
                    <td><a href=href>{r.name}</a></td>
                    <td><code>{r.key}</code></td>
                    <td class="num">{r.purposes}</td>
                    <td class="num">{r.topics}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ConsoleFrame email=frame.email role=Role::Admin csrf=frame.csrf title="Compliance profiles".to_owned() current="/admin/profiles">
            <section class="card" aria-labelledby="page-title">
                <div class="title-row">
                    <h1 id="page-title">"Compliance profiles"</h1>
                    <a class="btn btn-primary" href="/admin/profiles/new">"New profile"</a>
                </div>
                <p class="muted">"One profile per brand or region: who the emails come from, the postal address and legal text under every page, the double opt-in rules, and the purposes and topics contacts choose from."</p>
                {if empty {
                    view! { <p class="empty">"No profile yet. Create the first one to give contacts a preference page."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col" class="num">"Purposes"</th><th scope="col" class="num">"Topics"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </section>
        </ConsoleFrame>
    }
}

/// `GET /admin/profiles/new` and `/admin/profiles/{id}/edit`. `defaults` are the server's double
/// opt-in settings (hours until a link expires; until the reminder, if any).
pub fn profile_form_page(
    frame: Frame,
    id: Option<i64>,
    form: Form,
    defaults: (i64, Option<i64>),
) -> impl IntoView {
    let (title, action, back) = match id {
        None => (
            "New compliance profile".to_owned(),
            "/admin/profiles/new".to_owned(),
            "/admin/profiles".to_owned(),
        ),
        Some(id) => (
            "Profile settings".to_owned(),
            format!("/admin/profiles/{id}/edit"),
            format!("/admin/profiles/{id}"),
        ),
    };
    let locale_err = form.err("default_locale");
    let chosen_locale = form.val("default_locale");
    let confirm_placeholder = defaults.0.to_string();
    let confirm_hint = format!("Empty: the server's setting, {} hours.", defaults.0);
    let (reminder_placeholder, reminder_hint) = match defaults.1 {
        Some(h) => (
            h.to_string(),
            format!("Empty: the server's setting, {h} hours. 0: no reminder."),
        ),
        None => (
            String::new(),
            "Empty: the server's setting, no reminder. 0: no reminder.".to_owned(),
        ),
    };
    let confirm_err = form.err("confirm_hours");
    let reminder_err = form.err("reminder_hours");
    view! {
        <ConsoleFrame email=frame.email role=Role::Admin csrf=frame.csrf.clone() title=title.clone() current="/admin/profiles">
            <section class="card" aria-labelledby="page-title">
                <p class="crumbs"><a href=back.clone()>"← Back"</a></p>
                <h1 id="page-title">{title}</h1>
                {refused(&form)}
                <form method="post" action=action class="stacked setup-form" novalidate=true>
                    <input type="hidden" name="csrf" value=frame.csrf/>
                    <fieldset>
                        <legend>"Identity"</legend>
                        {input(&form, "name", "Name", Some("Shown at the top of every page and email, e.g. “Contoso Europe”."), "text", true, false)}
                        {input(&form, "key", "Key", Some("Lower-case letters, digits, - and _. Sign-up forms and sending systems use it; it cannot change later."), "text", true, id.is_some())}
                    </fieldset>
                    <fieldset>
                        <legend>"Sender"</legend>
                        {input(&form, "sender_name", "Sender name", Some("Emails come from this name; the profile's name when empty."), "text", false, false)}
                        {input(&form, "sender_address", "Sender address", None, "email", true, false)}
                        {input(&form, "reply_to", "Reply-to address", None, "email", false, false)}
                    </fieldset>
                    <fieldset>
                        <legend>"Legal"</legend>
                        {area(&form, "footer_address", "Postal address", Some("Required under every commercial email (CAN-SPAM, CASL)."), true)}
                        {area(&form, "legal_footer", "Legal footer", Some("Company registration or other notice, under the address."), false)}
                        {input(&form, "privacy_url", "Privacy policy address", Some("Linked under every page, e.g. https://contoso.com/privacy."), "url", false, false)}
                        {input(&form, "jurisdiction", "Jurisdiction", Some("What consent receipts state, e.g. “EU (GDPR)” or “US-CA”."), "text", false, false)}
                        <label for="f-default_locale">"Default language"</label>
                        <select id="f-default_locale" name="default_locale" aria-invalid=locale_err.is_some().then_some("true")
                            aria-describedby=locale_err.is_some().then_some("f-default_locale-error")>
                            {Lang::ALL.into_iter().map(|l| {
                                let chosen = chosen_locale == l.code();
                                view! { <option value=l.code() selected=chosen>{l.endonym()}</option> }
                            }).collect_view()}
                        </select>
                        {locale_err.map(|e| view! { <p class="form-error" id="f-default_locale-error">{e}</p> })}
                    </fieldset>
                    <fieldset>
                        <legend>"Double opt-in"</legend>
                        <label for="f-confirm_hours">"Hours a confirmation link works" <span class="optional">" (optional)"</span></label>
                        <input type="number" id="f-confirm_hours" name="confirm_hours" min="1" max="8760" inputmode="numeric"
                            value=form.val("confirm_hours") placeholder=confirm_placeholder
                            aria-invalid=confirm_err.is_some().then_some("true")
                            aria-describedby=if confirm_err.is_some() { "f-confirm_hours-error f-confirm_hours-hint" } else { "f-confirm_hours-hint" }/>
                        <p class="muted" id="f-confirm_hours-hint">{confirm_hint}</p>
                        {confirm_err.map(|e| view! { <p class="form-error" id="f-confirm_hours-error">{e}</p> })}
                        <label for="f-reminder_hours">"Hours until the one reminder" <span class="optional">" (optional)"</span></label>
                        <input type="number" id="f-reminder_hours" name="reminder_hours" min="0" max="8760" inputmode="numeric"
                            value=form.val("reminder_hours") placeholder=reminder_placeholder
                            aria-invalid=reminder_err.is_some().then_some("true")
                            aria-describedby=if reminder_err.is_some() { "f-reminder_hours-error f-reminder_hours-hint" } else { "f-reminder_hours-hint" }/>
                        <p class="muted" id="f-reminder_hours-hint">{reminder_hint}</p>
                        {reminder_err.map(|e| view! { <p class="form-error" id="f-reminder_hours-error">{e}</p> })}
                        <div class="choice">
                            <input type="checkbox" id="f-trust_api_confirmation" name="trust_api_confirmation" value="on"
                                checked=form.has("trust_api_confirmation", "on") aria-describedby="f-trust_api_confirmation-hint"/>
                            <label for="f-trust_api_confirmation">"Trust opt-ins a sending system confirmed itself"</label>
                            <p class="muted" id="f-trust_api_confirmation-hint">"Opt-ins recorded through the API with “confirmed” are recorded as confirmed, saying the caller confirmed them. Unticked: every API opt-in gets this server’s confirmation email."</p>
                        </div>
                        <div class="choice">
                            <input type="checkbox" id="f-trust_staff_opt_ins" name="trust_staff_opt_ins" value="on"
                                checked=form.has("trust_staff_opt_ins", "on") aria-describedby="f-trust_staff_opt_ins-hint"/>
                            <label for="f-trust_staff_opt_ins">"Trust opt-ins staff record"</label>
                            <p class="muted" id="f-trust_staff_opt_ins-hint">"An opt-in staff take by phone, in person or on paper is recorded at once, and the contact is emailed what was recorded with a link to correct it. Unticked: the contact confirms it by email first (double opt-in); staff-recorded opt-outs always apply at once."</p>
                        </div>
                    </fieldset>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">{if id.is_some() { "Save" } else { "Create the profile" }}</button>
                        <a href=back>"Cancel"</a>
                    </div>
                </form>
            </section>
        </ConsoleFrame>
    }
}

pub struct TopicLine {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub retired: bool,
}

pub struct PurposeLine {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub enforcement: Enforcement,
    pub channels: Vec<Channel>,
    pub mandatory: bool,
    pub min_level: u8,
    pub retired: bool,
    pub topics: Vec<TopicLine>,
}

pub struct ProfileOverview {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub sender: String,
    pub footer_address: String,
    pub privacy_url: Option<String>,
    pub default_locale: Lang,
    pub jurisdiction: Option<String>,
    pub purposes: Vec<PurposeLine>,
    /// What was just done ("Saved.").
    pub done: Option<String>,
}

fn channel_names(list: &[Channel]) -> String {
    list.iter()
        .map(|c| match c {
            Channel::Email => "Email",
            Channel::Sms => "SMS",
            Channel::Phone => "Phone",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Up and down buttons for a purpose or topic (`base`: `/admin/purposes/3`).
fn mover(csrf: &str, base: &str, name: &str, first: bool, last: bool) -> impl IntoView {
    let action = format!("{base}/move");
    view! {
        <form method="post" action=action class="inline mover">
            <input type="hidden" name="csrf" value=csrf.to_owned()/>
            <button type="submit" name="direction" value="up" class="btn btn-quiet btn-small" disabled=first
                aria-label=format!("Move {name} up")>"↑"</button>
            <button type="submit" name="direction" value="down" class="btn btn-quiet btn-small" disabled=last
                aria-label=format!("Move {name} down")>"↓"</button>
        </form>
    }
}

/// `GET /admin/profiles/{id}`: the profile, its purposes and their topics, in order.
pub fn profile_page(frame: Frame, p: ProfileOverview) -> impl IntoView {
    let csrf = frame.csrf.clone();
    let count = p.purposes.len();
    let purposes = p
        .purposes
        .into_iter()
        .enumerate()
        .map(|(i, pu)| {
            let base = format!("/admin/purposes/{}", pu.id);
            let topic_count = pu.topics.len();
            let topics = pu
                .topics
                .into_iter()
                .enumerate()
                .map(|(j, t)| {
                    let tbase = format!("/admin/topics/{}", t.id);
                    let edit = format!("{tbase}/edit");
                    let retire = format!("{tbase}/retire");
                    let name = t.name.clone();
                    view! {
                        <li class=if t.retired { "setup-topic retired" } else { "setup-topic" }>
                            <span class="item-label">
                                <span class="item-name">{t.name.clone()}</span>
                                " " <code>{t.key}</code>
                                {t.retired.then_some(view! { " " <span class="badge">"Retired"</span> })}
                            </span>
                            <span class="row-actions">
                                {mover(&csrf, &tbase, &name, j == 0, j + 1 == topic_count)}
                                <a class="btn btn-quiet btn-small" href=edit aria-label=format!("Edit {name}")>"Edit"</a>
                                {(!t.retired).then(|| view! {
                                    <a class="btn btn-danger btn-small" href=retire.clone() aria-label=format!("Retire {}", t.name)>"Retire"</a>
                                })}
                            </span>
                        </li>
                    }
                })
                .collect_view();
            let edit = format!("{base}/edit");
            let retire = format!("{base}/retire");
            let add_topic = format!("{base}/topics/new");
            let name = pu.name.clone();
            let heading_id = format!("purpose-{}", pu.id);
            let labelled_by = heading_id.clone();
            view! {
                <section class=if pu.retired { "purpose-block retired" } else { "purpose-block" } aria-labelledby=labelled_by>
                    <div class="title-row">
                        <h3 id=heading_id>{pu.name.clone()} " " <code>{pu.key}</code>
                            {pu.retired.then_some(view! { " " <span class="badge">"Retired"</span> })}</h3>
                        <span class="row-actions">
                            {mover(&csrf, &base, &name, i == 0, i + 1 == count)}
                            <a class="btn btn-quiet btn-small" href=edit aria-label=format!("Edit {name}")>"Edit"</a>
                            {(!pu.retired).then(|| view! {
                                <a class="btn btn-danger btn-small" href=retire.clone() aria-label=format!("Retire {}", pu.name)>"Retire"</a>
                            })}
                        </span>
                    </div>
                    <p class="muted">
                        {enforcement_label(pu.enforcement)} " · " {channel_names(&pu.channels)}
                        " · minimum consent level " {level_label(pu.min_level)}
                        {pu.mandatory.then_some(" · mandatory (cannot be unsubscribed)")}
                    </p>
                    {if topic_count == 0 {
                        view! { <p class="empty">"No topics: contacts choose the purpose as a whole."</p> }.into_any()
                    } else {
                        view! { <ul class="topic-list">{topics}</ul> }.into_any()
                    }}
                    {(!pu.retired).then(|| view! {
                        <p><a class="btn btn-quiet btn-small" href=add_topic.clone() aria-label=format!("Add a topic to {}", pu.name)>"Add a topic"</a></p>
                    })}
                </section>
            }
        })
        .collect_view();
    let edit = format!("/admin/profiles/{}/edit", p.id);
    let design = format!("/admin/profiles/{}/design", p.id);
    let add_purpose = format!("/admin/profiles/{}/purposes/new", p.id);
    view! {
        <ConsoleFrame email=frame.email role=Role::Admin csrf=frame.csrf.clone() title=p.name.clone() current="/admin/profiles">
            <section class="card" aria-labelledby="page-title">
                <p class="crumbs"><a href="/admin/profiles">"← Compliance profiles"</a></p>
                <div class="title-row">
                    <h1 id="page-title">{p.name.clone()}</h1>
                    <span class="row-actions">
                        <a class="btn btn-quiet" href=edit>"Edit settings"</a>
                        <a class="btn btn-primary" href=design>"Design the pages"</a>
                    </span>
                </div>
                {p.done.map(|d| view! { <p class="notice" role="status">{d}</p> })}
                <dl class="facts">
                    <dt>"Key"</dt><dd><code>{p.key}</code></dd>
                    <dt>"Sender"</dt><dd>{p.sender}</dd>
                    <dt>"Postal address"</dt><dd class="pre">{p.footer_address}</dd>
                    <dt>"Privacy policy"</dt><dd>{p.privacy_url.unwrap_or_else(|| "—".to_owned())}</dd>
                    <dt>"Default language"</dt><dd>{p.default_locale.endonym()}</dd>
                    <dt>"Jurisdiction"</dt><dd>{p.jurisdiction.unwrap_or_else(|| "—".to_owned())}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="purposes-title">
                <div class="title-row">
                    <h2 id="purposes-title">"Purposes and topics"</h2>
                    <a class="btn btn-primary" href=add_purpose>"Add a purpose"</a>
                </div>
                <p class="muted">"In the order contacts see them. A retired purpose or topic disappears from the pages and is denied to sending systems; what was recorded against it stays."</p>
                {if count == 0 {
                    view! { <p class="empty">"No purpose yet: contacts of this profile have nothing to choose."</p> }.into_any()
                } else {
                    purposes.into_any()
                }}
            </section>
        </ConsoleFrame>
    }
}

/// `GET /admin/profiles/{id}/purposes/new` and `/admin/purposes/{id}/edit`.
pub fn purpose_form_page(
    frame: Frame,
    profile: (i64, String, Lang),
    id: Option<i64>,
    form: Form,
) -> impl IntoView {
    let back = format!("/admin/profiles/{}", profile.0);
    let (title, action) = match id {
        None => (
            format!("New purpose in {}", profile.1),
            format!("/admin/profiles/{}/purposes/new", profile.0),
        ),
        Some(id) => (
            format!("Purpose in {}", profile.1),
            format!("/admin/purposes/{id}/edit"),
        ),
    };
    let enforcement = form.val("enforcement");
    let level = form.val("min_level");
    let enf_err = form.err("enforcement");
    let ch_err = form.err("channels");
    let level_err = form.err("min_level");
    let mandatory = form.has("mandatory", "on");
    let enf_described = enf_err.is_some().then_some("f-enforcement-error");
    let ch_described = ch_err.is_some().then_some("f-channels-error");
    view! {
        <ConsoleFrame email=frame.email role=Role::Admin csrf=frame.csrf.clone() title=title.clone() current="/admin/profiles">
            <section class="card" aria-labelledby="page-title">
                <p class="crumbs"><a href=back.clone()>"← " {profile.1.clone()}</a></p>
                <h1 id="page-title">{title}</h1>
                {refused(&form)}
                <form method="post" action=action class="stacked setup-form" novalidate=true>
                    <input type="hidden" name="csrf" value=frame.csrf/>
                    {input(&form, "name", "Name", Some("What contacts read, e.g. “Marketing”."), "text", true, false)}
                    {input(&form, "key", "Key", Some("What sending systems ask about; it cannot change later."), "text", true, id.is_some())}
                    {area(&form, "description", "Description", Some("One or two sentences under the name on the pages."), false)}
                    <fieldset aria-describedby=enf_described>
                        <legend>"Who is contacted"</legend>
                        {[Enforcement::Restrictive, Enforcement::NonRestrictive, Enforcement::Disabled].into_iter().map(|e| {
                            let id = format!("f-enforcement-{}", e.as_str());
                            let hint = format!("{id}-hint");
                            view! {
                                <div class="choice">
                                    <input type="radio" id=id.clone() name="enforcement" value=e.as_str()
                                        checked=enforcement == e.as_str() aria-describedby=hint.clone()/>
                                    <label for=id>{enforcement_label(e)}</label>
                                    <p class="muted" id=hint>{enforcement_hint(e)}</p>
                                </div>
                            }
                        }).collect_view()}
                        {enf_err.map(|e| view! { <p class="form-error" id="f-enforcement-error">{e}</p> })}
                    </fieldset>
                    <fieldset aria-describedby=ch_described>
                        <legend>"Channels"</legend>
                        {Channel::ALL.into_iter().map(|c| {
                            let id = format!("f-channel-{}", c.as_str());
                            view! {
                                <div class="choice">
                                    <input type="checkbox" id=id.clone() name="channels" value=c.as_str() checked=form.has("channels", c.as_str())/>
                                    <label for=id>{channel_names(&[c])}</label>
                                </div>
                            }
                        }).collect_view()}
                        {ch_err.map(|e| view! { <p class="form-error" id="f-channels-error">{e}</p> })}
                    </fieldset>
                    <label for="f-min_level">"Minimum consent level"</label>
                    <select id="f-min_level" name="min_level" aria-invalid=level_err.is_some().then_some("true")
                        aria-describedby=if level_err.is_some() { "f-min_level-error f-min_level-hint" } else { "f-min_level-hint" }>
                        {(0u8..=5).map(|l| {
                            let v = l.to_string();
                            view! { <option value=v.clone() selected=level == v>{level_label(l)}</option> }
                        }).collect_view()}
                    </select>
                    <p class="muted" id="f-min_level-hint">"Contacts whose consent level is lower are not contacted for this purpose."</p>
                    {level_err.map(|e| view! { <p class="form-error" id="f-min_level-error">{e}</p> })}
                    <div class="choice">
                        <input type="checkbox" id="f-mandatory" name="mandatory" value="on" checked=mandatory aria-describedby="f-mandatory-hint"/>
                        <label for="f-mandatory">"Mandatory"</label>
                        <p class="muted" id="f-mandatory-hint">"Service messages (receipts, security): shown on the pages, not unsubscribable."</p>
                    </div>
                    {translations(&form, profile.2)}
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">{if id.is_some() { "Save" } else { "Add the purpose" }}</button>
                        <a href=back>"Cancel"</a>
                    </div>
                </form>
            </section>
        </ConsoleFrame>
    }
}

/// `GET /admin/purposes/{id}/topics/new` and `/admin/topics/{id}/edit`.
pub fn topic_form_page(
    frame: Frame,
    profile: (i64, String, Lang),
    purpose: (i64, String),
    id: Option<i64>,
    form: Form,
) -> impl IntoView {
    let back = format!("/admin/profiles/{}", profile.0);
    let (title, action) = match id {
        None => (
            format!("New topic in {}", purpose.1),
            format!("/admin/purposes/{}/topics/new", purpose.0),
        ),
        Some(id) => (
            format!("Topic in {}", purpose.1),
            format!("/admin/topics/{id}/edit"),
        ),
    };
    view! {
        <ConsoleFrame email=frame.email role=Role::Admin csrf=frame.csrf.clone() title=title.clone() current="/admin/profiles">
            <section class="card" aria-labelledby="page-title">
                <p class="crumbs"><a href=back.clone()>"← " {profile.1.clone()}</a></p>
                <h1 id="page-title">{title}</h1>
                {refused(&form)}
                <form method="post" action=action class="stacked setup-form" novalidate=true>
                    <input type="hidden" name="csrf" value=frame.csrf/>
                    {input(&form, "name", "Name", Some("What contacts read, e.g. “Product updates”."), "text", true, false)}
                    {input(&form, "key", "Key", Some("What sending systems use (with the purpose's key); it cannot change later."), "text", true, id.is_some())}
                    {area(&form, "description", "Description", None, false)}
                    {translations(&form, profile.2)}
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">{if id.is_some() { "Save" } else { "Add the topic" }}</button>
                        <a href=back>"Cancel"</a>
                    </div>
                </form>
            </section>
        </ConsoleFrame>
    }
}

/// `GET /admin/{purposes|topics}/{id}/retire`: asks first.
pub fn retire_page(
    frame: Frame,
    what: &'static str,
    action: String,
    name: String,
    profile: (i64, String),
) -> impl IntoView {
    let back = format!("/admin/profiles/{}", profile.0);
    let title = format!("Retire {name}?");
    view! {
        <ConsoleFrame email=frame.email role=Role::Admin csrf=frame.csrf.clone() title=title.clone() current="/admin/profiles">
            <section class="card narrow-card" aria-labelledby="page-title">
                <h1 id="page-title">{title}</h1>
                <p>"From now on this " {what} " no longer appears on " {profile.1} "'s pages, and sending systems are told no for it, with the reason “retired”. "
                   "What contacts chose for it stays in the ledger. This cannot be undone from the console."</p>
                <form method="post" action=action class="actions">
                    <input type="hidden" name="csrf" value=frame.csrf/>
                    <button type="submit" class="btn btn-danger">"Retire " {name}</button>
                    <a href=back>"Cancel"</a>
                </form>
            </section>
        </ConsoleFrame>
    }
}

/// A published version in the designer's list.
pub struct VersionLine {
    pub version: i64,
    pub published_at: String,
    pub published_by: String,
    pub current: bool,
}

pub struct DesignerView {
    pub profile: (i64, String),
    pub form: Form,
    /// Purposes and topics in use: (key, name, is a topic).
    pub items: Vec<(String, String, bool)>,
    /// The colour's contrast warnings (the draft is saved anyway).
    pub warnings: Vec<String>,
    pub draft_saved: Option<(String, String)>,
    pub versions: Vec<VersionLine>,
    /// The language the previews are in.
    pub preview_lang: Lang,
    pub done: Option<String>,
    /// The draft's logo (address, width, height), and why an upload was refused.
    pub logo: Option<(String, u32, u32)>,
    pub logo_error: Option<String>,
    /// Where the browser bundle is (the live preview's island loads it).
    pub bundle: leptos::config::LeptosOptions,
}

/// `GET /admin/profiles/{id}/design`: the editor beside its preview at desktop and phone width.
pub fn designer_page(frame: Frame, v: DesignerView) -> impl IntoView {
    use crate::domain::design::{header_field, text_field, Font, EDITABLE_TEXTS};
    let (id, name) = v.profile.clone();
    let action = format!("/admin/profiles/{id}/design");
    let publish = format!("/admin/profiles/{id}/design/publish");
    let logo_action = format!("/admin/profiles/{id}/design/logo");
    let remove_logo = format!("/admin/profiles/{id}/design/logo/remove");
    let back = format!("/admin/profiles/{id}");
    let preview_lang = v.preview_lang;
    let preview = move |page: &str| {
        format!(
            "/admin/profiles/{id}/design/preview?page={page}&lang={}",
            preview_lang.code()
        )
    };
    let bundle = v.bundle.clone();
    let form = v.form.clone();
    let font = form.val("font");
    let primary_err = form.err("primary");
    let texts_err = form.err("texts");
    let csrf = frame.csrf.clone();
    let saved = v.draft_saved.clone().map(|(at, by)| {
        format!(
            "Draft saved {} by {by}. Contacts see it once it is published.",
            at.get(..16).unwrap_or(&at).replace('T', " ")
        )
    });
    view! {
        <ConsoleFrame email=frame.email role=Role::Admin csrf=frame.csrf.clone() title=format!("Design · {name}") current="/admin/profiles">
            <section class="card" aria-labelledby="page-title">
                <p class="crumbs"><a href=back.clone()>"← " {name.clone()}</a></p>
                <div class="title-row">
                    <h1 id="page-title">"Preference form design"</h1>
                    <form method="post" action=publish class="inline">
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <button type="submit" class="btn btn-primary">"Publish the draft"</button>
                    </form>
                </div>
                {v.done.map(|d| view! { <p class="notice" role="status">{d}</p> })}
                {saved.map(|s| view! { <p class="muted">{s}</p> })}
                {v.warnings.into_iter().map(|w| view! { <p class="warning" role="status">{w}</p> }).collect_view()}
                {refused(&form)}
                <div class="designer">
                    <div class="editor">
                    <form method="post" action=logo_action enctype="multipart/form-data" class="stacked setup-form designer-form logo-form">
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <fieldset>
                            <legend>"Logo"</legend>
                            {v.logo.clone().map(|(src, w, h)| view! {
                                <p class="logo-now"><img src=src alt="The logo now in the draft" width=w.min(240).to_string()
                                    height=(u64::from(h) * u64::from(w.min(240)) / u64::from(w.max(1))).max(1).to_string()/></p>
                            })}
                            <label for="f-logo">"PNG, JPEG or WebP, up to 256 KB and 2000 pixels"</label>
                            <input type="file" id="f-logo" name="logo" accept="image/png,image/jpeg,image/webp"
                                aria-invalid=v.logo_error.is_some().then_some("true")
                                aria-describedby=v.logo_error.is_some().then_some("f-logo-error")/>
                            {v.logo_error.clone().map(|e| view! { <p class="form-error" id="f-logo-error">{e}</p> })}
                            <div class="actions">
                                <button type="submit" class="btn btn-quiet">"Upload the logo"</button>
                                {v.logo.is_some().then(|| view! {
                                    <button type="submit" class="btn btn-quiet" formaction=remove_logo.clone() formenctype="application/x-www-form-urlencoded">"Remove the logo"</button>
                                })}
                            </div>
                        </fieldset>
                    </form>
                    <form method="post" action=action id=crate::admin::designer::FORM_ID class="stacked setup-form designer-form" novalidate=true>
                        <input type="hidden" name="csrf" value=csrf/>
                        <fieldset>
                            <legend>"Brand"</legend>
                            <label for="f-primary">"Brand colour"</label>
                            <input type="color" id="f-primary" name="primary" value=form.val("primary")
                                aria-invalid=primary_err.is_some().then_some("true")
                                aria-describedby=if primary_err.is_some() { "f-primary-error f-primary-hint" } else { "f-primary-hint" }/>
                            <p class="muted" id="f-primary-hint">"The header, buttons and links; text on it is black or white, whichever reads better."</p>
                            {primary_err.map(|e| view! { <p class="form-error" id="f-primary-error">{e}</p> })}
                            <p class="legend-like" id="font-label">"Font"</p>
                            <div role="radiogroup" aria-labelledby="font-label">
                                {Font::ALL.into_iter().map(|f| {
                                    let fid = format!("f-font-{}", f.as_str());
                                    view! {
                                        <div class="choice">
                                            <input type="radio" id=fid.clone() name="font" value=f.as_str() checked=font == f.as_str()/>
                                            <label for=fid>{f.label()}</label>
                                        </div>
                                    }
                                }).collect_view()}
                            </div>
                            {Lang::ALL.into_iter().map(|l| {
                                let field = header_field(l);
                                let fid = format!("f-{field}");
                                view! {
                                    <label for=fid.clone()>{format!("Header line in {}", l.endonym())} <span class="optional">" (optional)"</span></label>
                                    <input type="text" id=fid name=field.clone() value=form.val(&field) lang=l.code() dir=l.dir() maxlength="120"/>
                                }
                            }).collect_view()}
                        </fieldset>
                        <fieldset>
                            <legend>"What the pages show"</legend>
                            {v.items.iter().map(|(key, item_name, is_topic)| {
                                let fid = format!("f-show-{}", key.replace('/', "-"));
                                view! {
                                    <div class=if *is_topic { "choice nested" } else { "choice" }>
                                        <input type="checkbox" id=fid.clone() name="show" value=key.clone() checked=form.has("show", key)/>
                                        <label for=fid dir="auto">{item_name.clone()}</label>
                                    </div>
                                }
                            }).collect_view()}
                            <div class="choice">
                                <input type="checkbox" id="f-unsubscribe_all" name="unsubscribe_all" value="on" checked=form.has("unsubscribe_all", "on")/>
                                <label for="f-unsubscribe_all">"Offer “Unsubscribe from everything”"</label>
                            </div>
                        </fieldset>
                        <fieldset>
                            <legend>"Page texts"</legend>
                            <p class="muted">"Empty fields keep the standard wording (shown greyed)."</p>
                            {texts_err.map(|e| view! { <p class="form-error">{e}</p> })}
                            {Lang::ALL.into_iter().map(|l| {
                                view! {
                                    <details class="texts-lang" open=l == Lang::En>
                                        <summary>{l.endonym()}</summary>
                                        {EDITABLE_TEXTS.iter().map(|(tid, label)| {
                                            let field = text_field(l, tid);
                                            let fid = format!("f-{field}");
                                            let standard = crate::i18n::message(l, tid, &[]);
                                            view! {
                                                <label for=fid.clone()>{*label}</label>
                                                <textarea id=fid name=field.clone() rows="2" lang=l.code() dir=l.dir()
                                                    placeholder=standard>{form.val(&field)}</textarea>
                                            }
                                        }).collect_view()}
                                    </details>
                                }
                            }).collect_view()}
                        </fieldset>
                        <div class="actions">
                            <button type="submit" class="btn btn-primary">"Save the draft"</button>
                            // Without JavaScript: the form as it stands, into the large preview.
                            <button type="submit" class="btn btn-quiet" formaction=preview("center") formtarget="preview-desktop">"Preview changes"</button>
                            <a href=back>"Cancel"</a>
                        </div>
                    </form>
                    </div>
                    <div class="previews" aria-labelledby="preview-title">
                        <h2 id="preview-title">"Preview"</h2>
                        <p class="muted">"In " {v.preview_lang.endonym()} ", for a sample contact. Other languages: "
                            {Lang::ALL.into_iter().filter(|l| *l != v.preview_lang).map(|l| {
                                let href = format!("/admin/profiles/{id}/design?lang={}", l.code());
                                view! { <a href=href lang=l.code()>{l.endonym()}</a> " " }
                            }).collect_view()}
                        </p>
                        <crate::admin::designer::LivePreview profile=id/>
                        <div class="frame-desktop">
                            <iframe name="preview-desktop" src=preview("center") data-action=preview("center") title="Preference center at desktop width" sandbox=""></iframe>
                        </div>
                        <div class="frame-row">
                            <iframe name="preview-phone" class="frame-phone" src=preview("center") data-action=preview("center") title="Preference center at phone width" sandbox=""></iframe>
                            <iframe name="preview-unsubscribe" class="frame-phone" src=preview("unsubscribe") data-action=preview("unsubscribe") title="Unsubscribe page at phone width" sandbox=""></iframe>
                        </div>
                        <leptos::prelude::HydrationScripts options=bundle islands=true/>
                    </div>
                </div>
            </section>
            <section class="card" aria-labelledby="versions-title">
                <h2 id="versions-title">"Published versions"</h2>
                <p class="muted">"Every change a contact makes records the version and language their page showed. Versions never change; open one to see it as its contacts did."</p>
                {if v.versions.is_empty() {
                    view! { <p class="empty">"Nothing published with the designer yet: the pages show the brand colour and the standard texts."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table>
                                <thead><tr><th scope="col">"Version"</th><th scope="col">"Published"</th><th scope="col">"By"</th><th scope="col"><span class="sr-only">"Open"</span></th></tr></thead>
                                <tbody>
                                    {v.versions.into_iter().map(|l| {
                                        let href = format!("/admin/profiles/{id}/versions/{}", l.version);
                                        view! {
                                            <tr>
                                                <td>{l.version}{l.current.then_some(" (shown now)")}</td>
                                                <td>{l.published_at.get(..16).unwrap_or(&l.published_at).replace('T', " ")}</td>
                                                <td>{l.published_by}</td>
                                                <td><a href=href aria-label=format!("Open version {}", l.version)>"Open"</a></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </section>
        </ConsoleFrame>
    }
}

/// In a preview frame: the form as it stands would be refused, and why.
pub fn preview_refused_page(messages: Vec<String>) -> impl IntoView {
    view! {
        <Html {..} lang="en"/>
        <Title text="Preview unavailable"/>
        <main class="wrap">
            <section class="card">
                <h1>"The preview waits for a fix"</h1>
                <ul>{messages.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
            </section>
        </main>
    }
}
