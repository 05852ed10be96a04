-- The run lists page by keyset on (queued_at, id): the indexes hold the id too, so any page
-- starts with one index probe and reads only its own rows.
DROP INDEX runs_workspace_idx;
CREATE INDEX runs_workspace_idx ON runs (workspace_id, queued_at DESC, id DESC);
DROP INDEX runs_package_idx;
CREATE INDEX runs_package_idx ON runs (package_id, queued_at DESC, id DESC);
