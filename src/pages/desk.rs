//! The staff desk's pages: finding a contact, and one contact whole (addresses, facts, and
//! every purpose and topic on every channel with its state, the decision with its reason, and
//! when and how it last changed).

use super::console::{minute, ConsoleFrame};
use crate::domain::auth::Role;
use crate::domain::rights::{RequestKind, RequestStatus};
use crate::domain::{ConsentValue, PointKind};
use crate::services::desk::{how, ContactPage, FoundContact};
use crate::services::rights::RequestRow;
use leptos::prelude::*;

fn value_words(v: ConsentValue) -> &'static str {
    match v {
        ConsentValue::OptedIn => "Opted in",
        ConsentValue::OptedOut => "Opted out",
        ConsentValue::Pending => "Waiting for confirmation",
        ConsentValue::NotSet => "Not set",
    }
}

fn kind_words(k: PointKind) -> &'static str {
    match k {
        PointKind::Email => "Email",
        PointKind::Phone => "Phone",
    }
}

pub struct ContactsView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    /// What was typed, as typed.
    pub query: String,
    /// `None`: nothing searched yet (or nothing to search for in what was typed).
    pub found: Option<Vec<FoundContact>>,
    /// Only part of the matches were looked at: every word is common.
    pub partial: bool,
    /// Why the query was not searched.
    pub error: Option<String>,
    pub limit: i64,
    /// What an export can be narrowed to: (form value, label).
    pub export_subjects: Vec<(String, String)>,
    /// The profiles a contact can be added to: (id, name).
    pub profiles: Vec<(i64, String)>,
    /// The "add a contact" form as typed, and its refusals (field, why).
    pub adding: NewTyped,
    pub add_errors: Vec<(&'static str, String)>,
}

/// The "add a contact" form, as typed.
#[derive(Default, Clone)]
pub struct NewTyped {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub lang: String,
    pub profile: String,
}

