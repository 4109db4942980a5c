-- Each attempt's secret for its offline-journal checkpoints (a MAC key,
-- never sent to the browser): the server ties answers that arrive after
-- the time limit to the attempt while it was open. NULL for attempts
-- started before; their late answers no longer count.
ALTER TABLE attempts ADD COLUMN checkpoint_key TEXT;
