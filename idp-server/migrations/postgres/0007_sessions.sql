-- Logins under way: the validated authorization request, kept server-side while
-- the person authenticates, under a keyed hash of the id the browser holds (in
-- its form and in a cookie). Single use, short-lived.
CREATE TABLE pending_logins (
    id_hash BYTEA PRIMARY KEY NOT NULL,
    params TEXT NOT NULL,             -- the authorization request's parameters, JSON
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_logins_expiry ON pending_logins (expires_at);

-- Single sign-on sessions at the provider, under a keyed hash of the browser's
-- session cookie: who logged in, how strongly, when.
CREATE TABLE login_sessions (
    id_hash BYTEA PRIMARY KEY NOT NULL,
    personal_number TEXT NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL,                -- how (RFC 8176 values, space-separated)
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_sessions_expiry ON login_sessions (expires_at);
