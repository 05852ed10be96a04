-- The ID map is written once per synced record, so its upkeep is on the hot path of every
-- first run. Keys are compared byte-wise (they are opaque; a locale-aware collation only made
-- every index comparison slower), and the per-row foreign-key check on insert is replaced by a
-- trigger that removes a task's pairs when the task is deleted (same effect as ON DELETE
-- CASCADE, no cost per inserted pair).
ALTER TABLE id_map DROP CONSTRAINT id_map_task_id_fkey;
ALTER TABLE id_map
    ALTER COLUMN source_key TYPE text COLLATE "C",
    ALTER COLUMN target_key TYPE text COLLATE "C";

CREATE FUNCTION id_map_forget_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM id_map WHERE task_id = OLD.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER package_tasks_forget_pairs AFTER DELETE ON package_tasks
    FOR EACH ROW EXECUTE FUNCTION id_map_forget_task();
