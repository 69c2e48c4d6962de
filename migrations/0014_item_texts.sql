-- Purpose and topic names and descriptions in other languages than the profile's default
-- (whose words stay in purposes.name / topics.name). A page in a language with no row here
-- shows the default words.
CREATE TABLE item_texts (
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('purpose', 'topic')),
    subject_id    {int} NOT NULL,
    lang          TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (subject_kind, subject_id, lang)
);
