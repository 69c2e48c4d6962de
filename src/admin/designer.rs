//! The form designer's live preview: an island beside the previews that follows the form as
//! the admin types. Each pause (a third of a second) asks the server whether the form as it
//! stands would be saved ([`check_design`]: nothing is saved), shows what it would refuse and
//! the colour's contrast warnings, and when nothing is refused posts the form into each preview
//! frame, which the server renders as the contact's page with those unsaved values.
//!
//! With JavaScript off the island is an empty status line, and the form's "Preview changes"
//! button posts the same form into the large preview frame.

use super::FnError;
use crate::domain::design::DesignCheck;
use leptos::prelude::*;

/// The id of the designer's form the island follows.
pub const FORM_ID: &str = "design-form";

/// Checks the designer's form as it stands without saving anything: what it would refuse and
/// the colour's warnings. `form` is the form's fields, url-encoded. Needs `ConfigureProfiles`.
#[server(prefix = "/admin/fn", endpoint = "check_design")]
pub async fn check_design(profile: i64, form: String) -> Result<DesignCheck, FnError> {
    let (state, _user) = super::allowed(crate::domain::auth::Permission::ConfigureProfiles).await?;
    super::answer(crate::server::setup::check_design(&state, profile, &form).await)
}

/// What the status line says (the server renders `Off`; the rest happen in the browser).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Live {
    /// Server-rendered, or the form is not on the page: nothing (the island says nothing it
    /// cannot do).
    Off,
    /// Following the form.
    Ready,
    Checking,
    Checked(DesignCheck),
    Failed(String),
}

/// The status line of the live preview, following the form [`FORM_ID`] of profile `profile`.
#[island]
pub fn LivePreview(profile: i64) -> impl IntoView {
    let state = RwSignal::new(Live::Off);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::follow(profile, state));
    #[cfg(not(feature = "hydrate"))]
    let _ = profile;
    view! {
        <div class="live-status" role="status" aria-live="polite">
            {move || match state.get() {
                Live::Off => ().into_any(),
                Live::Ready => view! {
                    <p class="muted">"The preview follows your changes as you type. Contacts see nothing until you publish."</p>
                }.into_any(),
                Live::Checking => view! { <p class="muted">"Updating the preview…"</p> }.into_any(),
                Live::Checked(c) if c.errors.is_empty() => view! {
                    <p class="muted">"The preview shows your changes (not saved yet)."</p>
                    {c.warnings.into_iter().map(|w| view! { <p class="warning">{w}</p> }).collect_view()}
                }.into_any(),
                Live::Checked(c) => view! {
                    <p class="form-error">"The preview waits until these are fixed:"</p>
                    <ul class="live-errors">
                        {c.errors.into_iter().map(|(_, m)| view! { <li>{m}</li> }).collect_view()}
                    </ul>
                }.into_any(),
                Live::Failed(m) => view! { <p class="form-error">{m}</p> }.into_any(),
            }}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{check_design, Live, FORM_ID};
    use leptos::prelude::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast as _;
    use web_sys::{HtmlFormElement, HtmlInputElement};

    /// How long the form must rest before the preview follows it.
    const PAUSE: Duration = Duration::from_millis(350);

    pub(super) fn follow(profile: i64, state: RwSignal<Live>) {
        let Some(form) = document()
            .get_element_by_id(FORM_ID)
            .and_then(|e| e.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        state.set(Live::Ready);
        let pending: Rc<Cell<Option<TimeoutHandle>>> = Rc::new(Cell::new(None));
        let changed = {
            let form = form.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
                if let Some(h) = pending.take() {
                    h.clear();
                }
                let form = form.clone();
                let h = set_timeout_with_handle(move || check(profile, form, state), PAUSE).ok();
                pending.set(h);
            })
        };
        for event in ["input", "change"] {
            let _ = form.add_event_listener_with_callback(event, changed.as_ref().unchecked_ref());
        }
        // Listens as long as the page lives.
        changed.forget();
    }

    fn check(profile: i64, form: HtmlFormElement, state: RwSignal<Live>) {
        let Ok(data) = web_sys::FormData::new_with_form(&form) else {
            return;
        };
        let Ok(params) = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data) else {
            return;
        };
        let body: String = params.to_string().into();
        state.set(Live::Checking);
        leptos::task::spawn_local(async move {
            match check_design(profile, body).await {
                Ok(c) => {
                    if c.errors.is_empty() {
                        show_in_frames(&form);
                    }
                    state.set(Live::Checked(c));
                }
                Err(e) => state.set(Live::Failed(e.to_string())),
            }
        });
    }

    /// Posts a copy of the form into every preview frame (`iframe[data-action]`), one copy per
    /// frame: a form plans one navigation at a time, a copy each lets all frames follow.
    fn show_in_frames(form: &HtmlFormElement) {
        let doc = document();
        let Ok(frames) = doc.query_selector_all("iframe[data-action]") else {
            return;
        };
        for i in 0..frames.length() {
            let Some(frame) = frames
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let (Some(name), Some(action)) = (
                frame.get_attribute("name"),
                frame.get_attribute("data-action"),
            ) else {
                continue;
            };
            let Ok(copy) = form
                .clone_node_with_deep(true)
                .map_err(|_| ())
                .and_then(|n| n.dyn_into::<HtmlFormElement>().map_err(|_| ()))
            else {
                continue;
            };
            copy.remove_attribute("id").ok();
            copy.set_action(&action);
            copy.set_method("post");
            copy.set_target(&name);
            copy.set_hidden(true);
            // Radio buttons keep their state across the copy only within it; the chosen font is
            // carried over by value.
            let chosen = form
                .query_selector("input[name=font]:checked")
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
                .map(|e| e.value());
            if let Some(font) = chosen {
                let same = format!(
                    "input[name=font][value='{}']",
                    font.replace(['\'', '\\'], "")
                );
                if let Some(other) = copy
                    .query_selector(&same)
                    .ok()
                    .flatten()
                    .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
                {
                    other.set_checked(true);
                }
            }
            if let Some(body) = doc.body() {
                if body.append_child(&copy).is_ok() {
                    let _ = copy.submit();
                    copy.remove();
                }
            }
        }
    }
}
