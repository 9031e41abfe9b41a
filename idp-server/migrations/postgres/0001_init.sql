-- Relying parties.
CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- HMAC-SHA256 of the secret under the server's secret key; NULL for public clients.
    secret_hash BYTEA,
    redirect_uris TEXT NOT NULL,      -- JSON array, matched exactly
    sector TEXT NOT NULL,             -- pairwise subject sector
    scopes TEXT NOT NULL,             -- space-separated scopes the client may ask for
    created_at BIGINT NOT NULL
);

-- Keys that sign tokens: published from not_before, used to sign once active,
-- kept published until retired_at.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL,
    pkcs8_encrypted BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);

-- The registry: residents and businesses.
CREATE TABLE people (
    personal_number TEXT PRIMARY KEY NOT NULL,
    full_name TEXT NOT NULL,
    birth_date TEXT,
    assurance TEXT NOT NULL
);

CREATE TABLE businesses (
    enterprise_code TEXT PRIMARY KEY NOT NULL,
    registered_name TEXT NOT NULL
);

CREATE TABLE representatives (
    enterprise_code TEXT NOT NULL REFERENCES businesses(enterprise_code),
    personal_number TEXT NOT NULL REFERENCES people(personal_number),
    PRIMARY KEY (enterprise_code, personal_number)
);

-- Authorization codes, stored by hash, single use.
CREATE TABLE authorization_codes (
    code_hash BYTEA PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    personal_number TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT NOT NULL,
    acr TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);
