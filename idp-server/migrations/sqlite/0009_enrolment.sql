-- One-time activation codes, issued after identity proofing in person: a keyed
-- hash of the code, its expiry, and the wrong attempts so far (five lock it).
CREATE TABLE activation_codes (
    personal_number TEXT PRIMARY KEY NOT NULL REFERENCES people(personal_number),
    code_hash BLOB NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0
);

-- What happened to accounts, for the people who answer for them: codes issued,
-- used, refused and locked, passkeys added and removed, refused logins.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    personal_number TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_person ON audit_events (personal_number, at);
