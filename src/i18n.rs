//! Page texts per language. Views take every word from here, never from literals, so a new
//! language is one more catalogue. (A published preference form will override these later.)

use crate::domain::parse::Lang;
use crate::domain::Channel;

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
    /// Label of one topic's button, before the topic's name ("Unsubscribe from").
    pub unsubscribe_from_topic: &'static str,
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
    /// Headings of the "what changed" page, one per kind of effect.
    pub no_longer_receive: &'static str,
    pub now_receive: &'static str,
    pub waiting_confirmation: &'static str,
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
    /// Between a label and what it introduces (French puts a space before the colon).
    pub colon: &'static str,
    /// Channel names as labels: email, text message, phone call.
    pub channel_labels: [&'static str; 3],
    /// Channel names inside a sentence ("Events by email and text message").
    pub channel_words: [&'static str; 3],
    pub by: &'static str,
    pub and: &'static str,
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
    unsubscribe_from_topic: "Unsubscribe from",
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
    no_longer_receive: "You will no longer receive:",
    now_receive: "You will now receive:",
    waiting_confirmation: "Waiting for your confirmation:",
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
    colon: ": ",
    channel_labels: ["Email", "Text message", "Phone call"],
    channel_words: ["email", "text message", "phone"],
    by: "by",
    and: "and",
};

static FR: Texts = Texts {
    lang: "fr",
    skip_to_content: "Aller au contenu",
    invalid_title: "Ce lien n’est pas valide",
    invalid_body: "Le lien que vous avez suivi n’est pas valide ou a expiré.",
    invalid_hint: "Utilisez le lien de désinscription d’un e-mail récent de notre part, ou répondez à cet e-mail en demandant à ne plus rien recevoir.",
    error_title: "Une erreur s’est produite",
    error_body: "Nous n’avons pas pu terminer l’opération pour le moment. Rien n’a été modifié. Veuillez réessayer dans un instant.",
    unsubscribe_title: "Se désinscrire",
    unsubscribe_intro: "Choisissez ce que vous ne souhaitez plus recevoir. La modification prend effet immédiatement.",
    you_receive: "Vous recevez actuellement",
    nothing_received: "Vous n’êtes inscrit à aucun de nos e-mails facultatifs.",
    unsubscribe_from: "Se désinscrire",
    unsubscribe_from_topic: "Se désinscrire de",
    unsubscribe_all: "Se désinscrire de tout",
    unsubscribe_all_hint: "Met fin à tous nos messages facultatifs. Les messages de service liés à ce que vous avez demandé peuvent continuer à arriver.",
    manage_link: "Gérer toutes vos préférences",
    center_title: "Vos préférences de communication",
    center_intro: "Cochez ce que vous souhaitez recevoir et décochez le reste, puis enregistrez. Décocher prend effet immédiatement ; les nouvelles inscriptions sont d’abord confirmées par e-mail.",
    save: "Enregistrer mes préférences",
    save_hint: "L’enregistrement conserve vos choix avec la date et l’heure.",
    mandatory_heading: "Messages de service",
    mandatory_note: "Envoyés uniquement à propos de ce que vous avez demandé, comme les reçus et les alertes de sécurité. Ils ne peuvent pas être désactivés ici.",
    pending_note: "en attente de votre confirmation",
    done_title: "Vos préférences sont à jour",
    done_nothing: "Rien n’a eu besoin de changer : vos préférences étaient déjà celles que vous avez choisies.",
    no_longer_receive: "Vous ne recevrez plus :",
    now_receive: "Vous recevrez désormais :",
    waiting_confirmation: "En attente de votre confirmation :",
    undo: "Annuler cette modification",
    undo_hint: "Vous avez changé d’avis ? L’annulation rétablit vos choix précédents.",
    undone_title: "Votre modification a été annulée",
    back_to_center: "Retour à vos préférences",
    one_click_done: "Vous êtes désinscrit.",
    bad_request_title: "Nous n’avons pas pu lire cette demande",
    bad_request_body: "Un élément du formulaire manquait ou n’était pas celui attendu. Rien n’a été modifié. Veuillez revenir en arrière et réessayer.",
    footer_why: "Vous recevez ce message parce que vous êtes en relation avec",
    privacy_policy: "Politique de confidentialité",
    for_address: "Préférences de",
    generic_brand: "Préférences e-mail",
    colon: "\u{a0}: ",
    channel_labels: ["E-mail", "SMS", "Appel téléphonique"],
    channel_words: ["e-mail", "SMS", "téléphone"],
    by: "par",
    and: "et",
};

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

fn index(c: Channel) -> usize {
    match c {
        Channel::Email => 0,
        Channel::Sms => 1,
        Channel::Phone => 2,
    }
}

impl Texts {
    /// A channel's name as a label ("Text message").
    pub fn channel(&self, c: Channel) -> &'static str {
        self.channel_labels[index(c)]
    }

    /// The accessible name of one topic's unsubscribe button.
    pub fn unsubscribe_from_topic(&self, topic: &str) -> String {
        format!("{} {topic}", self.unsubscribe_from_topic)
    }

    /// One line of the "what changed" page: "Events by email and text message".
    pub fn topic_by_channels(&self, what: &str, channels: &[Channel]) -> String {
        let words: Vec<&str> = channels
            .iter()
            .map(|c| self.channel_words[index(*c)])
            .collect();
        let list = match words.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} {} {last}", rest.join(", "), self.and),
        };
        format!("{what} {} {list}", self.by)
    }
}

