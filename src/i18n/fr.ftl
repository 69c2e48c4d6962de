# prefcenter: the contact's pages and emails (français).
# Every message id is the same in every language file; arguments are written { $name }.

## Pages

skip_to_content = Aller au contenu
invalid_title = Ce lien n’est pas valide
invalid_body = Le lien que vous avez suivi n’est pas valide ou a expiré.
invalid_hint = Utilisez le lien de désinscription d’un e-mail récent de notre part, ou répondez à cet e-mail en demandant à ne plus rien recevoir.
error_title = Une erreur s’est produite
error_body = Nous n’avons pas pu terminer l’opération pour le moment. Rien n’a été modifié. Veuillez réessayer dans un instant.
unsubscribe_title = Se désinscrire
unsubscribe_intro = Choisissez ce que vous ne souhaitez plus recevoir. La modification prend effet immédiatement.
you_receive = Vous recevez actuellement
nothing_received = Vous n’êtes inscrit à aucun de nos e-mails facultatifs.
unsubscribe_from = Se désinscrire
# The accessible name of one topic's button.
unsubscribe_from_topic = Se désinscrire de { $topic }
unsubscribe_all = Se désinscrire de tout
unsubscribe_all_hint = Met fin à tous nos messages facultatifs. Les messages de service liés à ce que vous avez demandé peuvent continuer à arriver.
manage_link = Gérer toutes vos préférences
center_title = Vos préférences de communication
center_intro = Cochez ce que vous souhaitez recevoir et décochez le reste, puis enregistrez. Décocher prend effet immédiatement ; les nouvelles inscriptions sont d’abord confirmées par e-mail.
save = Enregistrer mes préférences
save_hint = L’enregistrement conserve vos choix avec la date et l’heure.
mandatory_heading = Messages de service
mandatory_note = Envoyés uniquement à propos de ce que vous avez demandé, comme les reçus et les alertes de sécurité. Ils ne peuvent pas être désactivés ici.
pending_note = en attente de votre confirmation
done_title = Vos préférences sont à jour
done_nothing = Rien n’a eu besoin de changer : vos préférences étaient déjà celles que vous avez choisies.
no_longer_receive = Vous ne recevrez plus :
now_receive = Vous recevrez désormais :
waiting_confirmation = En attente de votre confirmation :
undo = Annuler cette modification
undo_hint = Vous avez changé d’avis ? L’annulation rétablit vos choix précédents.
undone_title = Votre modification a été annulée
back_to_center = Retour à vos préférences
one_click_done = Vous êtes désinscrit.
bad_request_title = Nous n’avons pas pu lire cette demande
bad_request_body = Un élément du formulaire manquait ou n’était pas celui attendu. Rien n’a été modifié. Veuillez revenir en arrière et réessayer.
footer_why = Vous recevez ce message parce que vous êtes en relation avec
privacy_policy = Politique de confidentialité
for_address = Préférences de
generic_brand = Préférences e-mail
colon = {"\u00A0"}:{" "}
channel_label_email = E-mail
channel_label_sms = SMS
channel_label_phone = Appel téléphonique
channel_word_email = e-mail
channel_word_sms = SMS
channel_word_phone = téléphone
# One line of the "what changed" page: a topic and the channels it changed on.
topic_by_channels = { $topic } par { $channels }
# Lists of channel words: two, and more than two (the rest is itself a list).
list_two = { $first } et { $second }
list_more = { $first }, { $rest }

## Double opt-in: confirm page, sign-up form, confirmation email

