# prefcenter: the contact's pages and emails (Deutsch).
# Every message id is the same in every language file; arguments are written { $name }.

## Pages

skip_to_content = Zum Inhalt springen
invalid_title = Dieser Link ist ungültig
invalid_body = Der Link, dem Sie gefolgt sind, ist ungültig oder abgelaufen.
invalid_hint = Verwenden Sie den Abmeldelink in einer aktuellen E-Mail von uns, oder antworten Sie auf diese E-Mail und bitten Sie darum, aus dem Verteiler genommen zu werden.
error_title = Etwas ist schiefgelaufen
error_body = Das konnten wir gerade nicht abschließen. Es wurde nichts geändert. Bitte versuchen Sie es in einem Moment erneut.
unsubscribe_title = Abmelden
unsubscribe_intro = Wählen Sie, was Sie nicht mehr erhalten möchten. Die Änderung gilt sofort.
you_receive = Sie erhalten derzeit
nothing_received = Sie haben keine unserer optionalen E-Mails abonniert.
unsubscribe_from = Abmelden
# The accessible name of one topic's button.
unsubscribe_from_topic = Von { $topic } abmelden
unsubscribe_all = Von allem abmelden
unsubscribe_all_hint = Beendet alle optionalen Nachrichten von uns. Servicenachrichten zu Dingen, die Sie angefordert haben, können weiterhin eintreffen.
manage_link = Alle Einstellungen verwalten
center_title = Ihre Kommunikationseinstellungen
center_intro = Setzen Sie einen Haken bei dem, was Sie erhalten möchten, entfernen Sie ihn beim Rest und speichern Sie. Das Entfernen gilt sofort; neue Abonnements bestätigen Sie zuerst per E-Mail.
save = Einstellungen speichern
save_hint = Beim Speichern werden Ihre Entscheidungen mit Datum und Uhrzeit festgehalten.
mandatory_heading = Servicenachrichten
mandatory_note = Nur zu Dingen, die Sie angefordert haben, etwa Belege und Sicherheitshinweise. Sie lassen sich hier nicht abbestellen.
pending_note = wartet auf Ihre Bestätigung
done_title = Ihre Einstellungen sind aktualisiert
done_nothing = Es musste nichts geändert werden: Ihre Einstellungen waren bereits so, wie Sie sie gewählt haben.
no_longer_receive = Sie erhalten nicht mehr:
now_receive = Sie erhalten ab jetzt:
waiting_confirmation = Wartet auf Ihre Bestätigung:
undo = Diese Änderung rückgängig machen
undo_hint = Anders entschieden? „Rückgängig“ stellt Ihre vorherigen Einstellungen wieder her.
undone_title = Ihre Änderung wurde rückgängig gemacht
back_to_center = Zurück zu Ihren Einstellungen
one_click_done = Sie sind abgemeldet.
bad_request_title = Diese Anfrage konnten wir nicht lesen
bad_request_body = Im Formular fehlte etwas oder war nicht wie erwartet. Es wurde nichts geändert. Bitte gehen Sie zurück und versuchen Sie es erneut.
footer_why = Sie erhalten diese Nachricht, weil Sie in Kontakt stehen mit
privacy_policy = Datenschutzerklärung
for_address = Einstellungen für
generic_brand = E-Mail-Einstellungen
colon = :{" "}
channel_label_email = E-Mail
channel_label_sms = SMS
channel_label_phone = Anruf
channel_word_email = E-Mail
channel_word_sms = SMS
channel_word_phone = Telefon
# One line of the "what changed" page: a topic and the channels it changed on.
topic_by_channels = { $topic } per { $channels }
# Lists of channel words: two, and more than two (the rest is itself a list).
list_two = { $first } und { $second }
list_more = { $first }, { $rest }

## Double opt-in: confirm page, sign-up form, confirmation email

