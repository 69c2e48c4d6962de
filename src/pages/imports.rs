//! The console's import pages: the upload form and the imports so far; one import's mapping
//! step (what each column is, which topic each option is), its dry run (counts and refused
//! rows), and its progress while it runs (the page reloads itself every two seconds, with or
//! without JavaScript) and its outcome.

use super::console::{minute, ConsoleFrame};
use crate::domain::auth::Role;
use crate::domain::import::{Column, Layout, RowError};
use crate::services::import::FileMapping;
use crate::store::import::{Counts, Import};
use leptos::prelude::*;

pub struct ImportsView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    pub profiles: Vec<(i64, String)>,
    /// (import, its profile's name)
    pub imports: Vec<(Import, String)>,
    /// The upload refused: why.
    pub error: Option<String>,
}

fn status_words(i: &Import) -> String {
    if i.draft {
        "Draft: map the columns".into()
    } else if i.done {
        format!("Done: {} rows", i.rows_total)
    } else {
        format!("Running: {} of {} rows", i.rows_done, i.rows_total)
    }
}

fn counts_words(c: &Counts, dry: bool) -> Vec<String> {
    let would = if dry { "would be " } else { "" };
    vec![
        format!("{} contacts {would}created", c.contacts_created),
        format!("{} ledger records {would}written", c.records_written),
        format!("{} rows unchanged", c.rows_unchanged),
        format!("{} rows refused", c.rows_refused),
        format!("{} opt-ins {would}sent to double opt-in", c.opt_ins_asked),
    ]
}

/// `GET /admin/imports`.
pub fn imports_page(v: ImportsView) -> impl IntoView {
    let rows = v
        .imports
        .into_iter()
        .map(|(i, profile)| {
            let href = format!("/admin/imports/{}", i.id);
            view! {
                <tr>
                    <td data-label="File" class="break" dir="auto"><a href=href>{i.file_name.clone()}</a></td>
                    <td data-label="Profile" dir="auto">{profile}</td>
                    <td data-label="Status">{status_words(&i)}</td>
                    <td data-label="Outcome">{if i.draft { "—".to_owned() } else { counts_words(&i.counts, false).join(" · ") }}</td>
                    <td data-label="Started">{format!("{} by {}", minute(&i.started_at), i.started_by)}</td>
                </tr>
            }
        })
        .collect_view();
    let profiles = v
        .profiles
        .into_iter()
        .map(|(id, name)| view! { <option value=id.to_string()>{name}</option> })
        .collect_view();
    view! {
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf.clone() title="Imports".to_owned() current="/admin/imports">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Import consent"</h1>
                <p class="muted">"Bring in consent kept elsewhere, from CSV files: wide (one row per contact, a column per topic, such as “Newsletter consent”) or long (one row per contact and option: “Email”, “Consent option”, “Consent value”). Several wide files of the same contacts are merged on the email address. You map the columns and see a dry run before anything is written."</p>
                {v.error.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                <form method="post" action="/admin/imports" enctype="multipart/form-data" class="stacked narrow-form">
                    <input type="hidden" name="csrf" value=v.csrf/>
                    <label for="import-profile">"Profile"</label>
                    <select id="import-profile" name="profile">{profiles}</select>
                    <label for="import-files">"CSV file(s)"</label>
                    <input type="file" id="import-files" name="files" accept=".csv,.txt,text/csv" multiple=true required=true/>
                    <p class="hint">"UTF-8 or Latin-1; commas, semicolons or tabs. Up to 2,000,000 rows."</p>
                    <div class="actions"><button type="submit" class="btn btn-primary">"Upload and map the columns"</button></div>
                </form>
            </section>
            <section class="card" aria-labelledby="list-title">
                <h2 id="list-title">"Imports"</h2>
                <div class="table-wrap">
                    <table>
                        <thead><tr><th scope="col">"File"</th><th scope="col">"Profile"</th><th scope="col">"Status"</th><th scope="col">"Outcome"</th><th scope="col">"Started"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </section>
        </ConsoleFrame>
    }
}

/// One import's page.
pub struct ImportView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    pub import: Import,
    pub profile: String,
    /// The mapping step (a draft): each file's header, options and mapping.
    pub files: Vec<FileMapping>,
    /// (key, name) of the topics and purposes a column or option may be.
    pub targets: Vec<(String, String)>,
    /// A dry run just made: its counts and refused rows, or why the mapping cannot be used.
    pub report: Option<Result<(Counts, Vec<RowError>), String>>,
    /// The refused rows of a started import (the first ones).
    pub errors: Vec<RowError>,
    /// Rows per second so far, and seconds left, while it runs.
    pub pace: Option<(f64, f64)>,
}

