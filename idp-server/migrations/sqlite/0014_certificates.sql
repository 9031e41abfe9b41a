-- Certificates the online CA issued (officials' signing certificates), with
-- their revocation: the live state /pki/ocsp and /pki/crl answer from.
CREATE TABLE certificates (
    serial TEXT PRIMARY KEY NOT NULL,   -- lower-case hexadecimal
    ca TEXT NOT NULL,                   -- the issuing CA's name (official-ca)
    profile TEXT NOT NULL,
    subject TEXT NOT NULL,
    personal_number TEXT,
    issued_at INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    der BLOB NOT NULL,
    revoked_at INTEGER,
    reason INTEGER
);
CREATE INDEX certificates_person ON certificates (personal_number, issued_at);
CREATE INDEX certificates_revoked ON certificates (ca, revoked_at);

-- The last CRL number each CA used: never the same twice.
CREATE TABLE crl_numbers (
    ca TEXT PRIMARY KEY NOT NULL,
    last INTEGER NOT NULL
);