check_inbox_hint = Wir haben Ihnen eine E-Mail zur Bestätigung geschickt: Es beginnt erst, wenn Sie auf die Schaltfläche darin klicken.
confirm_title = Bestätigen Sie Ihr Abonnement
confirm_intro = Sie haben Folgendes angefordert. Klicken Sie auf „Bestätigen“, um es zu erhalten.
confirm_keep_hint = Entfernen Sie vor dem Bestätigen den Haken bei allem, was Sie nicht mehr möchten.
confirm_button = Bestätigen
confirmed_title = Vielen Dank, Ihr Abonnement ist bestätigt
confirmed_intro = Sie erhalten ab jetzt:
already_title = Dieses Abonnement ist bereits bestätigt
already_intro = Dieser Link wurde schon verwendet. Sie erhalten:
expired_title = Dieser Bestätigungslink ist abgelaufen
expired_intro = Links zur Bestätigung eines Abonnements gelten nur eine begrenzte Zeit. Sie hatten angefordert:
resend_button = Neuen Link senden
resent_title = Ein neuer Link ist unterwegs
resent_body = Wenn diese Adresse E-Mails empfangen kann, kommt in wenigen Minuten eine E-Mail mit einem neuen Bestätigungslink.
nothing_title = Nichts wartet auf Bestätigung
nothing_body = Was dieser Link angefordert hatte, wurde inzwischen geändert oder zurückgezogen. Es wurde jetzt nichts geändert.
none_kept_title = Es wurde nichts bestätigt
none_kept_body = Sie haben alle Haken entfernt, daher erhalten Sie dies nicht. Sonst hat sich nichts geändert.
signup_title = Abonnieren
signup_intro = Wählen Sie, was Sie erhalten möchten. Wir schicken Ihnen zuerst eine E-Mail, um Ihre Adresse zu bestätigen.
email_label = E-Mail-Adresse
email_hint = Zum Beispiel name@example.com
topics_legend = Was möchten Sie erhalten?
language_label = Sprache
signup_button = Abonnieren
signup_privacy = Wir verwenden Ihre Adresse nur, um Ihnen zu senden, was Sie wählen. Jede E-Mail enthält einen Link, um es sich anders zu überlegen.
sent_title = Sehen Sie in Ihr Postfach
sent_body = Wenn die Adresse E-Mails empfangen kann, ist eine Nachricht mit einem Link zur Bestätigung Ihres Abonnements unterwegs. Bis zu Ihrer Bestätigung senden wir Ihnen nichts.
error_email = Geben Sie eine E-Mail-Adresse in der Form name@example.com ein.
error_no_topic = Wählen Sie mindestens eine Sache, die Sie erhalten möchten.
error_heading = Bitte korrigieren Sie Folgendes:
too_many_title = Zu viele Anfragen
too_many_body = Wir haben viele Anfragen von Ihrer Verbindung erhalten. Bitte warten Sie eine Minute und versuchen Sie es erneut.
mail_subject = Bitte bestätigen Sie Ihr Abonnement
mail_reminder_subject = Erinnerung: Bitte bestätigen Sie Ihr Abonnement
mail_greeting = Guten Tag,
mail_intro = Sie haben angefordert, Folgendes von uns zu erhalten. Um es zu erhalten, bestätigen Sie Ihr Abonnement:
mail_reminder_intro = Vor einigen Tagen haben Sie angefordert, Folgendes von uns zu erhalten, und wir haben noch keine Bestätigung. Um es zu erhalten, bestätigen Sie Ihr Abonnement:
mail_button = Abonnement bestätigen
mail_link_hint = Oder kopieren Sie diesen Link in Ihren Browser:
mail_expires = Dieser Link gilt bis zum
mail_ignore = Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Sie werden nicht eingetragen und hören nichts mehr davon.
mail_why = Sie erhalten diese E-Mail, weil für diese Adresse Nachrichten dieses Absenders angefordert wurden.
notice_subject = Was wir zu Ihren E-Mail-Einstellungen erfasst haben
notice_intro_phone = Unser Team hat für Sie die folgende Änderung daran erfasst, was Sie von uns erhalten, wie Sie es uns telefonisch mitgeteilt haben:
notice_intro_in_person = Unser Team hat für Sie die folgende Änderung daran erfasst, was Sie von uns erhalten, wie Sie es uns persönlich mitgeteilt haben:
notice_intro_paper = Unser Team hat die folgende Änderung daran erfasst, was Sie von uns erhalten, aus einem Formular, das Sie auf Papier ausgefüllt haben:
notice_opted_in = abonniert
notice_opted_out = abbestellt
# Was Mitarbeitende am Profil des Kontakts geändert haben, je eine Zeile in der Mitteilung.
notice_level = Einwilligungsstufe (0 bis 5): jetzt { $to }, vorher { $from }
notice_tracking_on = Erfassung, ob unsere E-Mails geöffnet und ihre Links angeklickt werden: erlaubt
notice_tracking_off = Erfassung, ob unsere E-Mails geöffnet und ihre Links angeklickt werden: nicht erlaubt
notice_child_on = Als Kind erfasst: Was Sie erhalten möchten, braucht die Einwilligung eines Elternteils oder Vormunds
notice_child_off = Nicht mehr als Kind erfasst
notice_custodian = Elternteil oder Vormund, der Ihre Wahl bestätigt: { $address }
notice_custodian_removed = Kein Elternteil oder Vormund mehr erfasst
notice_correct = Wenn das nicht Ihrem Wunsch entspricht oder Sie es sich anders überlegen, können Sie es jederzeit selbst ändern:
notice_button = Meine Einstellungen ansehen
notice_why = Sie erhalten diese E-Mail, weil für diese Adresse eine Änderung Ihrer Einstellungen erfasst wurde.

