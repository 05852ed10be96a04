-- The package list pages by (lower(name), id) within a workspace.
CREATE INDEX packages_workspace_name_idx ON packages (workspace_id, lower(name), id);