/// Texts of double opt-in: the confirm page, the sign-up form and the emails.
pub struct OptInTexts {
    /// Under "waiting for your confirmation" on the done page.
    pub check_inbox_hint: &'static str,
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
    check_inbox_hint: "We sent you an email to confirm: nothing starts until you press the button in it.",
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
    mail_why: "You receive this email because messages from this sender were requested for this address.",
};

static OPT_IN_FR: OptInTexts = OptInTexts {
    check_inbox_hint: "Nous vous avons envoyé un e-mail de confirmation : rien ne commence tant que vous n'avez pas appuyé sur le bouton qu'il contient.",
    confirm_title: "Confirmez votre abonnement",
    confirm_intro: "Vous avez demandé à recevoir ce qui suit. Appuyez sur Confirmer pour commencer à le recevoir.",
    confirm_keep_hint: "Décochez ce que vous ne souhaitez plus recevoir avant de confirmer.",
    confirm_button: "Confirmer",
    confirmed_title: "Merci, votre abonnement est confirmé",
    confirmed_intro: "Vous recevrez désormais :",
    already_title: "Cet abonnement est déjà confirmé",
    already_intro: "Ce lien a déjà servi. Vous recevez :",
    expired_title: "Ce lien de confirmation a expiré",
    expired_intro: "Les liens de confirmation d'un abonnement ne sont valables qu'un temps limité. Vous aviez demandé :",
    resend_button: "M'envoyer un nouveau lien",
    resent_title: "Un nouveau lien est en route",
    resent_body: "Si cette adresse peut le recevoir, un e-mail contenant un nouveau lien de confirmation arrivera dans quelques minutes.",
    nothing_title: "Rien n'attend de confirmation",
    nothing_body: "Ce que ce lien demandait a été modifié ou retiré depuis. Rien n'a été changé maintenant.",
    none_kept_title: "Rien n'a été confirmé",
    none_kept_body: "Vous avez tout décoché : vous ne recevrez donc pas ces envois. Rien d'autre n'a changé.",
    signup_title: "S'abonner",
    signup_intro: "Choisissez ce que vous souhaitez recevoir. Nous vous enverrons d'abord un e-mail pour confirmer votre adresse.",
    email_label: "Adresse e-mail",
    email_hint: "Par exemple nom@exemple.fr",
    topics_legend: "Que souhaitez-vous recevoir ?",
    language_label: "Langue",
    signup_button: "S'abonner",
    signup_privacy: "Nous n'utilisons votre adresse que pour vous envoyer ce que vous choisissez. Chaque e-mail contient un lien pour changer d'avis.",
    sent_title: "Consultez votre boîte de réception",
    sent_body: "Si l'adresse peut recevoir des e-mails, un message contenant un lien pour confirmer votre abonnement est en route. Rien ne vous est envoyé avant votre confirmation.",
    error_email: "Saisissez une adresse e-mail de la forme nom@exemple.fr.",
    error_no_topic: "Choisissez au moins un envoi à recevoir.",
    error_heading: "Veuillez corriger ceci :",
    too_many_title: "Trop de demandes",
    too_many_body: "Nous avons reçu de nombreuses demandes depuis votre connexion. Veuillez patienter une minute puis réessayer.",
    mail_subject: "Merci de confirmer votre abonnement",
    mail_reminder_subject: "Rappel : merci de confirmer votre abonnement",
    mail_greeting: "Bonjour,",
    mail_intro: "Vous avez demandé à recevoir ce qui suit de notre part. Pour commencer à le recevoir, confirmez votre abonnement :",
    mail_reminder_intro: "Il y a quelques jours, vous avez demandé à recevoir ce qui suit de notre part, et nous n'avons pas eu de réponse. Pour commencer à le recevoir, confirmez votre abonnement :",
    mail_button: "Confirmer mon abonnement",
    mail_link_hint: "Ou copiez ce lien dans votre navigateur :",
    mail_expires: "Ce lien est valable jusqu'au",
    mail_ignore: "Si vous n'avez rien demandé, ignorez cet e-mail : vous ne serez pas abonné et nous ne vous en reparlerons pas.",
    mail_why: "Vous recevez cet e-mail parce que des messages de cet expéditeur ont été demandés pour cette adresse.",
};

