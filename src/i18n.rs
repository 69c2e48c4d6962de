//! Page texts per language. Views take every word from here, never from literals, so a new
//! language is one more catalogue. (A published preference form will override these later.)

use crate::domain::parse::Lang;
use crate::domain::{Channel, ConsentValue};

pub struct Texts {
    pub lang: &'static str,
    pub skip_to_content: &'static str,
    pub invalid_title: &'static str,
    pub invalid_body: &'static str,
    pub invalid_hint: &'static str,
    pub error_title: &'static str,
    pub error_body: &'static str,
    pub unsubscribe_title: &'static str,
    pub unsubscribe_intro: &'static str,
    pub you_receive: &'static str,
    pub nothing_received: &'static str,
    pub unsubscribe_from: &'static str,
    pub unsubscribe_all: &'static str,
    pub unsubscribe_all_hint: &'static str,
    pub manage_link: &'static str,
    pub center_title: &'static str,
    pub center_intro: &'static str,
    pub save: &'static str,
    pub save_hint: &'static str,
    pub mandatory_heading: &'static str,
    pub mandatory_note: &'static str,
    pub pending_note: &'static str,
    pub done_title: &'static str,
    pub done_nothing: &'static str,
    pub done_intro: &'static str,
    pub undo: &'static str,
    pub undo_hint: &'static str,
    pub undone_title: &'static str,
    pub back_to_center: &'static str,
    pub one_click_done: &'static str,
    pub bad_request_title: &'static str,
    pub bad_request_body: &'static str,
    pub footer_why: &'static str,
    pub privacy_policy: &'static str,
    pub for_address: &'static str,
    pub generic_brand: &'static str,
}

static EN: Texts = Texts {
    lang: "en",
    skip_to_content: "Skip to content",
    invalid_title: "This link is not valid",
    invalid_body: "The link you followed is not valid or has expired.",
    invalid_hint: "Use the unsubscribe link in a recent email from us, or reply to that email and ask to be removed.",
    error_title: "Something went wrong",
    error_body: "We could not complete this just now. Nothing was changed. Please try again in a moment.",
    unsubscribe_title: "Unsubscribe",
    unsubscribe_intro: "Choose what you no longer want to receive. The change takes effect at once.",
    you_receive: "You currently receive",
    nothing_received: "You are not subscribed to any of our optional emails.",
    unsubscribe_from: "Unsubscribe",
    unsubscribe_all: "Unsubscribe from everything",
    unsubscribe_all_hint: "Stops every optional message from us. Service messages about things you asked for may still arrive.",
    manage_link: "Manage all your preferences",
    center_title: "Your communication preferences",
    center_intro: "Tick what you want to receive and untick what you don't, then save. Unticking takes effect at once; new subscriptions are confirmed by email first.",
    save: "Save preferences",
    save_hint: "Saving records your choices with the date and time.",
    mandatory_heading: "Service messages",
    mandatory_note: "Sent only about things you asked for, such as receipts and security notices. They can't be switched off here.",
    pending_note: "waiting for your confirmation",
    done_title: "Your preferences are updated",
    done_nothing: "Nothing needed to change: your preferences were already as you chose.",
    done_intro: "Here is what changed:",
    undo: "Undo this change",
    undo_hint: "Changed your mind? Undo restores your previous choices.",
    undone_title: "Your change was undone",
    back_to_center: "Back to your preferences",
    one_click_done: "You are unsubscribed.",
    bad_request_title: "We could not read that request",
    bad_request_body: "Something in the form was missing or not as expected. Nothing was changed. Please go back and try again.",
    footer_why: "You receive this because you are in contact with",
    privacy_policy: "Privacy policy",
    for_address: "Preferences for",
    generic_brand: "Email preferences",
};

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
    }
}

impl Texts {
    pub fn channel(&self, c: Channel) -> &'static str {
        match (self.lang, c) {
            (_, Channel::Email) => "Email",
            (_, Channel::Sms) => "Text message",
            (_, Channel::Phone) => "Phone call",
        }
    }

    /// What a recorded value meant for the contact; `NotSet` means the purpose's default.
    pub fn value(&self, v: ConsentValue, default_on: bool) -> &'static str {
        match v {
            ConsentValue::OptedIn => "subscribed",
            ConsentValue::OptedOut => "unsubscribed",
            ConsentValue::Pending => "waiting for confirmation",
            ConsentValue::NotSet if default_on => "subscribed",
            ConsentValue::NotSet => "not subscribed",
        }
    }

    pub fn unsubscribe_from_topic(&self, topic: &str) -> String {
        format!("{} from {topic}", self.unsubscribe_from)
    }

    pub fn change_line(
        &self,
        what: &str,
        channel: Channel,
        old: ConsentValue,
        new: ConsentValue,
        default_on: bool,
    ) -> String {
        format!(
            "{what} ({}): {} → {}",
            self.channel(channel).to_lowercase(),
            self.value(old, default_on),
            self.value(new, default_on)
        )
    }
}
