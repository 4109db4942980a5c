-- Signed lifecycle tokens already acted on, by SHA-256 of the token, kept
-- until the token expires: a captured `/installed` (or `/uninstalled`,
-- `/enabled`, `/disabled`) request cannot be replayed while its token is
-- still valid. In the database, so every instance sees it.
CREATE TABLE seen_lifecycle_tokens (
    token_sha256 TEXT PRIMARY KEY NOT NULL,
    expires_at   INTEGER NOT NULL              -- the token's exp (seconds)
);
CREATE INDEX seen_lifecycle_tokens_expiry ON seen_lifecycle_tokens (expires_at);
