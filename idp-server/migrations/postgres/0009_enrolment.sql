-- One-time activation codes, issued after identity proofing in person: a keyed
-- hash of the code, its expiry, and the wrong attempts so far (five lock it).
CREATE TABLE activation_codes (
    personal_number TEXT PRIMARY KEY NOT NULL REFERENCES people(personal_number),
    code_hash BYTEA NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0
);

-- What happened to accounts, for the people who answer for them: codes issued,
-- used, refused and locked, passkeys added and removed, refused logins.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    personal_number TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_person ON audit_events (personal_number, at);
