-- What each person agreed to release to each portal (scopes, space-separated),
-- remembered until withdrawn.
CREATE TABLE consents (
    personal_number TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (personal_number, client_id)
);

-- The business a person chose to act for in a login (scope business), carried
-- from the code to the tokens and their refreshes.
ALTER TABLE authorization_codes ADD COLUMN business TEXT;
ALTER TABLE refresh_tokens ADD COLUMN business TEXT;
