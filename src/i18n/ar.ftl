# prefcenter: the contact's pages and emails (العربية, right to left).
# Every message id is the same in every language file; arguments are written { $name }.

## Pages

skip_to_content = انتقل إلى المحتوى
invalid_title = هذا الرابط غير صالح
invalid_body = الرابط الذي اتبعته غير صالح أو انتهت صلاحيته.
invalid_hint = استخدم رابط إلغاء الاشتراك في رسالة حديثة منا، أو ردّ على تلك الرسالة واطلب إزالتك من القائمة.
error_title = حدث خطأ ما
error_body = تعذّر علينا إتمام ذلك الآن. لم يتغير شيء. يُرجى المحاولة مرة أخرى بعد قليل.
unsubscribe_title = إلغاء الاشتراك
unsubscribe_intro = اختر ما لم تعد ترغب في تلقيه. يسري التغيير فورًا.
you_receive = تتلقى حاليًا
nothing_received = أنت غير مشترك في أي من رسائلنا الاختيارية.
unsubscribe_from = إلغاء الاشتراك
# The accessible name of one topic's button.
unsubscribe_from_topic = إلغاء الاشتراك في { $topic }
unsubscribe_all = إلغاء الاشتراك في كل شيء
unsubscribe_all_hint = يوقف كل الرسائل الاختيارية منا. قد تستمر رسائل الخدمة المتعلقة بما طلبته في الوصول.
manage_link = إدارة كل تفضيلاتك
center_title = تفضيلات التواصل الخاصة بك
center_intro = ضع علامة على ما تريد تلقيه وأزلها عمّا لا تريده، ثم احفظ. تسري إزالة العلامة فورًا؛ أما الاشتراكات الجديدة فتُؤكَّد أولًا عبر البريد الإلكتروني.
save = حفظ التفضيلات
save_hint = يسجّل الحفظ اختياراتك مع التاريخ والوقت.
mandatory_heading = رسائل الخدمة
mandatory_note = تُرسل فقط بشأن ما طلبته، مثل الإيصالات وتنبيهات الأمان. لا يمكن إيقافها من هنا.
pending_note = بانتظار تأكيدك
done_title = تم تحديث تفضيلاتك
done_nothing = لم يكن هناك ما يلزم تغييره: كانت تفضيلاتك كما اخترت بالفعل.
no_longer_receive = لن تتلقى بعد الآن:
now_receive = ستتلقى من الآن:
waiting_confirmation = بانتظار تأكيدك:
undo = التراجع عن هذا التغيير
undo_hint = غيّرت رأيك؟ التراجع يعيد اختياراتك السابقة.
undone_title = تم التراجع عن تغييرك
back_to_center = العودة إلى تفضيلاتك
one_click_done = تم إلغاء اشتراكك.
bad_request_title = تعذّرت علينا قراءة هذا الطلب
bad_request_body = كان هناك شيء ناقص في النموذج أو على غير المتوقع. لم يتغير شيء. يُرجى الرجوع والمحاولة مرة أخرى.
footer_why = تتلقى هذه الرسالة لأنك على تواصل مع
privacy_policy = سياسة الخصوصية
for_address = التفضيلات الخاصة بـ
generic_brand = تفضيلات البريد الإلكتروني
colon = :{" "}
channel_label_email = البريد الإلكتروني
channel_label_sms = رسالة نصية
channel_label_phone = مكالمة هاتفية
channel_word_email = البريد الإلكتروني
channel_word_sms = الرسائل النصية
channel_word_phone = الهاتف
# One line of the "what changed" page: a topic and the channels it changed on.
topic_by_channels = { $topic } عبر { $channels }
# Lists of channel words: two, and more than two (the rest is itself a list).
list_two = { $first } و{ $second }
list_more = { $first }، { $rest }

## Double opt-in: confirm page, sign-up form, confirmation email

