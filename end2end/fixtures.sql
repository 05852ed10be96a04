-- Tables the end-to-end suite syncs between two fresh PostgreSQL databases (scripts/test.sh
-- loads this file into both).
CREATE TABLE customers (
    id    serial PRIMARY KEY,
    name  text NOT NULL,
    email text,
    tier  text
);
INSERT INTO customers (name, email) VALUES ('Ann', 'ann@example.com'), ('Bob', NULL);
-- Cannot be synced: the application assigns its keys.
CREATE TABLE legacy_codes (code int PRIMARY KEY, label text);
