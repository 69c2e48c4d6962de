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