check_inbox_hint = أرسلنا إليك رسالة للتأكيد: لن يبدأ شيء حتى تضغط على الزر الموجود فيها.
confirm_title = أكّد اشتراكك
confirm_intro = طلبت تلقي ما يلي. اضغط «تأكيد» لبدء تلقيه.
confirm_keep_hint = أزل العلامة عن أي شيء لم تعد تريده قبل التأكيد.
confirm_button = تأكيد
confirmed_title = شكرًا لك، تم تأكيد اشتراكك
confirmed_intro = ستتلقى من الآن:
already_title = هذا الاشتراك مؤكَّد بالفعل
already_intro = سبق استخدام هذا الرابط. أنت تتلقى:
expired_title = انتهت صلاحية رابط التأكيد هذا
expired_intro = روابط تأكيد الاشتراك صالحة لمدة محدودة. كنت قد طلبت:
resend_button = أرسل لي رابطًا جديدًا
resent_title = رابط جديد في الطريق إليك
resent_body = إذا كان بإمكان هذا العنوان استقبال الرسائل، فستصلك خلال دقائق رسالة فيها رابط تأكيد جديد.
nothing_title = لا شيء بانتظار التأكيد
nothing_body = ما طلبه هذا الرابط تغيّر أو سُحب منذ ذلك الحين. لم يتغير شيء الآن.
none_kept_title = لم يُؤكَّد شيء
none_kept_body = أزلت العلامة عن كل شيء، لذلك لن تتلقى هذه الرسائل. لم يتغير شيء آخر.
signup_title = اشترك
signup_intro = اختر ما تود تلقيه. سنرسل إليك أولًا رسالة لتأكيد عنوانك.
email_label = عنوان البريد الإلكتروني
email_hint = مثال: name@example.com
topics_legend = ماذا تود أن تتلقى؟
language_label = اللغة
signup_button = اشترك
signup_privacy = نستخدم عنوانك فقط لإرسال ما تختاره. تحتوي كل رسالة على رابط لتغيير رأيك.
sent_title = تحقّق من بريدك الوارد
sent_body = إذا كان العنوان يستقبل البريد، فهناك رسالة في الطريق إليك تحتوي على رابط لتأكيد اشتراكك. لن نرسل إليك شيئًا حتى تؤكد.
error_email = أدخل عنوان بريد إلكتروني بالصيغة name@example.com.
error_no_topic = اختر شيئًا واحدًا على الأقل لتلقيه.
error_heading = يُرجى تصحيح ما يلي:
too_many_title = طلبات كثيرة جدًا
too_many_body = تلقينا طلبات كثيرة من اتصالك. يُرجى الانتظار دقيقة ثم المحاولة مرة أخرى.
mail_subject = يُرجى تأكيد اشتراكك
mail_reminder_subject = تذكير: يُرجى تأكيد اشتراكك
mail_greeting = مرحبًا،
mail_intro = طلبت تلقي ما يلي منا. لبدء تلقيه، أكّد اشتراكك:
mail_reminder_intro = طلبت قبل بضعة أيام تلقي ما يلي منا، ولم يصلنا تأكيدك بعد. لبدء تلقيه، أكّد اشتراكك:
mail_button = تأكيد اشتراكي
mail_link_hint = أو انسخ هذا الرابط في متصفحك:
mail_expires = يبقى هذا الرابط صالحًا حتى
mail_ignore = إذا لم تطلب ذلك، فتجاهل هذه الرسالة: لن يتم اشتراكك ولن تسمع عن الأمر شيئًا بعد الآن.
mail_why = تتلقى هذه الرسالة لأن رسائل من هذا المرسل طُلبت لهذا العنوان.
notice_subject = ما سجلناه بشأن تفضيلات بريدك الإلكتروني
notice_intro_phone = سجّل فريقنا نيابةً عنك التغيير التالي فيما تتلقاه منا، كما أخبرتنا عبر الهاتف:
notice_intro_in_person = سجّل فريقنا نيابةً عنك التغيير التالي فيما تتلقاه منا، كما أخبرتنا شخصيًا:
notice_intro_paper = أدخل فريقنا التغيير التالي فيما تتلقاه منا، من نموذج ورقي ملأته:
notice_opted_in = مشترك
notice_opted_out = أُلغي الاشتراك
# ما غيّره الموظفون في ملف جهة الاتصال، سطر لكل تغيير في الإشعار.
notice_level = مستوى الموافقة (من 0 إلى 5): الآن { $to }، وسابقاً { $from }
notice_tracking_on = تتبّع فتح رسائلنا والنقر على روابطها: مسموح
notice_tracking_off = تتبّع فتح رسائلنا والنقر على روابطها: غير مسموح
notice_child_on = مسجَّل كطفل: ما تختار تلقيه يحتاج إلى موافقة أحد الوالدين أو الوصي
notice_child_off = لم يعد مسجَّلاً كطفل
notice_custodian = الوالد أو الوصي الذي يؤكد اختياراتك: { $address }
notice_custodian_removed = لم يعد هناك والد أو وصي مسجَّل
notice_correct = إذا لم يكن هذا ما طلبته، أو غيّرت رأيك، يمكنك تغييره بنفسك في أي وقت:
notice_button = مراجعة تفضيلاتي
notice_why = تتلقى هذه الرسالة لأن تغييرًا في تفضيلاتك سُجّل لهذا العنوان.