## Consent receipts

offer_heading = Ihr Beleg
offer_body = Ein signierter Nachweis dieser Änderung zum Aufbewahren. Jede und jeder kann prüfen, ob er echt ist und ob er noch gilt.
download = Beleg herunterladen
check_link = Einen Beleg prüfen
check_title = Einen Einwilligungsbeleg prüfen
check_intro = Fügen Sie einen Beleg ein oder wählen Sie seine Datei. Die Prüfung zeigt, ob diese Einstellungsseite ihn signiert hat und ob die darin festgehaltenen Entscheidungen noch gelten. Sie zeigt nichts, was nicht im Beleg steht.
paste_label = Der Text des Belegs
file_label = Oder die Datei des Belegs (.jws)
check_button = Beleg prüfen
empty = Fügen Sie zuerst einen Beleg ein oder wählen Sie seine Datei.
valid_title = Dieser Beleg ist echt
signed_with = Signiert von dieser Einstellungsseite mit dem Schlüssel
current = Noch gültig: Jede darin festgehaltene Entscheidung gilt weiterhin.
superseded = Nicht mehr aktuell: Mindestens eine der festgehaltenen Entscheidungen wurde seitdem geändert.
not_in_ledger = Die Signatur stimmt, aber das Register enthält die genannten Einträge nicht mehr so, wie sie signiert wurden. Bitte informieren Sie das Unternehmen.
receipt_invalid_title = Dies ist kein gültiger Beleg
not_a_receipt = Dies ist kein Einwilligungsbeleg dieser Einstellungsseite (oder er ist unvollständig).
unknown_key = Er nennt einen Signaturschlüssel, den diese Einstellungsseite nie verwendet hat.
bad_signature = Seine Signatur passt nicht zu seinem Inhalt: Er wurde nach dem Signieren verändert oder von jemand anderem signiert.
records_heading = Was er festhält
controller = Unternehmen
recorded_at = Festgehalten
receipt_id = Beleg
principal = Für
value_opted_in = erhält
value_opted_out = erhält nicht
value_pending = wartet auf Bestätigung
value_not_set = nicht gewählt


## Your data: a copy of it, or its erasure (GDPR Art. 15, 17, 20)