/// A column's form value.
pub fn column_value(c: &Column) -> String {
    match c {
        Column::Email => "email".into(),
        Column::Phone => "phone".into(),
        Column::ConsentId => "consent_id".into(),
        Column::Option => "option".into(),
        Column::Value => "value".into(),
        Column::ConsentDate => "consent_date".into(),
        Column::Level => "level".into(),
        Column::Locale => "locale".into(),
        Column::Child => "child".into(),
        Column::Topic(k) => format!("t:{k}"),
        Column::Ignored => "ignore".into(),
    }
}

/// A form value back to a column.
pub fn parse_column(v: &str) -> Option<Column> {
    Some(match v {
        "email" => Column::Email,
        "phone" => Column::Phone,
        "consent_id" => Column::ConsentId,
        "option" => Column::Option,
        "value" => Column::Value,
        "consent_date" => Column::ConsentDate,
        "level" => Column::Level,
        "locale" => Column::Locale,
        "child" => Column::Child,
        "ignore" => Column::Ignored,
        t => Column::Topic(t.strip_prefix("t:")?.to_owned()),
    })
}

const ROLES: [(&str, &str); 10] = [
    ("ignore", "Not imported"),
    ("email", "Email address"),
    ("phone", "Phone number"),
    ("consent_id", "Consent ID (the source’s key)"),
    ("option", "Consent option (long file)"),
    ("value", "Consent value (long file)"),
    ("consent_date", "Consent date (kept as evidence)"),
    ("level", "Consent level (0–5)"),
    ("locale", "Language"),
    ("child", "Child (yes/no)"),
];

