# prefcenter: the contact's pages and emails (English).
# Every message id is the same in every language file; arguments are written { $name }.

## Pages

skip_to_content = Skip to content
invalid_title = This link is not valid
invalid_body = The link you followed is not valid or has expired.
invalid_hint = Use the unsubscribe link in a recent email from us, or reply to that email and ask to be removed.
error_title = Something went wrong
error_body = We could not complete this just now. Nothing was changed. Please try again in a moment.
unsubscribe_title = Unsubscribe
unsubscribe_intro = Choose what you no longer want to receive. The change takes effect at once.
you_receive = You currently receive
nothing_received = You are not subscribed to any of our optional emails.
unsubscribe_from = Unsubscribe
# The accessible name of one topic's button.
unsubscribe_from_topic = Unsubscribe from { $topic }
unsubscribe_all = Unsubscribe from everything
unsubscribe_all_hint = Stops every optional message from us. Service messages about things you asked for may still arrive.
manage_link = Manage all your preferences
center_title = Your communication preferences
center_intro = Tick what you want to receive and untick what you don't, then save. Unticking takes effect at once; new subscriptions are confirmed by email first.
save = Save preferences
save_hint = Saving records your choices with the date and time.
mandatory_heading = Service messages
mandatory_note = Sent only about things you asked for, such as receipts and security notices. They can't be switched off here.
pending_note = waiting for your confirmation
done_title = Your preferences are updated
done_nothing = Nothing needed to change: your preferences were already as you chose.
no_longer_receive = You will no longer receive:
now_receive = You will now receive:
waiting_confirmation = Waiting for your confirmation:
undo = Undo this change
undo_hint = Changed your mind? Undo restores your previous choices.
undone_title = Your change was undone
back_to_center = Back to your preferences
one_click_done = You are unsubscribed.
bad_request_title = We could not read that request
bad_request_body = Something in the form was missing or not as expected. Nothing was changed. Please go back and try again.
footer_why = You receive this because you are in contact with
privacy_policy = Privacy policy
for_address = Preferences for
generic_brand = Email preferences
colon = :{" "}
channel_label_email = Email
channel_label_sms = Text message
channel_label_phone = Phone call
channel_word_email = email
channel_word_sms = text message
channel_word_phone = phone
# One line of the "what changed" page: a topic and the channels it changed on.
topic_by_channels = { $topic } by { $channels }
# Lists of channel words: two, and more than two (the rest is itself a list).
list_two = { $first } and { $second }
list_more = { $first }, { $rest }

## Double opt-in: confirm page, sign-up form, confirmation email

check_inbox_hint = We sent you an email to confirm: nothing starts until you press the button in it.
confirm_title = Confirm your subscription
confirm_intro = You asked to receive the following. Press Confirm to start receiving them.
confirm_keep_hint = Untick anything you no longer want before confirming.
confirm_button = Confirm
confirmed_title = Thank you, your subscription is confirmed
confirmed_intro = You will now receive:
already_title = This subscription is already confirmed
already_intro = This link was used before. You receive:
expired_title = This confirmation link has expired
expired_intro = Links to confirm a subscription work for a limited time. You asked for:
resend_button = Send me a new link
resent_title = A new link is on its way
resent_body = If this address can receive it, an email with a new confirmation link will arrive in a few minutes.
nothing_title = Nothing is waiting for confirmation
nothing_body = What this link asked for was changed or withdrawn since. Nothing was changed now.
none_kept_title = Nothing was confirmed
none_kept_body = You unticked everything, so you will not receive these. Nothing else changed.
signup_title = Subscribe
signup_intro = Choose what you would like to receive. We will send you an email to confirm your address first.
email_label = Email address
email_hint = For example name@example.com
topics_legend = What would you like to receive?
language_label = Language
signup_button = Subscribe
signup_privacy = We use your address only to send what you choose. Every email has a link to change your mind.
sent_title = Check your inbox
sent_body = If the address can receive email, a message with a link to confirm your subscription is on its way. Nothing is sent to you until you confirm.
error_email = Enter an email address in the form name@example.com.
error_no_topic = Choose at least one thing to receive.
error_heading = Please correct this:
too_many_title = Too many requests
too_many_body = We received many requests from your connection. Please wait a minute and try again.
mail_subject = Please confirm your subscription
mail_reminder_subject = Reminder: please confirm your subscription
mail_greeting = Hello,
mail_intro = You asked to receive the following from us. To start receiving them, confirm your subscription:
mail_reminder_intro = A few days ago you asked to receive the following from us, and we have not heard back. To start receiving them, confirm your subscription:
mail_button = Confirm my subscription
mail_link_hint = Or copy this link into your browser:
mail_expires = This link works until
mail_ignore = If you did not ask for this, ignore this email: you will not be subscribed and will hear nothing more about it.
mail_why = You receive this email because messages from this sender were requested for this address.
notice_subject = What we recorded about your email preferences
notice_intro_phone = On your behalf, our staff recorded the following change to what you receive from us, as you told us by phone:
notice_intro_in_person = On your behalf, our staff recorded the following change to what you receive from us, as you told us in person:
notice_intro_paper = Our staff entered the following change to what you receive from us, from a form you filled in on paper:
notice_opted_in = subscribed
notice_opted_out = unsubscribed
# What staff changed of the contact's profile, one line each in the notice.
notice_level = Consent level (from 0 to 5): now { $to }, before { $from }
notice_tracking_on = Tracking whether our emails are opened and their links clicked: allowed
notice_tracking_off = Tracking whether our emails are opened and their links clicked: not allowed
notice_child_on = Recorded as a child: what you choose to receive needs a parent's or guardian's consent
notice_child_off = No longer recorded as a child
notice_custodian = Parent or guardian who confirms your choices: { $address }
notice_custodian_removed = No parent or guardian is recorded any more
notice_correct = If this is not what you asked for, or you change your mind, you can change it yourself at any time:
notice_button = Review my preferences
notice_why = You receive this email because a change to your preferences was recorded for this address.

