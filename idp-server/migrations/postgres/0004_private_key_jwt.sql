-- private_key_jwt (RFC 7523): the client's public keys, a JWK Set as JSON.
ALTER TABLE clients ADD COLUMN jwks TEXT;

-- Client assertions seen, by jti, until they expire: a replay is refused.
CREATE TABLE client_assertions (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertions_expiry ON client_assertions (expires_at);
