-- Grants a client may use.
ALTER TABLE clients ADD COLUMN grant_types TEXT NOT NULL DEFAULT 'authorization_code refresh_token';

-- The token family a code's exchange started, so that a replayed code revokes it.
ALTER TABLE authorization_codes ADD COLUMN family_id TEXT;

-- Refresh tokens, by hash. A family is every token descended from one code; reuse
-- of a used token revokes the family.
CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    personal_number TEXT NOT NULL,
    scope TEXT NOT NULL,
    acr TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

-- Revoked token families (and the access tokens that carry them).
CREATE TABLE revoked_families (
    family_id TEXT PRIMARY KEY NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Revoked access tokens, by jti, until they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
