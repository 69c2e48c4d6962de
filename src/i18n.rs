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

/// Texts of double opt-in: the confirm page, the sign-up form and the emails.
pub struct OptInTexts {
    pub confirm_title: &'static str,
    pub confirm_intro: &'static str,
    pub confirm_keep_hint: &'static str,
    pub confirm_button: &'static str,
    pub confirmed_title: &'static str,
    pub confirmed_intro: &'static str,
    pub already_title: &'static str,
    pub already_intro: &'static str,
    pub expired_title: &'static str,
    pub expired_intro: &'static str,
    pub resend_button: &'static str,
    pub resent_title: &'static str,
    pub resent_body: &'static str,
    pub nothing_title: &'static str,
    pub nothing_body: &'static str,
    pub none_kept_title: &'static str,
    pub none_kept_body: &'static str,
    pub signup_title: &'static str,
    pub signup_intro: &'static str,
    pub email_label: &'static str,
    pub email_hint: &'static str,
    pub topics_legend: &'static str,
    pub language_label: &'static str,
    pub signup_button: &'static str,
    pub signup_privacy: &'static str,
    pub sent_title: &'static str,
    pub sent_body: &'static str,
    pub error_email: &'static str,
    pub error_no_topic: &'static str,
    pub error_heading: &'static str,
    pub too_many_title: &'static str,
    pub too_many_body: &'static str,
    pub mail_subject: &'static str,
    pub mail_reminder_subject: &'static str,
    pub mail_greeting: &'static str,
    pub mail_intro: &'static str,
    pub mail_reminder_intro: &'static str,
    pub mail_button: &'static str,
    pub mail_link_hint: &'static str,
    pub mail_expires: &'static str,
    pub mail_ignore: &'static str,
    pub mail_why: &'static str,
}

static OPT_IN_EN: OptInTexts = OptInTexts {
    confirm_title: "Confirm your subscription",
    confirm_intro: "You asked to receive the following. Press Confirm to start receiving them.",
    confirm_keep_hint: "Untick anything you no longer want before confirming.",
    confirm_button: "Confirm",
    confirmed_title: "Thank you, your subscription is confirmed",
    confirmed_intro: "You will now receive:",
    already_title: "This subscription is already confirmed",
    already_intro: "This link was used before. You receive:",
    expired_title: "This confirmation link has expired",
    expired_intro: "Links to confirm a subscription work for a limited time. You asked for:",
    resend_button: "Send me a new link",
    resent_title: "A new link is on its way",
    resent_body: "If this address can receive it, an email with a new confirmation link will arrive in a few minutes.",
    nothing_title: "Nothing is waiting for confirmation",
    nothing_body: "What this link asked for was changed or withdrawn since. Nothing was changed now.",
    none_kept_title: "Nothing was confirmed",
    none_kept_body: "You unticked everything, so you will not receive these. Nothing else changed.",
    signup_title: "Subscribe",
    signup_intro: "Choose what you would like to receive. We will send you an email to confirm your address first.",
    email_label: "Email address",
    email_hint: "For example name@example.com",
    topics_legend: "What would you like to receive?",
    language_label: "Language",
    signup_button: "Subscribe",
    signup_privacy: "We use your address only to send what you choose. Every email has a link to change your mind.",
    sent_title: "Check your inbox",
    sent_body: "If the address can receive email, a message with a link to confirm your subscription is on its way. Nothing is sent to you until you confirm.",
    error_email: "Enter an email address in the form name@example.com.",
    error_no_topic: "Choose at least one thing to receive.",
    error_heading: "Please correct this:",
    too_many_title: "Too many requests",
    too_many_body: "We received many requests from your connection. Please wait a minute and try again.",
    mail_subject: "Please confirm your subscription",
    mail_reminder_subject: "Reminder: please confirm your subscription",
    mail_greeting: "Hello,",
    mail_intro: "You asked to receive the following from us. To start receiving them, confirm your subscription:",
    mail_reminder_intro: "A few days ago you asked to receive the following from us, and we have not heard back. To start receiving them, confirm your subscription:",
    mail_button: "Confirm my subscription",
    mail_link_hint: "Or copy this link into your browser:",
    mail_expires: "This link works until",
    mail_ignore: "If you did not ask for this, ignore this email: you will not be subscribed and will hear nothing more about it.",
    mail_why: "You receive this email because this address was entered on the subscription form of",
};

pub fn optin_texts(lang: Lang) -> &'static OptInTexts {
    match lang {
        Lang::En => &OPT_IN_EN,
    }
}

/// A language's name in itself, for the language choice on forms.
pub fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
    }
}
