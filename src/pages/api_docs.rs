//! `/api/v1/docs`: the API's reference, read off its OpenAPI document (so it says what the
//! server does), as a plain page: no script, nothing fetched from elsewhere.

use super::Layout;
use crate::domain::parse::Lang;
use leptos::prelude::*;

pub struct DocOperation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    /// (name, where, required, description)
    pub params: Vec<(String, String, bool, String)>,
    /// (media type, schema name)
    pub body: Vec<(String, String)>,
    /// (status, description, schema name)
    pub responses: Vec<(String, String, String)>,
}

pub struct DocSchema {
    pub name: String,
    pub description: String,
    /// (name, type, required, description)
    pub fields: Vec<(String, String, bool, String)>,
}

pub struct ApiDocsView {
    pub title: String,
    pub description: String,
    pub operations: Vec<DocOperation>,
    pub schemas: Vec<DocSchema>,
}

/// Text with `code` spans (the OpenAPI descriptions' backticks) as `<code>`.
fn prose(text: String) -> AnyView {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            let part = part.to_owned();
            if i % 2 == 1 {
                view! { <code>{part}</code> }.into_any()
            } else {
                part.into_any()
            }
        })
        .collect_view()
        .into_any()
}

fn anchor(name: &str) -> String {
    format!("schema-{name}")
}

fn schema_link(name: String) -> AnyView {
    if name.is_empty() {
        ().into_any()
    } else {
        let href = format!("#{}", anchor(&name));
        view! { <a href=href><code>{name}</code></a> }.into_any()
    }
}

pub fn api_docs_page(v: ApiDocsView) -> impl IntoView {
    view! {
        <Layout brand=None lang=Lang::En title=v.title.clone()>
            <section class="card api-docs" aria-labelledby="page-title">
                <h1 id="page-title">{v.title}</h1>
                <p>{prose(v.description)}</p>
                <p>"The machine-readable document (OpenAPI 3.1): " <a href="/api/v1/openapi.json"><code>"/api/v1/openapi.json"</code></a></p>
                <nav aria-label="Calls">
                    <ul>
                        {v.operations.iter().map(|o| {
                            let href = format!("#{}-{}", o.method.to_lowercase(), o.path.replace('/', "-"));
                            view! { <li><a href=href><code>{format!("{} {}", o.method, o.path)}</code></a> " " {prose(o.summary.clone())}</li> }
                        }).collect_view()}
                    </ul>
                </nav>
            </section>
            {v.operations.into_iter().map(|o| {
                let id = format!("{}-{}", o.method.to_lowercase(), o.path.replace('/', "-"));
                let labelled = id.clone();
                let has_params = !o.params.is_empty();
                view! {
                    <section class="card api-docs" aria-labelledby=labelled>
                        <h2 id=id><code>{format!("{} {}", o.method, o.path)}</code></h2>
                        <p><strong>{prose(o.summary)}</strong></p>
                        {(!o.description.is_empty()).then(|| view! { <p class="pre-line">{prose(o.description)}</p> })}
                        {has_params.then(|| view! {
                            <h3>"Parameters"</h3>
                            <div class="table-wrap"><table>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"In"</th><th scope="col">"Required"</th><th scope="col">"What it is"</th></tr></thead>
                                <tbody>{o.params.into_iter().map(|(n, w, r, d)| view! {
                                    <tr><td><code>{n}</code></td><td>{w}</td><td>{if r { "yes" } else { "no" }}</td><td>{prose(d)}</td></tr>
                                }).collect_view()}</tbody>
                            </table></div>
                        })}
                        {(!o.body.is_empty()).then(|| view! {
                            <h3>"Body"</h3>
                            <ul>{o.body.into_iter().map(|(media, schema)| view! {
                                <li><code>{media}</code>": " {schema_link(schema)}</li>
                            }).collect_view()}</ul>
                        })}
                        <h3>"Answers"</h3>
                        <div class="table-wrap"><table>
                            <thead><tr><th scope="col">"Status"</th><th scope="col">"When"</th><th scope="col">"Body"</th></tr></thead>
                            <tbody>{o.responses.into_iter().map(|(code, d, schema)| view! {
                                <tr><td>{code}</td><td>{prose(d)}</td><td>{schema_link(schema)}</td></tr>
                            }).collect_view()}</tbody>
                        </table></div>
                    </section>
                }
            }).collect_view()}
            <section class="card api-docs" aria-labelledby="schemas-title">
                <h2 id="schemas-title">"Bodies"</h2>
                {v.schemas.into_iter().map(|s| {
                    let id = anchor(&s.name);
                    view! {
                        <h3 id=id><code>{s.name}</code></h3>
                        {(!s.description.is_empty()).then(|| view! { <p>{prose(s.description)}</p> })}
                        <div class="table-wrap"><table>
                            <thead><tr><th scope="col">"Field"</th><th scope="col">"Type"</th><th scope="col">"Required"</th><th scope="col">"What it is"</th></tr></thead>
                            <tbody>{s.fields.into_iter().map(|(n, t, r, d)| view! {
                                <tr><td><code>{n}</code></td><td>{t}</td><td>{if r { "yes" } else { "no" }}</td><td>{prose(d)}</td></tr>
                            }).collect_view()}</tbody>
                        </table></div>
                    }
                }).collect_view()}
            </section>
        </Layout>
    }
}