rights_heading = Ihre Daten
rights_intro = Sie können eine Kopie aller Daten anfordern, die wir über Sie gespeichert haben, oder deren Löschung verlangen. Wir antworten per E-Mail an Ihre Adresse.
rights_copy_button = Kopie meiner Daten per E-Mail anfordern
rights_erase_button = Löschung meiner Daten verlangen
rights_erase_hint = Wir senden Ihnen zuerst einen Link zur Bestätigung. Eine Löschung lässt sich nicht rückgängig machen: Danach erhalten Sie nichts mehr von uns, auch keine Servicenachrichten.
rights_sent_title = Sehen Sie in Ihr Postfach
rights_copy_sent = Eine E-Mail mit einem Link zum Herunterladen Ihrer Daten ist unterwegs an Ihre Adresse. Der Link gilt 7 Tage.
rights_erase_sent = Eine E-Mail mit einem Link zur Bestätigung der Löschung ist unterwegs an Ihre Adresse. Gelöscht wird erst, wenn Sie bestätigen.
rights_same = Wir haben diese E-Mail vor wenigen Minuten gesendet. Bitte sehen Sie in Ihrem Posteingang und im Spam-Ordner nach.
rights_no_email = Wir beantworten dies per E-Mail, haben aber keine E-Mail-Adresse von Ihnen. Bitte wenden Sie sich direkt an uns.
download_title = Eine Kopie Ihrer Daten
download_intro = Alles, was wir über Sie gespeichert haben: Ihre Angaben, Ihre Einstellungen und jede Änderung daran – wann, wie und von wem –, mit einer signierten Quittung für jede.
download_json = Alles herunterladen (JSON)
download_csv = Verlauf der Änderungen herunterladen (CSV, für Tabellen)
download_until = Diese Downloads funktionieren bis zum
forget_title = Ihre Daten löschen
forget_intro = Wenn Sie bestätigen, löschen wir Ihre E-Mail-Adresse und Telefonnummer, Ihren Namen und die Nachweise Ihrer Einstellungen. Sie erhalten danach nichts mehr von uns. Das lässt sich nicht rückgängig machen.
forget_kept = Wir behalten nur einen Vermerk, dass eine Löschung stattfand, der niemanden nennt – damit wir zeigen können, dass wir sie ausgeführt haben.
forget_button = Meine Daten löschen
forget_done_title = Ihre Daten sind gelöscht
forget_done_body = Wir haben Ihre Daten gelöscht. Sie erhalten nichts mehr von uns, und die Links in unseren früheren E-Mails funktionieren nicht mehr.
rights_copy_subject = Eine Kopie Ihrer Daten: Ihr Download-Link
rights_copy_intro = Sie haben eine Kopie der Daten angefordert, die wir über Sie gespeichert haben. Sie steht zum Herunterladen bereit:
rights_copy_mail_button = Meine Daten herunterladen
rights_copy_ignore = Nur wer diese E-Mail lesen kann, kann den Link nutzen. Wenn Sie keine Kopie Ihrer Daten angefordert haben, antworten Sie uns bitte.
rights_erase_subject = Bitte bestätigen: Löschung Ihrer Daten
rights_erase_intro = Wir wurden gebeten, die Daten zu löschen, die wir über Sie gespeichert haben. Öffnen Sie zur Bestätigung diesen Link und drücken Sie die Schaltfläche auf der Seite:
rights_erase_mail_button = Löschung bestätigen
rights_erase_ignore = Wenn Sie das nicht veranlasst haben, ignorieren Sie diese E-Mail: Es wird nichts gelöscht.
rights_mail_why = Sie erhalten diese E-Mail, weil für diese Adresse eine Anfrage zu Ihren Daten gestellt wurde.
# Die Bestätigungs-E-Mail an Eltern oder Vormund eines Kindes: { $child } ist die maskierte Adresse des Kindes.
mail_custodian_intro = Sie werden als Elternteil oder Vormund von { $child } gefragt, der oder die Folgendes von uns erhalten möchte. Es wird nichts gesendet, bevor Sie bestätigen:

## Dates

month_1 = Januar
month_2 = Februar
month_3 = März
month_4 = April
month_5 = Mai
month_6 = Juni
month_7 = Juli
month_8 = August
month_9 = September
month_10 = Oktober
month_11 = November
month_12 = Dezember
# A date in a sentence: { $day } (a number), { $month } (a month's name above), { $year }.
long_date = { $day }. { $month } { $year }
