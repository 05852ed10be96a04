-- A full pass into a target that held no row when it began skips reading the target back
-- (`engine::sync::FullPass::reverse`); the decision is kept so a resumed pass keeps it.
ALTER TABLE package_tasks ADD COLUMN full_pass_reverse boolean NOT NULL DEFAULT true;
