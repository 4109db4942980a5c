-- The language each person last used the app in (the `loc` Confluence
-- gives the page, sent with every server-function call), so mail the app
-- sends outside any request (the reminder job) speaks it. Written only
-- when it changes (`Db::keep_language`); part of the tenant's data:
-- backed up, erased with the account, purged with the tenant.
CREATE TABLE learner_languages (
    client_key     TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    lang           TEXT NOT NULL,   -- a BCP 47 primary tag the app speaks: en, de
    updated_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (client_key, account_id)
);
