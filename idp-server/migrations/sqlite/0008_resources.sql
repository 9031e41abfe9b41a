-- Resource indicators (RFC 8707): the resource servers a client may ask
-- client_credentials tokens for (a JSON array of absolute URIs, matched exactly).
ALTER TABLE clients ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