fn errors_table(errors: Vec<RowError>) -> impl IntoView {
    let shown = errors.len().min(100);
    let more = errors.len() - shown;
    view! {
        <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Line"</th><th scope="col">"Column"</th><th scope="col">"Why"</th></tr></thead>
                <tbody>
                    {errors.into_iter().take(100).map(|e| view! {
                        <tr><td data-label="Line">{e.line}</td><td data-label="Column" dir="auto">{e.column}</td><td data-label="Why" dir="auto">{e.why}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(more > 0).then(|| view! { <p class="muted">{format!("… and {more} more (in the CSV).")}</p> })}
    }
}

/// `GET /admin/imports/{id}` and the dry run's answer.
pub fn import_page(v: ImportView) -> impl IntoView {
    let i = v.import;
    let id = i.id;
    let title = format!("Import: {}", i.file_name);
    let body = if i.draft {
        let layout = v
            .files
            .first()
            .map(|f| f.mapping.layout)
            .unwrap_or(Layout::Wide);
        let targets = v.targets.clone();
        let files = v
            .files
            .into_iter()
            .enumerate()
            .map(|(n, f)| {
                let targets = targets.clone();
                let columns = f
                    .header
                    .iter()
                    .zip(f.mapping.columns.iter())
                    .enumerate()
                    .map(|(j, (h, c))| {
                        let current = column_value(c);
                        let fid = format!("c{n}-{j}");
                        let roles = ROLES
                            .iter()
                            .map(|(value, label)| {
                                view! { <option value=*value selected=current == *value>{*label}</option> }
                            })
                            .collect_view();
                        let topics = targets
                            .iter()
                            .map(|(key, name)| {
                                let value = format!("t:{key}");
                                let selected = current == value;
                                view! { <option value=value selected=selected>{format!("Topic: {name}")}</option> }
                            })
                            .collect_view();
                        view! {
                            <tr>
                                <th scope="row" dir="auto"><label for=fid.clone()>{h.clone()}</label></th>
                                <td><select id=fid name=format!("c{n}.{j}")>{roles}<optgroup label="Consent for (wide file)">{topics}</optgroup></select></td>
                            </tr>
                        }
                    })
                    .collect_view();
                let options = f
                    .option_names
                    .iter()
                    .enumerate()
                    .map(|(k, name)| {
                        let current = f.mapping.topic_of_option(name).map(str::to_owned);
                        let fid = format!("o{n}-{k}");
                        let topics = targets
                            .iter()
                            .map(|(key, tname)| {
                                let selected = current.as_deref() == Some(key.as_str());
                                view! { <option value=key.clone() selected=selected>{tname.clone()}</option> }
                            })
                            .collect_view();
                        view! {
                            <tr>
                                <th scope="row" dir="auto"><label for=fid.clone()>{name.clone()}</label>
                                    <input type="hidden" name=format!("on{n}.{k}") value=name.clone()/></th>
                                <td><select id=fid name=format!("o{n}.{k}")><option value="" selected=current.is_none()>"Not imported (refused rows)"</option>{topics}</select></td>
                            </tr>
                        }
                    })
                    .collect_view();
                let has_options = !f.option_names.is_empty();
                view! {
                    <h3 dir="auto" class="break">{f.name.clone()}</h3>
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"Column"</th><th scope="col">"Is"</th></tr></thead>
                            <tbody>{columns}</tbody>
                        </table>
                    </div>
                    {has_options.then(|| view! {
                        <div class="table-wrap">
                            <table>
                                <thead><tr><th scope="col">"Consent option in the file"</th><th scope="col">"Topic"</th></tr></thead>
                                <tbody>{options}</tbody>
                            </table>
                        </div>
                    })}
                }
            })
            .collect_view();
        let report = v.report.map(|r| match r {
            Ok((counts, errors)) => {
                let clean = errors.is_empty();
                view! {
                    <section class="card" aria-labelledby="dry-title" id="dry-run">
                        <h2 id="dry-title">"Dry run: nothing was written"</h2>
                        <div role="status"><ul>{counts_words(&counts, true).into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul></div>
                        {(!clean).then(|| view! {
                            <p><a href=format!("/admin/imports/{id}/errors.csv")>"Download the refused rows (CSV)"</a></p>
                        })}
                        {(!clean).then(|| errors_table(errors))}
                        <form method="post" action=format!("/admin/imports/{id}/start") class="inline">
                            <input type="hidden" name="csrf" value=v.csrf.clone()/>
                            <button type="submit" class="btn btn-primary">{if clean { "Import now" } else { "Import the other rows now" }}</button>
                        </form>
                    </section>
                }
                .into_any()
            }
            Err(why) => view! {
                <section class="card" id="dry-run"><p class="form-error" role="alert">{why}</p></section>
            }
            .into_any(),
        });
        view! {
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title" dir="auto" class="break">{title.clone()}</h1>
                <p class="muted">{format!("Profile {}. Say what each column is; then check it with a dry run, which writes nothing.", v.profile)}</p>
                <form method="post" action=format!("/admin/imports/{id}/check") class="stacked">
                    <input type="hidden" name="csrf" value=v.csrf.clone()/>
                    <fieldset>
                        <legend>"Layout"</legend>
                        <label><input type="radio" name="layout" value="wide" checked=layout == Layout::Wide/>" Wide: a column per topic"</label>
                        <label><input type="radio" name="layout" value="long" checked=layout == Layout::Long/>" Long: a row per contact and option"</label>
                    </fieldset>
                    {files}
                    <label class="check"><input type="checkbox" name="source_confirmed" value="on" checked=i.source_confirmed/>
                        " The source confirmed these opt-ins by double opt-in (else each imported opt-in is sent a confirmation email and counts once confirmed)"</label>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">"Check (dry run)"</button>
                    </div>
                </form>
                <form method="post" action=format!("/admin/imports/{id}/discard") class="inline">
                    <input type="hidden" name="csrf" value=v.csrf.clone()/>
                    <button type="submit" class="btn btn-quiet">"Discard this upload"</button>
                </form>
            </section>
            {report}
        }
        .into_any()
    } else {
        let total = i.rows_total.max(0);
        let percent = if total == 0 {
            100
        } else {
            i.rows_done * 100 / total
        };
        let pace = v
            .pace
            .map(|(rate, left)| format!("{rate:.0} rows a second; about {} left", duration(left)));
        let counts = counts_words(&i.counts, false);
        let errors = v.errors;
        view! {
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title" dir="auto" class="break">{title.clone()}</h1>
                <p class="muted">{format!("Profile {}. Started {} by {}; SHA-256 {}.", v.profile, minute(&i.started_at), i.started_by, i.file_sha256)}</p>
                {if i.done {
                    view! { <p role="status"><strong>{format!("Done: all {total} rows.")}</strong></p> }.into_any()
                } else {
                    view! {
                        <p role="status">{format!("Importing: {} of {total} rows ({percent} %).", i.rows_done)}</p>
                        <progress max=total.to_string() value=i.rows_done.to_string()>{format!("{percent} %")}</progress>
                        {pace.map(|p| view! { <p class="muted">{p}</p> })}
                        <p class="muted">"This page follows the import by itself; you may leave it and come back."</p>
                    }.into_any()
                }}
                <ul>{counts.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                {(!errors.is_empty()).then(|| view! {
                    <p><a href=format!("/admin/imports/{id}/errors.csv")>"Download the refused rows (CSV)"</a></p>
                })}
                {(!errors.is_empty()).then(|| errors_table(errors))}
            </section>
        }
        .into_any()
    };
    view! {
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf.clone() title=title current="/admin/imports">
            <p><a href="/admin/imports">"← All imports"</a></p>
            {body}
        </ConsoleFrame>
    }
}

fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}
