-- One row per Confluence site that installed the app (the Connect "host").
-- Written only after a verified signed install; see app/src/connect/install.rs.
CREATE TABLE tenants (
    client_key      TEXT PRIMARY KEY NOT NULL,  -- from the verified install token's iss
    shared_secret   TEXT NOT NULL,              -- HS256 key for this tenant's JWTs
    base_url        TEXT NOT NULL,              -- e.g. https://acme.atlassian.net/wiki
    display_url     TEXT,                       -- custom domain, when set
    product_type    TEXT,
    oauth_client_id TEXT,                       -- for ACT_AS_USER (JWT bearer grant)
    installation_id TEXT,
    state           TEXT NOT NULL,              -- installed | enabled | disabled | uninstalled
    installed_at    BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    uninstalled_at  BIGINT                      -- start of the retention period
);