check_inbox_hint = Nous vous avons envoyé un e-mail de confirmation : rien ne commence tant que vous n'avez pas appuyé sur le bouton qu'il contient.
confirm_title = Confirmez votre abonnement
confirm_intro = Vous avez demandé à recevoir ce qui suit. Appuyez sur Confirmer pour commencer à le recevoir.
confirm_keep_hint = Décochez ce que vous ne souhaitez plus recevoir avant de confirmer.
confirm_button = Confirmer
confirmed_title = Merci, votre abonnement est confirmé
confirmed_intro = Vous recevrez désormais :
already_title = Cet abonnement est déjà confirmé
already_intro = Ce lien a déjà servi. Vous recevez :
expired_title = Ce lien de confirmation a expiré
expired_intro = Les liens de confirmation d'un abonnement ne sont valables qu'un temps limité. Vous aviez demandé :
resend_button = M'envoyer un nouveau lien
resent_title = Un nouveau lien est en route
resent_body = Si cette adresse peut le recevoir, un e-mail contenant un nouveau lien de confirmation arrivera dans quelques minutes.
nothing_title = Rien n'attend de confirmation
nothing_body = Ce que ce lien demandait a été modifié ou retiré depuis. Rien n'a été changé maintenant.
none_kept_title = Rien n'a été confirmé
none_kept_body = Vous avez tout décoché : vous ne recevrez donc pas ces envois. Rien d'autre n'a changé.
signup_title = S'abonner
signup_intro = Choisissez ce que vous souhaitez recevoir. Nous vous enverrons d'abord un e-mail pour confirmer votre adresse.
email_label = Adresse e-mail
email_hint = Par exemple nom@exemple.fr
topics_legend = Que souhaitez-vous recevoir ?
language_label = Langue
signup_button = S'abonner
signup_privacy = Nous n'utilisons votre adresse que pour vous envoyer ce que vous choisissez. Chaque e-mail contient un lien pour changer d'avis.
sent_title = Consultez votre boîte de réception
sent_body = Si l'adresse peut recevoir des e-mails, un message contenant un lien pour confirmer votre abonnement est en route. Rien ne vous est envoyé avant votre confirmation.
error_email = Saisissez une adresse e-mail de la forme nom@exemple.fr.
error_no_topic = Choisissez au moins un envoi à recevoir.
error_heading = Veuillez corriger ceci :
too_many_title = Trop de demandes
too_many_body = Nous avons reçu de nombreuses demandes depuis votre connexion. Veuillez patienter une minute puis réessayer.
mail_subject = Merci de confirmer votre abonnement
mail_reminder_subject = Rappel : merci de confirmer votre abonnement
mail_greeting = Bonjour,
mail_intro = Vous avez demandé à recevoir ce qui suit de notre part. Pour commencer à le recevoir, confirmez votre abonnement :
mail_reminder_intro = Il y a quelques jours, vous avez demandé à recevoir ce qui suit de notre part, et nous n'avons pas eu de réponse. Pour commencer à le recevoir, confirmez votre abonnement :
mail_button = Confirmer mon abonnement
mail_link_hint = Ou copiez ce lien dans votre navigateur :
mail_expires = Ce lien est valable jusqu'au
mail_ignore = Si vous n'avez rien demandé, ignorez cet e-mail : vous ne serez pas abonné et nous ne vous en reparlerons pas.
mail_why = Vous recevez cet e-mail parce que des messages de cet expéditeur ont été demandés pour cette adresse.
notice_subject = Ce que nous avons enregistré sur vos préférences d’e-mail
notice_intro_phone = Notre équipe a enregistré pour vous la modification suivante de ce que vous recevez de notre part, comme vous nous l’avez indiqué par téléphone :
notice_intro_in_person = Notre équipe a enregistré pour vous la modification suivante de ce que vous recevez de notre part, comme vous nous l’avez indiqué en personne :
notice_intro_paper = Notre équipe a saisi la modification suivante de ce que vous recevez de notre part, d’après un formulaire papier que vous avez rempli :
notice_opted_in = abonné
notice_opted_out = désabonné
# Ce que le personnel a modifié dans le profil du contact, une ligne chacun dans l’avis.
notice_level = Niveau de consentement (de 0 à 5) : désormais { $to }, auparavant { $from }
notice_tracking_on = Suivi de l’ouverture de nos e-mails et des clics sur leurs liens : autorisé
notice_tracking_off = Suivi de l’ouverture de nos e-mails et des clics sur leurs liens : non autorisé
notice_child_on = Enregistré comme enfant : ce que vous choisissez de recevoir nécessite le consentement d’un parent ou tuteur
notice_child_off = N’est plus enregistré comme enfant
notice_custodian = Parent ou tuteur qui confirme vos choix : { $address }
notice_custodian_removed = Plus aucun parent ou tuteur n’est enregistré
notice_correct = Si ce n’est pas ce que vous avez demandé, ou si vous changez d’avis, vous pouvez le modifier vous-même à tout moment :
notice_button = Voir mes préférences
notice_why = Vous recevez cet e-mail parce qu’une modification de vos préférences a été enregistrée pour cette adresse.

## Consent receipts

offer_heading = Votre reçu
offer_body = Un relevé signé de ce changement, à conserver. Chacun peut vérifier qu'il est authentique et s'il est toujours en vigueur.
download = Télécharger le reçu
check_link = Vérifier un reçu
check_title = Vérifier un reçu de consentement
check_intro = Collez un reçu ou choisissez son fichier. La vérification indique si ce centre de préférences l'a signé et si les choix qu'il consigne sont toujours en vigueur. Elle ne montre rien qui ne soit déjà dans le reçu.
paste_label = Le texte du reçu
file_label = Ou le fichier du reçu (.jws)
check_button = Vérifier le reçu
empty = Collez d'abord un reçu ou choisissez son fichier.
valid_title = Ce reçu est authentique
signed_with = Il a été signé par ce centre de préférences avec la clé
current = Toujours en vigueur : chacun des choix qu'il consigne s'applique encore.
superseded = Plus en vigueur : au moins un des choix qu'il consigne a changé depuis.
not_in_ledger = La signature est valide, mais le registre ne contient plus les enregistrements qu'il cite tels qu'ils ont été signés. Merci de le signaler à l'organisation.
receipt_invalid_title = Ce reçu n'est pas valide
not_a_receipt = Ce n'est pas un reçu de consentement de ce centre de préférences (ou il est incomplet).
unknown_key = Il cite une clé de signature que ce centre de préférences n'a jamais utilisée.
bad_signature = Sa signature ne correspond pas à son contenu : il a été modifié après sa signature, ou signé par quelqu'un d'autre.
records_heading = Ce qu'il consigne
controller = Organisation
recorded_at = Enregistré le
receipt_id = Reçu
principal = Pour
value_opted_in = reçoit
value_opted_out = ne reçoit pas
value_pending = en attente de confirmation
value_not_set = non choisi


