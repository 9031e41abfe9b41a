-- The JWS algorithm of a client's ID tokens (OpenID Connect Registration's
-- id_token_signed_response_alg): ES256 unless the client can only check RS256.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256';
