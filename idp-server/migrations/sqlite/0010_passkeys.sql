-- Residents' passkeys: webauthn-rs's record of each (public key, signature
-- counter), under its credential id, with the user handle the authenticator
-- returns in a discoverable login (a keyed hash of the personal number).
CREATE TABLE passkeys (
    credential_id BLOB PRIMARY KEY NOT NULL,
    personal_number TEXT NOT NULL REFERENCES people(personal_number),
    user_handle BLOB NOT NULL,
    passkey TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    -- Set when the passkey may have been cloned (its counter went back): it no
    -- longer logs anyone in.
    disabled_at INTEGER
);
CREATE INDEX passkeys_person ON passkeys (personal_number);
CREATE INDEX passkeys_user_handle ON passkeys (user_handle);

-- WebAuthn ceremonies under way: the challenge state webauthn-rs must find again,
-- under a keyed hash of its handle, bound to a browser; taken once.
CREATE TABLE webauthn_ceremonies (
    id_hash BLOB PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