/// `GET /admin/contacts`: find a contact.
pub fn contacts_page(v: ContactsView) -> impl IntoView {
    let results = v.found.map(|found| {
        if found.is_empty() {
            return if v.partial {
                view! { <p class="empty" role="status">"No contact found among the first matches of these common words: type more of each word."</p> }.into_any()
            } else {
                view! { <p class="empty" role="status">"No contact matches. Try the start of a name, an email address or the number’s digits."</p> }.into_any()
            };
        }
        let count = found.len();
        let more = (count as i64) >= v.limit || v.partial;
        let rows = found
            .into_iter()
            .map(|f| {
                let label = f
                    .name
                    .clone()
                    .or_else(|| f.points.first().map(|p| p.1.clone()))
                    .unwrap_or_else(|| format!("Contact {}", f.id));
                let addresses = f
                    .points
                    .iter()
                    .map(|(_, a)| a.clone())
                    .collect::<Vec<_>>()
                    .join(", ");
                view! {
                    <tr>
                        <td><a href=format!("/admin/contacts/{}", f.id) dir="auto">{label}</a>
                            {f.erased.then(|| view! { " " <span class="badge">"Erased"</span> })}</td>
                        <td data-label="Addresses" class="break">{addresses}</td>
                        <td data-label="Profile" dir="auto">{f.profile}</td>
                        <td data-label="Since">{minute(&f.created_at)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <p role="status">{if more { format!("The first {count} matches; type more to narrow them.") } else if count == 1 { "One contact matches.".to_owned() } else { format!("{count} contacts match.") }}</p>
            <div class="table-wrap">
                <table>
                    <thead><tr><th scope="col">"Contact"</th><th scope="col">"Addresses"</th><th scope="col">"Profile"</th><th scope="col">"Since"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }.into_any()
    });
    let error = v.error.clone();
    let add = add_form(&v.csrf, v.profiles, v.adding, v.add_errors);
    view! {
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf title="Contacts".to_owned() current="/admin/contacts">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Contacts"</h1>
                <form method="get" action="/admin/contacts" class="stacked narrow-form" role="search">
                    <label for="q">"Find a contact"</label>
                    <input type="search" id="q" name="q" value=v.query maxlength="200" autofocus=true
                        aria-describedby=if error.is_some() { "q-error q-hint" } else { "q-hint" }
                        aria-invalid=error.is_some().then_some("true")/>
                    <p class="muted" id="q-hint">"The start of a name, an email address or a phone number; case and accents do not matter."</p>
                    {error.map(|m| view! { <p class="form-error" id="q-error">{m}</p> })}
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">"Search"</button>
                    </div>
                </form>
                {results}
            </section>
            {add}
            <section class="card" aria-labelledby="export-title">
                <h2 id="export-title">"Export change records"</h2>
                <p class="muted">"Every recorded change of consent as CSV (one row each: when, who, the address, what changed, how, by whom, the justification), all or narrowed below. Cells a spreadsheet would run as formulas are written as text."</p>
                <form method="get" action="/admin/changes.csv" class="filters">
                    <label for="x-from">"From" <input type="date" id="x-from" name="from"/></label>
                    <label for="x-to">"To" <input type="date" id="x-to" name="to"/></label>
                    <label for="x-source">"How"
                        <select id="x-source" name="source">
                            <option value="">"Any way"</option>
                            {[("page", "The contact’s pages"), ("one_click", "One-click unsubscribe"), ("double_opt_in", "Confirmed by email"), ("phone", "By phone (staff)"), ("in_person", "In person (staff)"), ("paper", "On paper (staff)"), ("import", "Import"), ("api", "A sending system (API)"), ("system", "The system")]
                                .into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                        </select></label>
                    <label for="x-actor">"Who"
                        <select id="x-actor" name="actor">
                            <option value="">"Anyone"</option>
                            {[("contact", "The contact"), ("one_click", "The contact (one click)"), ("custodian", "A custodian"), ("staff", "Staff"), ("import", "An import"), ("api_key", "A sending system"), ("system", "The system")]
                                .into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                        </select></label>
                    <label for="x-subject">"Purpose or topic"
                        <select id="x-subject" name="subject">
                            <option value="">"All"</option>
                            {v.export_subjects.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                        </select></label>
                    <button type="submit" class="btn">"Download CSV"</button>
                </form>
            </section>
        </ConsoleFrame>
    }
}

pub struct ContactView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    pub contact: ContactPage,
    /// What the last action did (shown once, after its redirect).
    pub done: Option<&'static str>,
    /// A refused change: the point's form, the field and why; and what was typed.
    pub error: Option<(i64, &'static str, String)>,
    pub typed: Typed,
    /// The contact's data requests, newest first.
    pub requests: Vec<RequestRow>,
    /// The custodian's email address (the profile form's value).
    pub custodian_email: Option<String>,
}

/// What was typed into a point's change form (kept when it is refused).
#[derive(Default, Clone)]
pub struct Typed {
    pub item: String,
    pub value: String,
    pub told: String,
    pub reference: String,
    pub justification: String,
    /// The as-of moment, as typed.
    pub at: String,
    /// The profile form, as typed (when `profile`).
    pub profile: bool,
    pub level: String,
    pub child: bool,
    pub tracking: bool,
    pub custodian: String,
}

/// The form value naming a row: `p12:email` or `t5:sms`.
pub fn item_value(subject: crate::domain::Subject, channel: crate::domain::Channel) -> String {
    let (k, id) = match subject {
        crate::domain::Subject::Purpose(id) => ("p", id),
        crate::domain::Subject::Topic(id) => ("t", id),
        crate::domain::Subject::Profile(f) => ("f", f.id()),
        crate::domain::Subject::Erasure => ("e", 0),
    };
    format!("{k}{id}:{}", channel.as_str())
}

/// `GET /admin/contacts/{id}`: one contact whole.
pub fn contact_page(v: ContactView) -> impl IntoView {
    let c = v.contact;
    let card = c.card;
    let title = card
        .name
        .clone()
        .or_else(|| card.points.iter().find_map(|p| p.address.clone()))
        .unwrap_or_else(|| format!("Contact {}", card.id));
    let facts = view! {
        <dl class="facts">
            <dt>"Profile"</dt><dd dir="auto">{c.profile}</dd>
            <dt>"Language"</dt><dd>{card.locale.clone().unwrap_or_else(|| "Not known".to_owned())}</dd>
            <dt>"Consent level"</dt><dd>{format!("{} of 5", card.level.get())}</dd>
            <dt>"Child"</dt><dd>{if card.is_child { match card.custodian { Some(id) => view! { "Yes; custodian: " <a href=format!("/admin/contacts/{id}")>{format!("contact {id}")}</a> }.into_any(), None => "Yes; no custodian recorded".into_any() } } else { "No".into_any() }}</dd>
            <dt>"Tracking"</dt><dd>{if card.tracking { "Allowed" } else { "Not allowed" }}</dd>
            <dt>"Since"</dt><dd>{minute(&card.created_at)}</dd>
        </dl>
    };
    let erased = card.erased_at.as_ref().map(|at| {
        view! { <p class="notice" role="status">{format!("This contact was erased on {}: nothing is sent to them, and their addresses are on the suppression list.", minute(at))}</p> }
    });
    let contact_id = card.id;
    let as_of = c.at.clone();
    let erased_contact = card.erased_at.is_some() || as_of.is_some();
    let at_error = v
        .error
        .as_ref()
        .filter(|(id, f, _)| *id == 0 && *f == "at")
        .map(|(_, _, m)| m.clone());
    let as_of_form = view! {
        <form method="get" action=format!("/admin/contacts/{contact_id}") class="as-of">
            <label for="at">"Show as of"</label>
            <input type="datetime-local" id="at" name="at" step="1" value=v.typed.at.clone()
                aria-describedby=if at_error.is_some() { "at-error at-hint" } else { "at-hint" }
                aria-invalid=at_error.is_some().then_some("true")/>
            <button type="submit" class="btn">"Show"</button>
            {as_of.is_some().then(|| view! { <a href=format!("/admin/contacts/{contact_id}")>"Back to now"</a> })}
            <p class="muted" id="at-hint">"A past moment (UTC): every consent and decision as the ledger had it then."</p>
            {at_error.map(|m| view! { <p class="form-error" id="at-error">{m}</p> })}
        </form>
        <p><a href=format!("/admin/contacts/{contact_id}/history")>"Full history of changes"</a></p>
    };
    let profile_form = (!erased_contact).then(|| {
        let typed = &v.typed;
        let (level, child, tracking, custodian) = if typed.profile {
            (typed.level.clone(), typed.child, typed.tracking, typed.custodian.clone())
        } else {
            (
                card.level.get().to_string(),
                card.is_child,
                card.tracking,
                v.custodian_email.clone().unwrap_or_default(),
            )
        };
        let t = if typed.profile { typed.clone() } else { Typed::default() };
        let mine = v.error.as_ref().filter(|(id, _, _)| *id == -1);
        let err = |field: &str| mine.filter(|(_, f, _)| *f == field).map(|(_, _, m)| m.clone());
        let (custodian_err, reference_err, justification_err, form_err) =
            (err("custodian"), err("reference"), err("justification"), err("form"));
        view! {
            <details class="profile-edit" open=mine.is_some()>
                <summary>"Change the consent level, child and custodian, or tracking"</summary>
                <form method="post" action=format!("/admin/contacts/{contact_id}/profile") class="stacked narrow-form profile-form">
                    <input type="hidden" name="csrf" value=v.csrf.clone()/>
                    {form_err.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                    <label for="level">"Consent level"</label>
                    <select id="level" name="level">
                        {(0u8..=5).map(|l| {
                            let value = l.to_string();
                            view! { <option value=value.clone() selected=level == value>{crate::pages::setup::level_label(l)}</option> }
                        }).collect_view()}
                    </select>
                    <div class="choice"><input type="checkbox" id="child" name="child" value="on" checked=child/><label for="child">"A child: optional messages need a custodian’s consent"</label></div>
                    <label for="custodian">"Custodian’s email address" <span class="optional">" (for a child)"</span></label>
                    <input type="email" id="custodian" name="custodian" maxlength="254" value=custodian
                        aria-invalid=custodian_err.is_some().then_some("true")
                        aria-describedby=if custodian_err.is_some() { "custodian-error custodian-hint" } else { "custodian-hint" }/>
                    <p class="muted" id="custodian-hint">"The custodian is emailed to confirm what the child asked to receive; until they confirm, nothing optional is sent to the child."</p>
                    {custodian_err.map(|m| view! { <p class="form-error" id="custodian-error">{m}</p> })}
                    <div class="choice"><input type="checkbox" id="tracking" name="tracking" value="on" checked=tracking/><label for="tracking">"Tracking allowed (opens and clicks)"</label></div>
                    <label for="profile-told">"How the contact told you"</label>
                    <select id="profile-told" name="told">
                        {crate::domain::staff::Told::ALL.into_iter().map(|h| view! { <option value=h.as_str() selected=t.told == h.as_str()>{h.label()}</option> }).collect_view()}
                    </select>
                    <label for="profile-reference">"Call or ticket reference" <span class="optional">" (optional)"</span></label>
                    <input type="text" id="profile-reference" name="reference" maxlength="100" value=t.reference.clone()
                        aria-invalid=reference_err.is_some().then_some("true")/>
                    {reference_err.map(|m| view! { <p class="form-error">{m}</p> })}
                    <label for="profile-justification">"Justification"</label>
                    <textarea id="profile-justification" name="justification" rows="3" maxlength="2000" required=true
                        aria-invalid=justification_err.is_some().then_some("true")
                        aria-describedby=justification_err.is_some().then_some("profile-justification-error")>{t.justification.clone()}</textarea>
                    {justification_err.map(|m| view! { <p class="form-error" id="profile-justification-error">{m}</p> })}
                    <div class="actions"><button type="submit" class="btn btn-primary">"Save the profile"</button></div>
                </form>
            </details>
        }
    });
    let as_of_notice = as_of.as_ref().map(|at| view! {
        <p class="notice" role="status"><strong>{format!("As things stood on {} UTC.", minute(at))}</strong>" Consents, decisions and the purposes’ rules are the ledger’s of that moment; the consent level, child and tracking shown are today’s."</p>
    });
    let csrf = v.csrf.clone();
    let error = v.error.clone();
    let typed = v.typed.clone();
    let points = c
        .points
        .into_iter()
        .map(|p| {
            let options = p
                .rows
                .iter()
                .filter(|r| !r.mandatory)
                .map(|r| {
                    let value = item_value(r.subject, r.channel);
                    let label = match &r.topic {
                        Some(t) => format!("{} › {} ({})", r.purpose, t, r.channel.as_str()),
                        None => format!("{} ({})", r.purpose, r.channel.as_str()),
                    };
                    let selected = typed.item == value;
                    view! { <option value=value selected=selected>{label}</option> }
                })
                .collect_view();
            let mine = error.as_ref().filter(|(id, _, _)| *id == p.id);
            let err = |field: &str| mine.filter(|(_, f, _)| *f == field).map(|(_, _, m)| m.clone());
            let (item_err, value_err, reference_err, justification_err, form_err) =
                (err("item"), err("value"), err("reference"), err("justification"), err("form"));
            let t = if mine.is_some() { typed.clone() } else { Typed::default() };
            let fid = |f: &str| format!("p{}-{f}", p.id);
            let form = (!erased_contact && p.address.is_some()).then(|| view! {
                <form method="post" action=format!("/admin/contacts/{contact_id}/record") class="stacked narrow-form record-form">
                    <h3>"Record a change"</h3>
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <input type="hidden" name="point" value=p.id.to_string()/>
                    {form_err.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                    <label for=fid("item")>"Purpose or topic"</label>
                    <select id=fid("item") name="item" required=true aria-invalid=item_err.is_some().then_some("true")>{options}</select>
                    {item_err.map(|m| view! { <p class="form-error">{m}</p> })}
                    <fieldset>
                        <legend>"The contact wants"</legend>
                        <div class="choice"><input type="radio" id=fid("out") name="value" value="opt_out" required=true checked=t.value == "opt_out"/><label for=fid("out")>"To stop receiving it (opt-out)"</label></div>
                        <div class="choice"><input type="radio" id=fid("in") name="value" value="opt_in" checked=t.value == "opt_in"/><label for=fid("in")>"To receive it (opt-in)"</label></div>
                    </fieldset>
                    {value_err.map(|m| view! { <p class="form-error">{m}</p> })}
                    <label for=fid("told")>"How the contact told you"</label>
                    <select id=fid("told") name="told">
                        {crate::domain::staff::Told::ALL.into_iter().map(|h| view! { <option value=h.as_str() selected=t.told == h.as_str()>{h.label()}</option> }).collect_view()}
                    </select>
                    <label for=fid("reference")>"Call or ticket reference" <span class="optional">" (optional)"</span></label>
                    <input type="text" id=fid("reference") name="reference" maxlength="100" value=t.reference.clone()
                        aria-invalid=reference_err.is_some().then_some("true")
                        aria-describedby=reference_err.is_some().then(|| fid("reference-error"))/>
                    {reference_err.map(|m| view! { <p class="form-error" id=fid("reference-error")>{m}</p> })}
                    <label for=fid("justification")>"Justification"</label>
                    <textarea id=fid("justification") name="justification" rows="3" maxlength="2000" required=true
                        aria-invalid=justification_err.is_some().then_some("true")
                        aria-describedby=if justification_err.is_some() { format!("{} {}", fid("justification-error"), fid("justification-hint")) } else { fid("justification-hint") }>{t.justification.clone()}</textarea>
                    <p class="muted" id=fid("justification-hint")>"What the contact said and when: it is kept as the change’s evidence. The contact is emailed what you record, with a link to correct it."</p>
                    {justification_err.map(|m| view! { <p class="form-error" id=fid("justification-error")>{m}</p> })}
                    <div class="actions"><button type="submit" class="btn btn-primary">"Record the change"</button></div>
                </form>
            });
            let heading = format!(
                "{}: {}",
                kind_words(p.kind),
                p.address.clone().unwrap_or_else(|| "erased".to_owned())
            );
            let rows = p
                .rows
                .into_iter()
                .map(|r| {
                    let what = match &r.topic {
                        Some(t) => format!("{} › {}", r.purpose, t),
                        None => r.purpose.clone(),
                    };
                    let last = match &r.last {
                        Some(l) => format!(
                            "{}, {}{}",
                            minute(&l.occurred_at),
                            how(l.source, l.actor_kind),
                            r.by.as_ref().map(|a| format!(" ({a})")).unwrap_or_default()
                        ),
                        None => "Never".to_owned(),
                    };
                    view! {
                        <tr>
                            <td dir="auto">{what}{r.mandatory.then(|| view! { " " <span class="badge">"Service"</span> })}</td>
                            <td data-label="Channel">{r.channel.as_str()}</td>
                            <td data-label="State">{value_words(r.value)}</td>
                            <td data-label="May be contacted"><strong>{if r.allowed { "Yes" } else { "No" }}</strong>": "{r.reason.message()}</td>
                            <td data-label="Last changed">{last}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section class="card">
                    <h2 class="break">{heading}</h2>
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"Purpose or topic"</th><th scope="col">"Channel"</th><th scope="col">"State"</th><th scope="col">"May be contacted"</th><th scope="col">"Last changed"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                    {form}
                </section>
            }
        })
        .collect_view();
    let requests = (as_of.is_none()).then(|| {
        let start = (card.erased_at.is_none()
            && card.points.iter().any(|p| p.kind == PointKind::Email && p.address.is_some()))
        .then(|| {
            let action = format!("/admin/contacts/{contact_id}/requests");
            view! {
                <div class="actions">
                    <form method="post" action=action.clone() class="inline">
                        <input type="hidden" name="csrf" value=v.csrf.clone()/>
                        <input type="hidden" name="kind" value="access"/>
                        <button type="submit" class="btn">"Email them a copy of their data"</button>
                    </form>
                    <form method="post" action=action class="inline">
                        <input type="hidden" name="csrf" value=v.csrf.clone()/>
                        <input type="hidden" name="kind" value="erasure"/>
                        <button type="submit" class="btn btn-danger" aria-describedby="erasure-hint">"Start an erasure"</button>
                    </form>
                </div>
                <p class="muted" id="erasure-hint">"The contact is emailed a link to confirm the erasure. It is carried out when they confirm, or when an admin approves it here."</p>
            }
        });
        let refused = v
            .error
            .as_ref()
            .filter(|(id, f, _)| *id == 0 && *f == "form")
            .map(|(_, _, m)| view! { <p class="form-error" role="alert">{m.clone()}</p> });
        view! {
            <section class="card" aria-labelledby="requests-title">
                <h2 id="requests-title">"Data requests"</h2>
                {refused}
                {start}
                {request_table(v.requests, &v.csrf, v.role, false)}
            </section>
        }
    });
    view! {
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf title=title.clone() current="/admin/contacts">
            <p><a href="/admin/contacts">"← Contacts"</a></p>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title" dir="auto" class="break">{title}</h1>
                {v.done.map(|d| view! { <p class="notice" role="status">{d}</p> })}
                {as_of_notice}
                {erased}
                {facts}
                {as_of_form}
                {profile_form}
            </section>
            {points}
            {requests}
        </ConsoleFrame>
    }
}

pub struct HistoryView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    pub contact_id: i64,
    pub title: String,
    pub lines: Vec<crate::services::desk::HistoryLine>,
    /// The filter's choices: (form value, label).
    pub subjects: Vec<(String, String)>,
    /// The filter as typed: subject, source, from, to.
    pub typed: [String; 4],
    pub bad_day: bool,
    /// The link to older records, when there may be more.
    pub older: Option<String>,
}

/// `GET /admin/contacts/{id}/history`: every change, newest first, filterable.
pub fn history_page(v: HistoryView) -> impl IntoView {
    let [subject, source, from, to] = v.typed.clone();
    let subject_options = v
        .subjects
        .into_iter()
        .map(|(value, label)| {
            let selected = value == subject;
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view();
    let sources = [
        ("page", "The contact’s pages"),
        ("one_click", "One-click unsubscribe"),
        ("double_opt_in", "Confirmed by email"),
        ("phone", "By phone (staff)"),
        ("in_person", "In person (staff)"),
        ("paper", "On paper (staff)"),
        ("import", "Import"),
        ("api", "A sending system (API)"),
        ("system", "The system"),
    ]
    .into_iter()
    .map(|(value, label)| view! { <option value=value selected=source == value>{label}</option> })
    .collect_view();
    let count = v.lines.len();
    let rows = v
        .lines
        .into_iter()
        .map(|l| {
            let evidence = [
                l.justification.clone(),
                l.ip.as_ref().map(|ip| format!("IP address {ip}")),
                l.user_agent.as_ref().map(|ua| format!("Browser: {ua}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            view! {
                <tr>
                    <td>{minute(&l.occurred_at)}</td>
                    <td data-label="What" dir="auto">{l.what}<br/><span class="muted break">{if l.fact.is_some() { "the contact’s profile".to_owned() } else { format!("{} · {}", l.address, l.channel.as_str()) }}</span></td>
                    <td data-label="Change">{match &l.fact {
                        Some((old, new)) => format!("{old} → {new}"),
                        None => format!("{} → {}", value_words(l.old_value), value_words(l.new_value)),
                    }}</td>
                    <td data-label="How">{l.how}<br/><span class="muted">{format!("by {}", l.who)}</span></td>
                    <td data-label="Evidence" class="break" dir="auto">{if evidence.is_empty() { "—".to_owned() } else { evidence }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf title=format!("History: {}", v.title) current="/admin/contacts">
            <p><a href=format!("/admin/contacts/{}", v.contact_id)>"← Back to the contact"</a></p>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title" dir="auto" class="break">{format!("History: {}", v.title)}</h1>
                <p class="muted">"Every recorded change of this contact’s consent and profile, newest first: when, what, how, by whom, and the evidence kept with it."</p>
                <form method="get" action=format!("/admin/contacts/{}/history", v.contact_id) class="filters">
                    <label for="f-subject">"What"
                        <select id="f-subject" name="subject"><option value="">"All"</option>{subject_options}</select></label>
                    <label for="f-source">"How"
                        <select id="f-source" name="source"><option value="">"Any way"</option>{sources}</select></label>
                    <label for="f-from">"From" <input type="date" id="f-from" name="from" value=from/></label>
                    <label for="f-to">"To" <input type="date" id="f-to" name="to" value=to/></label>
                    <button type="submit" class="btn">"Filter"</button>
                </form>
                {v.bad_day.then(|| view! { <p class="form-error" role="alert">"Enter days as 2026-11-20."</p> })}
                {if count == 0 {
                    view! { <p class="empty" role="status">"No change matches."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table>
                                <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"What"</th><th scope="col">"Change"</th><th scope="col">"How"</th><th scope="col">"Evidence"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
                {v.older.map(|href| view! { <p><a href=href>"Older changes"</a></p> })}
            </section>
        </ConsoleFrame>
    }
}

/// Data requests as a table: what, where it stands (overdue flagged), who asked and when,
/// the deadline, the log; an admin's approval button on an erasure waiting for it.
fn request_table(
    rows: Vec<RequestRow>,
    csrf: &str,
    role: Role,
    with_contact: bool,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No data requests."</p> }.into_any();
    }
    let approve = role.may(crate::domain::auth::Permission::ApproveErasure);
    let body = rows
        .into_iter()
        .map(|r| {
            let q = &r.request;
            let id = q.id;
            let contact = with_contact.then(|| {
                let who = r.name.clone().unwrap_or_else(|| format!("Contact {}", q.contact_id));
                view! { <td data-label="Contact" dir="auto"><a href=format!("/admin/contacts/{}", q.contact_id)>{who}</a></td> }
            });
            let action = (approve && q.status == RequestStatus::AwaitingApproval && q.kind == RequestKind::Erasure)
                .then(|| view! {
                    <form method="post" action=format!("/admin/requests/{id}/approve") class="inline">
                        <input type="hidden" name="csrf" value=csrf.to_owned()/>
                        <button type="submit" class="btn btn-danger">"Approve the erasure"</button>
                    </form>
                });
            let has_action = action.is_some();
            let log = r
                .events
                .iter()
                .map(|e| view! { <li>{format!("{} — {}", minute(&e.at), e.event)}</li> })
                .collect_view();
            view! {
                <tr id=format!("request-{id}")>
                    {contact}
                    <td data-label="Request">{q.kind.label()}</td>
                    <td data-label="Status">{q.status.label(q.kind)}{r.overdue.then(|| view! { " " <span class="badge badge-warn">"Overdue"</span> })}</td>
                    <td data-label="Asked">{format!("{}, by {}", minute(&q.created_at), r.by)}</td>
                    <td data-label="Due">{minute(&q.due_at)}</td>
                    <td data-label="Log"><ul class="plain">{log}</ul></td>
                    <td data-label=has_action.then_some("Action")>{action}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table>
                <thead><tr>
                    {with_contact.then(|| view! { <th scope="col">"Contact"</th> })}
                    <th scope="col">"Request"</th><th scope="col">"Status"</th><th scope="col">"Asked"</th>
                    <th scope="col">"Due"</th><th scope="col">"Log"</th><th scope="col"><span class="sr-only">"Action"</span></th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

pub struct RequestsView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    /// Every request, or the open ones only.
    pub all: bool,
    pub rows: Vec<RequestRow>,
    pub done: Option<&'static str>,
    /// Days a request has before it is overdue.
    pub deadline_days: u32,
}

/// `GET /admin/requests`: contacts' data requests, the open ones first (or all).
pub fn requests_page(v: RequestsView) -> impl IntoView {
    let overdue = v.rows.iter().filter(|r| r.overdue).count();
    let (title, other, other_label) = if v.all {
        (
            "Data requests",
            "/admin/requests",
            "Show the open ones only",
        )
    } else {
        (
            "Open data requests",
            "/admin/requests?all=1",
            "Show every request",
        )
    };
    let summary = format!(
        "Requests are due {} days after they are made.{}",
        v.deadline_days,
        if overdue > 0 {
            format!(" {overdue} listed here are overdue.")
        } else {
            String::new()
        }
    );
    view! {
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf.clone() title=title.to_owned() current="/admin/requests">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">{title}</h1>
                {v.done.map(|d| view! { <p class="notice" role="status">{d}</p> })}
                <p class="muted">{summary} " " <a href=other>{other_label}</a></p>
                {request_table(v.rows, &v.csrf, v.role, true)}
            </section>
        </ConsoleFrame>
    }
}

/// The form that adds a contact by hand (open when it was refused).
fn add_form(
    csrf: &str,
    profiles: Vec<(i64, String)>,
    t: NewTyped,
    errors: Vec<(&'static str, String)>,
) -> impl IntoView {
    let err = |f: &str| errors.iter().find(|(k, _)| *k == f).map(|(_, m)| m.clone());
    let (name_err, email_err, phone_err, form_err) =
        (err("name"), err("email"), err("phone"), err("form"));
    let invalid = |e: &Option<String>| e.is_some().then_some("true");
    let several = profiles.len() > 1;
    let profile_choice = if several {
        view! {
            <label for="new-profile">"Profile"</label>
            <select id="new-profile" name="profile">
                {profiles.into_iter().map(|(id, name)| {
                    let value = id.to_string();
                    view! { <option value=value.clone() selected=t.profile == value>{name}</option> }
                }).collect_view()}
            </select>
        }
        .into_any()
    } else {
        let id = profiles
            .first()
            .map(|p| p.0.to_string())
            .unwrap_or_default();
        view! { <input type="hidden" name="profile" value=id/> }.into_any()
    };
    view! {
        <section class="card" aria-labelledby="add-title">
            <details open=!errors.is_empty()>
                <summary><h2 id="add-title" class="inline-heading">"Add a contact"</h2></summary>
                <form method="post" action="/admin/contacts/new" class="stacked narrow-form">
                    <input type="hidden" name="csrf" value=csrf.to_owned()/>
                    {form_err.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                    <label for="new-name">"Name" <span class="optional">" (optional)"</span></label>
                    <input type="text" id="new-name" name="name" maxlength="200" value=t.name autocomplete="off"
                        aria-invalid=invalid(&name_err)/>
                    {name_err.map(|m| view! { <p class="form-error">{m}</p> })}
                    <label for="new-email">"Email address"</label>
                    <input type="email" id="new-email" name="email" maxlength="254" value=t.email autocomplete="off"
                        aria-invalid=invalid(&email_err) aria-describedby="new-hint"/>
                    {email_err.map(|m| view! { <p class="form-error">{m}</p> })}
                    <label for="new-phone">"Phone number" <span class="optional">" (with its country code)"</span></label>
                    <input type="tel" id="new-phone" name="phone" maxlength="40" value=t.phone autocomplete="off"
                        aria-invalid=invalid(&phone_err) aria-describedby="new-hint"/>
                    {phone_err.map(|m| view! { <p class="form-error">{m}</p> })}
                    <p class="muted" id="new-hint">"An email address, a phone number, or both. No consent is recorded: record it on the contact’s page next, with how they gave it."</p>
                    <label for="new-lang">"Language"</label>
                    <select id="new-lang" name="lang">
                        <option value="">"Not known"</option>
                        {crate::domain::parse::Lang::ALL.into_iter().map(|l| view! {
                            <option value=l.code() selected=t.lang == l.code()>{l.endonym()}</option>
                        }).collect_view()}
                    </select>
                    {profile_choice}
                    <div class="actions"><button type="submit" class="btn btn-primary">"Add the contact"</button></div>
                </form>
            </details>
        </section>
    }
}
