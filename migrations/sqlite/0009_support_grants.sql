-- Staff see customer data only with the customer's consent: a space admin
-- grants time-boxed support access to their space (app/src/space_admin),
-- and the support command (server/src/support.rs) reads that space's data
-- only while a grant is active. Every grant, revocation and support read
-- is in the tenant's audit log.
CREATE TABLE support_grants (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_key     TEXT NOT NULL,
    space_key      TEXT NOT NULL,
    granted_by     TEXT NOT NULL,   -- the space admin's account id
    reason         TEXT NOT NULL,
    granted_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    revoked_at_ms  INTEGER
);
CREATE INDEX support_grants_by_space ON support_grants (client_key, space_key, expires_at_ms);
