//! The analyst's pages: saved segments, the rule editor (plain forms: adding or removing a
//! rule posts the form and comes back with it changed, so it works without JavaScript), one
//! segment's live count, sample and export, and the dashboard with its charts drawn on the
//! server as SVG, each with the numbers in a table beside it.

use super::console::{minute, ConsoleFrame};
use crate::domain::auth::Role;
use crate::domain::report::{self, Bucket, Burst};
use crate::domain::segment::Column;
use crate::services::segment::Trend;
use crate::store::segment::Member;
use leptos::prelude::*;

/// One rule row of the editor, as the form holds it (text as typed, so a bad day is shown back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleRow {
    /// `consent`, `min_level`, `no_child`, `tracking`, `locale`, `created` or `changed`.
    pub kind: String,
    /// Joined to the row before by OR.
    pub or: bool,
    /// `purpose` or `purpose/topic` (keys).
    pub subject: String,
    pub allowed: bool,
    pub level: u8,
    pub locales: Vec<String>,
    pub from: String,
    pub to: String,
}

/// The kinds of rule the editor adds, with their names.
pub const KINDS: [(&str, &str); 7] = [
    ("consent", "Consent allowed (or not) for a purpose or topic"),
    ("min_level", "Minimum consent level"),
    ("no_child", "No children without a custodian’s consent"),
    ("tracking", "Tracking allowed (or not)"),
    ("locale", "Language"),
    ("created", "Created between"),
    ("changed", "Last changed between"),
];

const LEVELS: [&str; 6] = [
    "0 – unknown",
    "1 – contact",
    "2 – transactional",
    "3 – subscriptions",
    "4 – marketing",
    "5 – profiling",
];

pub struct SegmentsView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    pub profiles: Vec<(i64, String)>,
    /// (id, name, profile's name, channel, rules in words, last saved)
    pub segments: Vec<(i64, String, String, String, Vec<String>, String)>,
}