## Consent receipts

offer_heading = Your receipt
offer_body = A signed record of this change, to keep. Anyone can check that it is genuine, and whether it still stands.
download = Download the receipt
check_link = Check a receipt
check_title = Check a consent receipt
check_intro = Paste a receipt, or choose its file. The check says whether this preference center signed it and whether the choices it records still stand. It shows nothing that is not in the receipt.
paste_label = The receipt's text
file_label = Or the receipt's file (.jws)
check_button = Check the receipt
empty = Paste a receipt or choose its file first.
valid_title = This receipt is genuine
signed_with = It was signed by this preference center with key
current = Still current: every choice it records is still in force.
superseded = No longer current: at least one of the choices it records was changed since.
not_in_ledger = The signature holds, but the ledger no longer holds the records it names as they were signed. Please tell the organization.
receipt_invalid_title = This is not a valid receipt
not_a_receipt = It is not a consent receipt of this preference center (or it was cut short).
unknown_key = It names a signing key this preference center has never used.
bad_signature = Its signature does not match its content: it was changed after it was signed, or signed by someone else.
records_heading = What it records
controller = Organization
recorded_at = Recorded
receipt_id = Receipt
principal = For
value_opted_in = receives
value_opted_out = does not receive
value_pending = waiting for confirmation
value_not_set = not chosen


## Your data: a copy of it, or its erasure (GDPR Art. 15, 17, 20)

rights_heading = Your data
rights_intro = You can ask for a copy of everything we hold about you, or ask us to erase it. We answer by email to your address.
rights_copy_button = Email me a copy of my data
rights_erase_button = Ask to be forgotten
rights_erase_hint = We first email you a link to confirm. An erasure cannot be undone: afterwards you receive nothing from us, not even service messages.
rights_sent_title = Check your inbox
rights_copy_sent = An email with a link to download a copy of your data is on its way to your address. The link works for 7 days.
rights_erase_sent = An email with a link to confirm the erasure is on its way to your address. Nothing is erased until you confirm.
rights_same = We sent this email a few minutes ago. Please look for it in your inbox, and in your spam folder.
rights_no_email = We answer this by email, and we hold no email address for you. Please contact us directly.
download_title = A copy of your data
download_intro = Everything we hold about you: your details, your choices, and every change to them with when, how and by whom it was made, with a signed receipt of each.
download_json = Download everything (JSON)
download_csv = Download the history of changes (CSV, for a spreadsheet)
download_until = These downloads work until
forget_title = Erase your data
forget_intro = If you confirm, we erase your email address and phone number, your name, and the evidence of your choices. You will receive nothing more from us. This cannot be undone.
forget_kept = We keep only a record that an erasure took place, which names no one, so that we can show we honoured it.
forget_button = Erase my data
forget_done_title = Your data is erased
forget_done_body = We erased your data. You will receive nothing more from us, and the links in our earlier emails no longer work.
rights_copy_subject = A copy of your data: your download link
rights_copy_intro = You asked for a copy of the data we hold about you. It is ready to download:
rights_copy_mail_button = Download my data
rights_copy_ignore = Only someone who can read this email can use the link. If you did not ask for a copy of your data, please tell us by replying.
rights_erase_subject = Please confirm: erase your data
rights_erase_intro = We were asked to erase the data we hold about you. To confirm, open this link and press the button on the page:
rights_erase_mail_button = Confirm the erasure
rights_erase_ignore = If you did not ask for this, ignore this email: nothing will be erased.
rights_mail_why = You receive this email because a request about your data was made for this address.
# The confirmation email to a child's parent or guardian: { $child } is the child's masked address.
mail_custodian_intro = You are asked as the parent or guardian of { $child }, who would like to receive the following from us. Nothing is sent until you confirm:

## Dates

month_1 = January
month_2 = February
month_3 = March
month_4 = April
month_5 = May
month_6 = June
month_7 = July
month_8 = August
month_9 = September
month_10 = October
month_11 = November
month_12 = December
# A date in a sentence: { $day } (a number), { $month } (a month's name above), { $year }.
long_date = { $day } { $month } { $year }