pub fn optin_texts(lang: Lang) -> &'static OptInTexts {
    match lang {
        Lang::En => &OPT_IN_EN,
        Lang::Fr => &OPT_IN_FR,
    }
}

/// Texts of consent receipts: the offer on the "what changed" and confirm pages, and the
/// public page that checks a receipt.
pub struct ReceiptTexts {
    pub offer_heading: &'static str,
    pub offer_body: &'static str,
    pub download: &'static str,
    pub check_link: &'static str,
    pub check_title: &'static str,
    pub check_intro: &'static str,
    pub paste_label: &'static str,
    pub file_label: &'static str,
    pub check_button: &'static str,
    pub empty: &'static str,
    pub valid_title: &'static str,
    /// Before the key's id.
    pub signed_with: &'static str,
    pub current: &'static str,
    pub superseded: &'static str,
    pub not_in_ledger: &'static str,
    pub invalid_title: &'static str,
    pub not_a_receipt: &'static str,
    pub unknown_key: &'static str,
    pub bad_signature: &'static str,
    pub records_heading: &'static str,
    pub controller: &'static str,
    pub recorded_at: &'static str,
    pub receipt_id: &'static str,
    pub principal: &'static str,
    /// A recorded value as words: opted in, opted out, pending, not set.
    pub values: [&'static str; 4],
}

static RECEIPT_EN: ReceiptTexts = ReceiptTexts {
    offer_heading: "Your receipt",
    offer_body: "A signed record of this change, to keep. Anyone can check that it is genuine, and whether it still stands.",
    download: "Download the receipt",
    check_link: "Check a receipt",
    check_title: "Check a consent receipt",
    check_intro: "Paste a receipt, or choose its file. The check says whether this preference center signed it and whether the choices it records still stand. It shows nothing that is not in the receipt.",
    paste_label: "The receipt's text",
    file_label: "Or the receipt's file (.jws)",
    check_button: "Check the receipt",
    empty: "Paste a receipt or choose its file first.",
    valid_title: "This receipt is genuine",
    signed_with: "It was signed by this preference center with key",
    current: "Still current: every choice it records is still in force.",
    superseded: "No longer current: at least one of the choices it records was changed since.",
    not_in_ledger: "The signature holds, but the ledger no longer holds the records it names as they were signed. Please tell the organization.",
    invalid_title: "This is not a valid receipt",
    not_a_receipt: "It is not a consent receipt of this preference center (or it was cut short).",
    unknown_key: "It names a signing key this preference center has never used.",
    bad_signature: "Its signature does not match its content: it was changed after it was signed, or signed by someone else.",
    records_heading: "What it records",
    controller: "Organization",
    recorded_at: "Recorded",
    receipt_id: "Receipt",
    principal: "For",
    values: ["receives", "does not receive", "waiting for confirmation", "not chosen"],
};

static RECEIPT_FR: ReceiptTexts = ReceiptTexts {
    offer_heading: "Votre reçu",
    offer_body: "Un relevé signé de ce changement, à conserver. Chacun peut vérifier qu'il est authentique et s'il est toujours en vigueur.",
    download: "Télécharger le reçu",
    check_link: "Vérifier un reçu",
    check_title: "Vérifier un reçu de consentement",
    check_intro: "Collez un reçu ou choisissez son fichier. La vérification indique si ce centre de préférences l'a signé et si les choix qu'il consigne sont toujours en vigueur. Elle ne montre rien qui ne soit déjà dans le reçu.",
    paste_label: "Le texte du reçu",
    file_label: "Ou le fichier du reçu (.jws)",
    check_button: "Vérifier le reçu",
    empty: "Collez d'abord un reçu ou choisissez son fichier.",
    valid_title: "Ce reçu est authentique",
    signed_with: "Il a été signé par ce centre de préférences avec la clé",
    current: "Toujours en vigueur : chacun des choix qu'il consigne s'applique encore.",
    superseded: "Plus en vigueur : au moins un des choix qu'il consigne a changé depuis.",
    not_in_ledger: "La signature est valide, mais le registre ne contient plus les enregistrements qu'il cite tels qu'ils ont été signés. Merci de le signaler à l'organisation.",
    invalid_title: "Ce reçu n'est pas valide",
    not_a_receipt: "Ce n'est pas un reçu de consentement de ce centre de préférences (ou il est incomplet).",
    unknown_key: "Il cite une clé de signature que ce centre de préférences n'a jamais utilisée.",
    bad_signature: "Sa signature ne correspond pas à son contenu : il a été modifié après sa signature, ou signé par quelqu'un d'autre.",
    records_heading: "Ce qu'il consigne",
    controller: "Organisation",
    recorded_at: "Enregistré le",
    receipt_id: "Reçu",
    principal: "Pour",
    values: ["reçoit", "ne reçoit pas", "en attente de confirmation", "non choisi"],
};

pub fn receipt_texts(lang: Lang) -> &'static ReceiptTexts {
    match lang {
        Lang::En => &RECEIPT_EN,
        Lang::Fr => &RECEIPT_FR,
    }
}