## Consent receipts

offer_heading = إيصالك
offer_body = سجلّ موقّع لهذا التغيير للاحتفاظ به. يمكن لأي شخص التحقق من أنه أصلي ومن أنه ما زال ساريًا.
download = تنزيل الإيصال
check_link = التحقق من إيصال
check_title = التحقق من إيصال موافقة
check_intro = الصق إيصالًا أو اختر ملفه. يبيّن التحقق ما إذا كان مركز التفضيلات هذا قد وقّعه وما إذا كانت الاختيارات المسجلة فيه ما زالت سارية. لا يعرض شيئًا غير موجود في الإيصال.
paste_label = نص الإيصال
file_label = أو ملف الإيصال (.jws)
check_button = تحقّق من الإيصال
empty = الصق إيصالًا أو اختر ملفه أولًا.
valid_title = هذا الإيصال أصلي
signed_with = وقّعه مركز التفضيلات هذا بالمفتاح
current = ما زال ساريًا: كل اختيار مسجل فيه ما زال نافذًا.
superseded = لم يعد ساريًا: تغيّر منذ ذلك الحين اختيار واحد على الأقل من الاختيارات المسجلة فيه.
not_in_ledger = التوقيع سليم، لكن السجل لم يعد يحتفظ بالقيود التي يذكرها كما وُقّعت. يُرجى إبلاغ الجهة المعنية.
receipt_invalid_title = هذا ليس إيصالًا صالحًا
not_a_receipt = ليس إيصال موافقة صادرًا عن مركز التفضيلات هذا (أو أنه مقتطع).
unknown_key = يذكر مفتاح توقيع لم يستخدمه مركز التفضيلات هذا قط.
bad_signature = توقيعه لا يطابق محتواه: عُدّل بعد توقيعه، أو وقّعه طرف آخر.
records_heading = ما يسجّله
controller = الجهة
recorded_at = تاريخ التسجيل
receipt_id = الإيصال
principal = لصالح
value_opted_in = يتلقى
value_opted_out = لا يتلقى
value_pending = بانتظار التأكيد
value_not_set = لم يُختر


## Your data: a copy of it, or its erasure (GDPR Art. 15, 17, 20)

