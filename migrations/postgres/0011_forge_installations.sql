-- Forge Remote calls name their site by installation id (the Forge
-- Invocation Token's `app.installationId`), looked up on every call
-- (`Db::tenant_by_installation_id`): an index instead of a scan of every
-- tenant. Partial: sites installed before Forge have none.
CREATE INDEX tenants_by_installation_id ON tenants (installation_id)
    WHERE installation_id IS NOT NULL;
