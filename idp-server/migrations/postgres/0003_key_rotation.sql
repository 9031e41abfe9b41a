-- A signing key is published from created_at and signs from not_before, so that
-- relying parties have fetched it before they meet a token it signed. 0: at once.
ALTER TABLE signing_keys ADD COLUMN not_before BIGINT NOT NULL DEFAULT 0;