rights_heading = بياناتك
rights_intro = يمكنك طلب نسخة من كل ما نحتفظ به عنك، أو طلب محوه. نجيب بالبريد الإلكتروني على عنوانك.
rights_copy_button = أرسلوا لي نسخة من بياناتي بالبريد الإلكتروني
rights_erase_button = اطلب محو بياناتي
rights_erase_hint = نرسل إليك أولاً رابطاً للتأكيد. لا يمكن التراجع عن المحو: بعده لن تتلقى منا شيئاً، ولا حتى رسائل الخدمة.
rights_sent_title = تحقق من بريدك الوارد
rights_copy_sent = رسالة فيها رابط لتنزيل نسخة من بياناتك في طريقها إلى عنوانك. يعمل الرابط مدة 7 أيام.
rights_erase_sent = رسالة فيها رابط لتأكيد المحو في طريقها إلى عنوانك. لا يُمحى شيء قبل أن تؤكد.
rights_same = أرسلنا هذه الرسالة قبل دقائق. يُرجى البحث عنها في بريدك الوارد وفي مجلد الرسائل غير المرغوب فيها.
rights_no_email = نجيب على هذا بالبريد الإلكتروني، وليس لدينا عنوان بريد إلكتروني لك. يُرجى التواصل معنا مباشرة.
download_title = نسخة من بياناتك
download_intro = كل ما نحتفظ به عنك: بياناتك واختياراتك وكل تغيير عليها، متى وكيف ومن أجراه، مع إيصال موقَّع لكل تغيير.
download_json = تنزيل كل شيء (JSON)
download_csv = تنزيل سجل التغييرات (CSV، لجداول البيانات)
download_until = تعمل هذه التنزيلات حتى
forget_title = محو بياناتك
forget_intro = إذا أكدت، نمحو عنوان بريدك الإلكتروني ورقم هاتفك واسمك وأدلة اختياراتك. لن تتلقى منا شيئاً بعد ذلك. لا يمكن التراجع عن هذا.
forget_kept = نحتفظ فقط بسجل يفيد بأن محواً قد جرى، لا يذكر أحداً، لنتمكن من إثبات أننا نفذناه.
forget_button = امحُ بياناتي
forget_done_title = مُحيت بياناتك
forget_done_body = محونا بياناتك. لن تتلقى منا شيئاً بعد الآن، ولم تعد الروابط في رسائلنا السابقة تعمل.
rights_copy_subject = نسخة من بياناتك: رابط التنزيل
rights_copy_intro = طلبت نسخة من البيانات التي نحتفظ بها عنك. وهي جاهزة للتنزيل:
rights_copy_mail_button = تنزيل بياناتي
rights_copy_ignore = لا يستطيع استخدام الرابط إلا من يستطيع قراءة هذه الرسالة. إذا لم تطلب نسخة من بياناتك، يُرجى إبلاغنا بالرد على هذه الرسالة.
rights_erase_subject = يُرجى التأكيد: محو بياناتك
rights_erase_intro = طُلب منا محو البيانات التي نحتفظ بها عنك. للتأكيد، افتح هذا الرابط واضغط الزر في الصفحة:
rights_erase_mail_button = تأكيد المحو
rights_erase_ignore = إذا لم تطلب ذلك، تجاهل هذه الرسالة: لن يُمحى شيء.
rights_mail_why = تصلك هذه الرسالة لأن طلباً بشأن بياناتك قُدِّم لهذا العنوان.
# رسالة التأكيد إلى ولي أمر الطفل: { $child } هو عنوان الطفل المقنَّع.
mail_custodian_intro = نطلب موافقتك بصفتك ولي أمر { $child }، الذي يرغب في تلقي ما يلي منا. لن يُرسل شيء قبل أن تؤكد:

## Dates

month_1 = يناير
month_2 = فبراير
month_3 = مارس
month_4 = أبريل
month_5 = مايو
month_6 = يونيو
month_7 = يوليو
month_8 = أغسطس
month_9 = سبتمبر
month_10 = أكتوبر
month_11 = نوفمبر
month_12 = ديسمبر
# A date in a sentence: { $day } (a number), { $month } (a month's name above), { $year }.
long_date = { $day } { $month } { $year }