/// `GET /admin/segments`.
pub fn segments_page(v: SegmentsView) -> impl IntoView {
    let empty = v.segments.is_empty();
    let rows = v
        .segments
        .into_iter()
        .map(|(id, name, profile, channel, words, saved)| {
            view! {
                <tr>
                    <td data-label="Segment" dir="auto" class="break"><a href=format!("/admin/segments/{id}")>{name}</a></td>
                    <td data-label="Profile" dir="auto">{profile}</td>
                    <td data-label="Channel">{channel}</td>
                    <td data-label="Rules" dir="auto">{if words.is_empty() { "Everyone".to_owned() } else { words.join(" ") }}</td>
                    <td data-label="Saved">{minute(&saved)}</td>
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
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf title="Segments".to_owned() current="/admin/segments">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Segments"</h1>
                <p class="muted">"An audience built from rules on consent and on the contact: who may be sent a newsletter by email, at which consent level, in which language. Consent rules ask the same decision a send does, so opt-outs, pending confirmations, children and erased contacts are always honoured."</p>
                <form method="get" action="/admin/segments/new" class="filters">
                    <div class="field">
                        <label for="new-profile">"Profile"</label>
                        <select id="new-profile" name="profile">{profiles}</select>
                    </div>
                    <button type="submit" class="btn btn-primary">"New segment"</button>
                </form>
            </section>
            <section class="card" aria-labelledby="list-title">
                <h2 id="list-title">"Saved segments"</h2>
                {if empty {
                    view! { <p class="empty">"No segment yet."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table>
                                <thead><tr><th scope="col">"Segment"</th><th scope="col">"Profile"</th><th scope="col">"Channel"</th><th scope="col">"Rules"</th><th scope="col">"Saved"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </section>
        </ConsoleFrame>
    }
}

/// A count and a sample, shown by the editor's "Count" and on a segment's page.
pub struct Preview {
    pub count: i64,
    pub sample: Vec<Member>,
}

pub struct EditorView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    /// The segment changed; `None` for a new one.
    pub segment_id: Option<i64>,
    pub profile_id: i64,
    pub profile: String,
    pub name: String,
    pub channel: String,
    pub rows: Vec<RuleRow>,
    /// (form value `purpose` or `purpose/topic`, "Purpose › Topic")
    pub subjects: Vec<(String, String)>,
    /// (code, name) of the languages.
    pub locales: Vec<(String, String)>,
    pub error: Option<String>,
    pub preview: Option<Preview>,
}

/// The first members; a contact's number links to the desk for a role that may use it.
fn sample_table(sample: Vec<Member>, desk: bool) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Contact"</th><th scope="col">"Address"</th><th scope="col">"Name"</th><th scope="col">"Language"</th><th scope="col">"Level"</th></tr></thead>
                <tbody>
                    {sample.into_iter().map(|m| view! {
                        <tr>
                            <td data-label="Contact">{if desk {
                                view! { <a href=format!("/admin/contacts/{}", m.contact_id)>{m.contact_id}</a> }.into_any()
                            } else {
                                m.contact_id.to_string().into_any()
                            }}</td>
                            <td data-label="Address" class="break">{m.address}</td>
                            <td data-label="Name" dir="auto">{m.name.unwrap_or_default()}</td>
                            <td data-label="Language">{m.locale.unwrap_or_default()}</td>
                            <td data-label="Level">{m.level}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn rule_fields(
    i: usize,
    row: &RuleRow,
    subjects: &[(String, String)],
    locales: &[(String, String)],
) -> AnyView {
    let name = |f: &str| format!("r{i}.{f}");
    let id = |f: &str| format!("r{i}-{f}");
    match row.kind.as_str() {
        "consent" => {
            let options = subjects
                .iter()
                .map(|(value, label)| {
                    view! { <option value=value.clone() selected=*value == row.subject>{label.clone()}</option> }
                })
                .collect_view();
            view! {
                <label for=id("subject")>"Purpose or topic"</label>
                <select id=id("subject") name=name("subject")>{options}</select>
                <label for=id("allowed")>"On this segment’s channel, a message is"</label>
                <select id=id("allowed") name=name("allowed")>
                    <option value="yes" selected=row.allowed>"allowed"</option>
                    <option value="no" selected=!row.allowed>"not allowed"</option>
                </select>
            }
            .into_any()
        }
        "min_level" => view! {
            <label for=id("level")>"Consent level at least"</label>
            <select id=id("level") name=name("level")>
                {LEVELS.iter().enumerate().map(|(l, label)| view! {
                    <option value=l.to_string() selected=usize::from(row.level) == l>{*label}</option>
                }).collect_view()}
            </select>
        }
        .into_any(),
        "no_child" => view! {
            <p class="muted">"Children are left out, unless a custodian confirmed one of their consents."</p>
        }
        .into_any(),
        "tracking" => view! {
            <label for=id("allowed")>"Tracking (opens and clicks) is"</label>
            <select id=id("allowed") name=name("allowed")>
                <option value="yes" selected=row.allowed>"allowed"</option>
                <option value="no" selected=!row.allowed>"not allowed"</option>
            </select>
        }
        .into_any(),
        "locale" => view! {
            <fieldset>
                <legend>"Language is one of"</legend>
                {locales.iter().map(|(code, label)| view! {
                    <label class="check"><input type="checkbox" name=name("locale") value=code.clone()
                        checked=row.locales.contains(code)/>{format!(" {label}")}</label>
                }).collect_view()}
            </fieldset>
        }
        .into_any(),
        _ => {
            let what = if row.kind == "created" {
                "Created"
            } else {
                "Last consent change"
            };
            view! {
                <fieldset>
                    <legend>{what}</legend>
                    <label for=id("from")>"From (day, included; empty: any)"</label>
                    <input type="date" id=id("from") name=name("from") value=row.from.clone()/>
                    <label for=id("to")>"To (day, included; empty: any)"</label>
                    <input type="date" id=id("to") name=name("to") value=row.to.clone()/>
                </fieldset>
            }
            .into_any()
        }
    }
}

/// `GET /admin/segments/new`, `GET /admin/segments/{id}/edit`, and the editor's answers.
pub fn editor_page(v: EditorView) -> impl IntoView {
    let action = match v.segment_id {
        Some(id) => format!("/admin/segments/{id}/edit"),
        None => "/admin/segments/new".to_owned(),
    };
    let title = match v.segment_id {
        Some(_) => format!("Edit segment: {}", v.name),
        None => "New segment".to_owned(),
    };
    let n = v.rows.len();
    let rows = v
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let label = KINDS
                .iter()
                .find(|(k, _)| *k == row.kind)
                .map(|(_, l)| *l)
                .unwrap_or("Rule");
            view! {
                <li class="rule">
                    {(i > 0).then(|| view! {
                        <label for=format!("r{i}-or") class="sr-only">"Joined by"</label>
                        <select id=format!("r{i}-or") name=format!("r{i}.or") class="glue">
                            <option value="and" selected=!row.or>"and"</option>
                            <option value="or" selected=row.or>"or"</option>
                        </select>
                    })}
                    <fieldset class="rule-box">
                        <legend>{format!("Rule {}: {label}", i + 1)}</legend>
                        <input type="hidden" name=format!("r{i}.kind") value=row.kind.clone()/>
                        {rule_fields(i, row, &v.subjects, &v.locales)}
                        <button type="submit" name="action" value=format!("remove:{i}") class="btn btn-quiet btn-small" formnovalidate=true>
                            {format!("Remove rule {}", i + 1)}
                        </button>
                    </fieldset>
                </li>
            }
        })
        .collect_view();
    let kinds = KINDS
        .iter()
        .map(|(k, l)| view! { <option value=*k>{*l}</option> })
        .collect_view();
    let channel = v.channel.clone();
    let desk = v.role.may(crate::domain::auth::Permission::RecordConsent);
    let preview = v.preview.map(|p| {
        view! {
            <section class="card" aria-labelledby="preview-title" id="preview">
                <h2 id="preview-title">"Who is in it now"</h2>
                <p role="status" class="count"><strong>{p.count.to_string()}</strong>{if p.count == 1 { " contact point" } else { " contact points" }}</p>
                {(!p.sample.is_empty()).then(|| sample_table(p.sample, desk))}
            </section>
        }
    });
    view! {
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf.clone() title=title.clone() current="/admin/segments">
            <p><a href="/admin/segments">"← All segments"</a></p>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title" dir="auto" class="break">{title.clone()}</h1>
                <p class="muted">{format!("Profile {}. A contact point is in the segment when it meets the rules; “and” binds before “or”: “A and B or C” is “(A and B) or C”. Erased contacts are never in a segment.", v.profile)}</p>
                {v.error.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                <form method="post" action=action class="stacked segment-form">
                    <input type="hidden" name="csrf" value=v.csrf.clone()/>
                    <input type="hidden" name="profile" value=v.profile_id.to_string()/>
                    <label for="segment-name">"Name"</label>
                    <input type="text" id="segment-name" name="name" value=v.name.clone() maxlength="120" required=true/>
                    <label for="segment-channel">"Channel"</label>
                    <select id="segment-channel" name="channel">
                        <option value="email" selected=channel == "email">"Email (email addresses)"</option>
                        <option value="sms" selected=channel == "sms">"Text messages (phone numbers)"</option>
                        <option value="phone" selected=channel == "phone">"Phone calls (phone numbers)"</option>
                    </select>
                    <h2>"Rules"</h2>
                    {if n == 0 {
                        view! { <p class="empty">"No rule yet: every contact point of the channel."</p> }.into_any()
                    } else {
                        view! { <ol class="rules">{rows}</ol> }.into_any()
                    }}
                    <div class="filters">
                        <div class="field">
                            <label for="add-kind">"Add a rule"</label>
                            <select id="add-kind" name="add">{kinds}</select>
                        </div>
                        <button type="submit" name="action" value="add" class="btn btn-quiet" formnovalidate=true>"Add the rule"</button>
                    </div>
                    <div class="actions">
                        <button type="submit" name="action" value="save" class="btn btn-primary">"Save the segment"</button>
                        <button type="submit" name="action" value="preview" class="btn btn-quiet" formnovalidate=true>"Count who is in it"</button>
                    </div>
                </form>
            </section>
            {preview}
        </ConsoleFrame>
    }
}

pub struct SegmentView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    pub id: i64,
    pub name: String,
    pub profile: String,
    pub channel: String,
    pub words: Vec<String>,
    pub saved: String,
    /// The moment asked about (as typed), when not now.
    pub as_of: Option<String>,
    /// The count and sample, or why they cannot be had.
    pub preview: Result<Preview, String>,
    /// (form value `p:purpose` / `t:purpose/topic`, name) for the unsubscribe links, and the
    /// one chosen by default.
    pub link_choices: Vec<(String, String)>,
    pub link_default: String,
}

/// `GET /admin/segments/{id}`.
pub fn segment_page(v: SegmentView) -> impl IntoView {
    let id = v.id;
    let title = format!("Segment: {}", v.name);
    let as_of = v.as_of.clone().unwrap_or_default();
    let when = match &v.as_of {
        Some(at) => format!("As of {at}"),
        None => "Now".to_owned(),
    };
    let desk = v.role.may(crate::domain::auth::Permission::RecordConsent);
    let count_block = match v.preview {
        Ok(p) => view! {
            <p role="status" class="count"><strong>{p.count.to_string()}</strong>
                {format!("{} · {when}", if p.count == 1 { " contact point" } else { " contact points" })}</p>
            {(!p.sample.is_empty()).then(|| view! {
                <h2>"The first ones"</h2>
                {sample_table(p.sample, desk)}
            })}
        }
        .into_any(),
        Err(why) => view! { <p class="form-error" role="alert">{why}</p> }.into_any(),
    };
    let columns = Column::ALL
        .iter()
        .map(|c| {
            view! {
                <label class="check"><input type="checkbox" name="col" value=c.key()
                    checked=Column::DEFAULT.contains(c)/>{format!(" {}", c.label())}</label>
            }
        })
        .collect_view();
    let default = v.link_default.clone();
    let link_choices = v
        .link_choices
        .into_iter()
        .map(|(value, label)| {
            let selected = value == default;
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view();
    view! {
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf.clone() title=title.clone() current="/admin/segments">
            <p><a href="/admin/segments">"← All segments"</a></p>
            <section class="card" aria-labelledby="page-title">
                <div class="title-row">
                    <h1 id="page-title" dir="auto" class="break">{title.clone()}</h1>
                    <a class="btn btn-quiet btn-small" href=format!("/admin/segments/{id}/edit")>"Edit the rules"</a>
                </div>
                <p class="muted">{format!("Profile {} · channel {} · saved {}", v.profile, v.channel, minute(&v.saved))}</p>
                <ul class="rule-words">
                    {if v.words.is_empty() {
                        view! { <li>"Everyone on the channel"</li> }.into_any()
                    } else {
                        v.words.into_iter().map(|w| view! { <li dir="auto">{w}</li> }).collect_view().into_any()
                    }}
                </ul>
                {count_block}
                <form method="get" action=format!("/admin/segments/{id}") class="filters">
                    <div class="field">
                        <label for="as-of">"As of a past moment (day, or day and time in UTC)"</label>
                        <input type="text" id="as-of" name="as_of" value=as_of.clone() placeholder="2026-11-20T10:30" inputmode="numeric"/>
                    </div>
                    <button type="submit" class="btn btn-quiet">"Count then"</button>
                    {v.as_of.is_some().then(|| view! { <a href=format!("/admin/segments/{id}")>"Now"</a> })}
                </form>
            </section>
            <section class="card" aria-labelledby="export-title">
                <h2 id="export-title">"Export"</h2>
                <p class="muted">"A CSV file of every contact point in the segment (as of the moment above, if one is given), in the columns you choose. Cells that a spreadsheet would run as a formula are written as text. The export is noted in the audit log."</p>
                <form method="get" action=format!("/admin/segments/{id}/export.csv") class="stacked">
                    <input type="hidden" name="as_of" value=as_of/>
                    <fieldset>
                        <legend>"Columns"</legend>
                        {columns}
                    </fieldset>
                    <label for="links-for">"The unsubscribe links leave"</label>
                    <select id="links-for" name="links">{link_choices}</select>
                    <div class="actions"><button type="submit" class="btn btn-primary">"Download the CSV"</button></div>
                </form>
            </section>
            <section class="card" aria-labelledby="delete-title">
                <h2 id="delete-title">"Delete"</h2>
                <form method="post" action=format!("/admin/segments/{id}/delete") class="inline">
                    <input type="hidden" name="csrf" value=v.csrf/>
                    <button type="submit" class="btn btn-danger">"Delete this segment"</button>
                </form>
            </section>
        </ConsoleFrame>
    }
}

pub struct DashboardView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    pub profiles: Vec<(i64, String)>,
    pub profile_id: i64,
    pub from: String,
    pub to: String,
    pub bucket: Bucket,
    pub error: Option<String>,
    /// Bucket labels, the trends, the bursts.
    pub labels: Vec<String>,
    pub trends: Vec<Trend>,
    pub bursts: Vec<Burst>,
    /// The query string of the CSV link (the same question).
    pub csv_query: String,
}

const SERIES: [(&str, &str); 3] = [
    ("series-in", "Opt-ins"),
    ("series-out", "Opt-outs"),
    ("series-pending", "Asked to confirm"),
];

/// A trend's chart: bars per bucket, the value axis, the first and last bucket's labels. The
/// numbers are in the table after it; the chart's title says what it shows in words.
fn chart(i: usize, t: &Trend, labels: &[String]) -> impl IntoView {
    let series = vec![t.opt_ins.clone(), t.opt_outs.clone(), t.pending.clone()];
    let max = series.iter().flatten().copied().max().unwrap_or(0);
    let top = report::axis_top(max);
    let bars = report::bars(&series, top)
        .into_iter()
        .filter(|b| b.value > 0)
        .map(|b| {
            let label = format!(
                "{}: {} {}",
                labels.get(b.bucket).cloned().unwrap_or_default(),
                b.value,
                SERIES[b.series].1.to_lowercase()
            );
            view! {
                <rect x=format!("{:.2}", b.x) y=format!("{:.2}", b.y) width=format!("{:.2}", b.width)
                    height=format!("{:.2}", b.height) class=SERIES[b.series].0><title>{label}</title></rect>
            }
        })
        .collect_view();
    let sums: Vec<u64> = series.iter().map(|s| s.iter().sum()).collect();
    let summary = format!(
        "{}: {} opt-ins, {} opt-outs and {} asked to confirm from {} to {}.",
        t.name,
        sums[0],
        sums[1],
        sums[2],
        labels.first().cloned().unwrap_or_default(),
        labels.last().cloned().unwrap_or_default()
    );
    let plot_bottom = report::HEIGHT - report::BOTTOM;
    let ticks = [0u64, top / 2, top]
        .into_iter()
        .map(|v| {
            let y = report::TOP + (plot_bottom - report::TOP) * (1.0 - v as f64 / top as f64);
            view! {
                <line x1=format!("{:.1}", report::LEFT) x2=format!("{:.1}", report::WIDTH) y1=format!("{y:.1}") y2=format!("{y:.1}") class="grid"/>
                <text x=format!("{:.1}", report::LEFT - 6.0) y=format!("{:.1}", y + 4.0) text-anchor="end" class="axis">{v.to_string()}</text>
            }
        })
        .collect_view();
    let first = labels.first().cloned().unwrap_or_default();
    let last = labels.last().cloned().unwrap_or_default();
    let title_id = format!("chart-{i}-title");
    let labelled = title_id.clone();
    view! {
        <svg viewBox=format!("0 0 {} {}", report::WIDTH, report::HEIGHT) class="chart" role="img" aria-labelledby=labelled>
            <title id=title_id>{summary}</title>
            {ticks}
            {bars}
            <text x=format!("{:.1}", report::LEFT) y=format!("{:.1}", report::HEIGHT - 8.0) class="axis">{first}</text>
            <text x=format!("{:.1}", report::WIDTH) y=format!("{:.1}", report::HEIGHT - 8.0) text-anchor="end" class="axis">{last}</text>
        </svg>
    }
}

/// `GET /admin/dashboard`.
pub fn dashboard_page(v: DashboardView) -> impl IntoView {
    let profiles = v
        .profiles
        .iter()
        .map(|(id, name)| {
            view! { <option value=id.to_string() selected=*id == v.profile_id>{name.clone()}</option> }
        })
        .collect_view();
    let buckets = Bucket::ALL
        .iter()
        .map(|b| {
            let label = match b {
                Bucket::Day => "Day",
                Bucket::Week => "Week",
                Bucket::Month => "Month",
            };
            view! { <option value=b.as_str() selected=*b == v.bucket>{label}</option> }
        })
        .collect_view();
    let legend = SERIES
        .iter()
        .map(|(class, label)| {
            view! { <li><span class=format!("swatch {class}") aria-hidden="true"></span>{*label}</li> }
        })
        .collect_view();
    let labels = v.labels.clone();
    let trends = v
        .trends
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let rows = labels
                .iter()
                .enumerate()
                .filter(|(j, _)| t.opt_ins[*j] + t.opt_outs[*j] + t.pending[*j] > 0)
                .map(|(j, l)| {
                    view! {
                        <tr><th scope="row">{l.clone()}</th><td>{t.opt_ins[j]}</td><td>{t.opt_outs[j]}</td><td>{t.pending[j]}</td></tr>
                    }
                })
                .collect_view();
            let quiet = t.opt_ins.iter().chain(&t.opt_outs).chain(&t.pending).all(|n| *n == 0);
            view! {
                <section class="trend" aria-labelledby=format!("trend-{i}")>
                    <h3 id=format!("trend-{i}") dir="auto">{t.name.clone()}</h3>
                    <p class="muted">{format!("Now: {} opted in, {} opted out, {} waiting for confirmation.", t.standing[0], t.standing[1], t.standing[2])}</p>
                    <div class="chart-wrap" tabindex="0" role="group" aria-labelledby=format!("trend-{i}")>{chart(i, t, &labels)}</div>
                    {if quiet {
                        view! { <p class="muted">"No change in this period."</p> }.into_any()
                    } else {
                        view! {
                            <details>
                                <summary>"The numbers"</summary>
                                <div class="table-wrap">
                                    <table>
                                        <thead><tr><th scope="col">"Period"</th><th scope="col">"Opt-ins"</th><th scope="col">"Opt-outs"</th><th scope="col">"Asked to confirm"</th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                            </details>
                        }.into_any()
                    }}
                </section>
            }
        })
        .collect_view();
    let bursts = if v.bursts.is_empty() {
        view! { <p class="muted">"None in this period."</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table>
                    <thead><tr><th scope="col">"Minute (UTC)"</th><th scope="col">"Network"</th><th scope="col">"One-clicks"</th></tr></thead>
                    <tbody>
                        {v.bursts.iter().map(|b| view! {
                            <tr><td>{b.minute.replace('T', " ")}</td><td>{b.network.clone()}</td><td>{b.count}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <ConsoleFrame email=v.email role=v.role csrf=v.csrf title="Dashboard".to_owned() current="/admin/dashboard">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Dashboard"</h1>
                <p class="muted">"Opt-ins, opt-outs and asks to confirm (double opt-in) per purpose and topic, from the ledger, on every channel."</p>
                <form method="get" action="/admin/dashboard" class="filters">
                    <div class="field"><label for="d-profile">"Profile"</label><select id="d-profile" name="profile">{profiles}</select></div>
                    <div class="field"><label for="d-from">"From"</label><input type="date" id="d-from" name="from" value=v.from.clone()/></div>
                    <div class="field"><label for="d-to">"To"</label><input type="date" id="d-to" name="to" value=v.to.clone()/></div>
                    <div class="field"><label for="d-bucket">"Per"</label><select id="d-bucket" name="by">{buckets}</select></div>
                    <button type="submit" class="btn btn-quiet">"Show"</button>
                </form>
                {v.error.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                <p><a href=format!("/admin/dashboard.csv?{}", v.csv_query)>"Download the numbers (CSV)"</a></p>
                <ul class="legend">{legend}</ul>
                {trends}
            </section>
            <section class="card" aria-labelledby="bursts-title">
                <h2 id="bursts-title">"Bursts of one-clicks"</h2>
                <p class="muted">{format!("{} or more one-click unsubscribes from one network in one minute: often a mail security gateway following every link of the messages it scans, not people.", crate::services::segment::BURST_THRESHOLD)}</p>
                {bursts}
            </section>
        </ConsoleFrame>
    }
}