impl ReceiptTexts {
    /// A recorded value as words.
    pub fn value(&self, v: crate::domain::ConsentValue) -> &'static str {
        use crate::domain::ConsentValue::*;
        self.values[match v {
            OptedIn => 0,
            OptedOut => 1,
            Pending => 2,
            NotSet => 3,
        }]
    }
}

/// A date as a reader of the language writes it ("30 November 2026", "30 novembre 2026").
pub fn long_date(lang: Lang, day: u8, month: u8, year: i32) -> String {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let names = match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    };
    let m = names[(month.clamp(1, 12) - 1) as usize];
    format!("{day} {m} {year}")
}

/// A language's name in itself, for the language choice on forms.
pub fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Fr => "Français",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_lines_name_the_topic_once_with_its_channels() {
        let en = texts(Lang::En);
        assert_eq!(
            en.topic_by_channels("Events", &[Channel::Email, Channel::Sms]),
            "Events by email and text message"
        );
        assert_eq!(
            en.topic_by_channels("Newsletter", &[Channel::Email]),
            "Newsletter by email"
        );
        assert_eq!(
            en.topic_by_channels("Offers", &Channel::ALL),
            "Offers by email, text message and phone"
        );
        assert_eq!(
            texts(Lang::Fr).topic_by_channels("Events", &[Channel::Email, Channel::Sms]),
            "Events par e-mail et SMS"
        );
    }

    #[test]
    fn every_language_has_its_own_catalogue() {
        for l in Lang::ALL {
            assert_eq!(texts(l).lang, l.code());
        }
    }
}
