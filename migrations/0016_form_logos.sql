-- Brand logos for the form designer, named by the SHA-256 of their bytes (a design refers to
-- one by it; the same file uploaded twice is stored once; a published version's logo never
-- changes). Checked by their bytes before they get here: PNG, JPEG or WebP only.
CREATE TABLE form_logos (
    sha256      TEXT PRIMARY KEY,
    mime        TEXT NOT NULL CHECK (mime IN ('image/png', 'image/jpeg', 'image/webp')),
    bytes       {bytes} NOT NULL,
    width       {int} NOT NULL,
    height      {int} NOT NULL,
    created_at  {ts} NOT NULL
);
