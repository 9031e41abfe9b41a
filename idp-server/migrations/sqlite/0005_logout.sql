-- RP-initiated logout: where a client may send people after they log out
-- (a JSON array, matched exactly).
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
