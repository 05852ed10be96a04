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
-- Runs: a mapping that makes one record break the CHECK gives a failed record.
CREATE TABLE orders (
    id       serial PRIMARY KEY,
    item     text NOT NULL,
    quantity int NOT NULL CHECK (quantity > 0)
);
INSERT INTO orders (item, quantity) VALUES ('pen', 1), ('ink', 5);
-- The API test's own table (a package made through the REST API syncs it).
CREATE TABLE api_notes (
    id   serial PRIMARY KEY,
    body text NOT NULL
);
INSERT INTO api_notes (body) VALUES ('written before the API run');
