-- Device authorization grants (RFC 8628): a device (the signer CLI) asks, a
-- person approves at /device with the user code, the device polls with the
-- device code. Both codes are stored as keyed hashes only.
CREATE TABLE device_grants (
    device_code_hash BYTEA PRIMARY KEY NOT NULL,
    user_code_hash BYTEA NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Seconds the device must wait between polls (raised by slow_down), and
    -- when it last polled.
    poll_interval BIGINT NOT NULL,
    polled_at BIGINT,
    -- pending, approved or denied; who approved, at what level, when.
    status TEXT NOT NULL,
    personal_number TEXT,
    acr TEXT,
    auth_time BIGINT
);