## Your data: a copy of it, or its erasure (GDPR Art. 15, 17, 20)

rights_heading = Vos données
rights_intro = Vous pouvez demander une copie de tout ce que nous conservons sur vous, ou nous demander de l’effacer. Nous répondons par e-mail à votre adresse.
rights_copy_button = Recevoir une copie de mes données par e-mail
rights_erase_button = Demander l’effacement de mes données
rights_erase_hint = Nous vous envoyons d’abord un lien de confirmation. Un effacement est définitif : ensuite, vous ne recevez plus rien de notre part, pas même les messages de service.
rights_sent_title = Consultez votre boîte de réception
rights_copy_sent = Un e-mail avec un lien pour télécharger une copie de vos données est en route vers votre adresse. Le lien fonctionne pendant 7 jours.
rights_erase_sent = Un e-mail avec un lien pour confirmer l’effacement est en route vers votre adresse. Rien n’est effacé avant votre confirmation.
rights_same = Nous avons envoyé cet e-mail il y a quelques minutes. Cherchez-le dans votre boîte de réception et dans vos indésirables.
rights_no_email = Nous répondons par e-mail, et nous n’avons aucune adresse e-mail pour vous. Veuillez nous contacter directement.
download_title = Une copie de vos données
download_intro = Tout ce que nous conservons sur vous : vos coordonnées, vos choix et chaque modification, avec quand, comment et par qui elle a été faite, et un reçu signé pour chacune.
download_json = Tout télécharger (JSON)
download_csv = Télécharger l’historique des modifications (CSV, pour un tableur)
download_until = Ces téléchargements fonctionnent jusqu’au
forget_title = Effacer vos données
forget_intro = Si vous confirmez, nous effaçons votre adresse e-mail et votre numéro de téléphone, votre nom et les preuves de vos choix. Vous ne recevrez plus rien de notre part. C’est définitif.
forget_kept = Nous gardons seulement une trace qu’un effacement a eu lieu, qui ne nomme personne, pour pouvoir montrer que nous l’avons respecté.
forget_button = Effacer mes données
forget_done_title = Vos données sont effacées
forget_done_body = Nous avons effacé vos données. Vous ne recevrez plus rien de notre part, et les liens de nos e-mails précédents ne fonctionnent plus.
rights_copy_subject = Une copie de vos données : votre lien de téléchargement
rights_copy_intro = Vous avez demandé une copie des données que nous conservons sur vous. Elle est prête à être téléchargée :
rights_copy_mail_button = Télécharger mes données
rights_copy_ignore = Seule une personne qui peut lire cet e-mail peut utiliser le lien. Si vous n’avez pas demandé de copie de vos données, dites-le-nous en répondant.
rights_erase_subject = Veuillez confirmer : effacement de vos données
rights_erase_intro = On nous a demandé d’effacer les données que nous conservons sur vous. Pour confirmer, ouvrez ce lien et appuyez sur le bouton de la page :
rights_erase_mail_button = Confirmer l’effacement
rights_erase_ignore = Si vous n’avez rien demandé, ignorez cet e-mail : rien ne sera effacé.
rights_mail_why = Vous recevez cet e-mail parce qu’une demande concernant vos données a été faite pour cette adresse.
# L’e-mail de confirmation au parent ou tuteur d’un enfant : { $child } est l’adresse masquée de l’enfant.
mail_custodian_intro = Nous vous sollicitons en tant que parent ou tuteur de { $child }, qui souhaite recevoir ce qui suit de notre part. Rien n’est envoyé avant votre confirmation :

## Dates

month_1 = janvier
month_2 = février
month_3 = mars
month_4 = avril
month_5 = mai
month_6 = juin
month_7 = juillet
month_8 = août
month_9 = septembre
month_10 = octobre
month_11 = novembre
month_12 = décembre
# A date in a sentence: { $day } (a number), { $month } (a month's name above), { $year }.
long_date = { $day } { $month } { $year }
