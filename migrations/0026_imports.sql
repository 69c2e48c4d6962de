-- Consent imports: a file (or several wide files merged on the key) read under a mapping and
-- written through the writer in batches. Each batch commits its rows' ledger records and the
-- import's progress together, so an import stopped half-way resumes from its last committed
-- batch (the same file, profile and mapping: the same SHA-256 and mapping text). An import
-- uploaded on the console is a draft (its files kept, its mapping chosen, a dry run shown)
-- until it is started.
CREATE TABLE imports (
    id                {id},
    profile_id        {int} NOT NULL REFERENCES compliance_profiles(id),
    -- The file's name (or the names of the merged files) and SHA-256 (of the bytes; of the
    -- files' hashes when several): every record the import made names them.
    file_name         TEXT NOT NULL,
    file_sha256       TEXT NOT NULL,
    -- The mapping as JSON (`domain::import::Mapping`, one per file).
    mapping           TEXT NOT NULL,
    -- The admin declared the source confirmed its opt-ins by double opt-in: imported opt-ins
    -- are recorded as given; otherwise each is sent to double opt-in.
    source_confirmed  {bool} NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft', 'running', 'done')),
    -- The file's data rows (read or refused), and how many are done.
    rows_total        {int} NOT NULL,
    rows_done         {int} NOT NULL DEFAULT 0,
    contacts_created  {int} NOT NULL DEFAULT 0,
    records_written   {int} NOT NULL DEFAULT 0,
    rows_unchanged    {int} NOT NULL DEFAULT 0,
    rows_refused      {int} NOT NULL DEFAULT 0,
    opt_ins_asked     {int} NOT NULL DEFAULT 0,
    -- 'user:{id}', or 'cli' for the command line.
    started_by        TEXT NOT NULL,
    started_at        {ts} NOT NULL,
    finished_at       {ts}
);
CREATE INDEX imports_file ON imports (profile_id, file_sha256);

-- A console upload's files, kept only while the import needs them (deleted when it is done or
-- the draft is discarded). An erasure empties the erased address in them (the rows keep their
-- place, so a running import resumes where it was) and checks no trace is left.
CREATE TABLE import_files (
    import_id  {int} NOT NULL REFERENCES imports(id),
    position   {int} NOT NULL,
    name       TEXT NOT NULL,
    content    {bytes} NOT NULL,
    PRIMARY KEY (import_id, position)
);

-- The rows an import could not take: the file's line, the column, why (never the address).
CREATE TABLE import_errors (
    import_id  {int} NOT NULL REFERENCES imports(id),
    line       {int} NOT NULL,
    col        TEXT NOT NULL,
    why        TEXT NOT NULL
);
CREATE INDEX import_errors_import ON import_errors (import_id, line);
