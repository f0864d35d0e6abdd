-- migrate:no-transaction
-- CONCURRENTLY keeps orders writable while the index builds; PostgreSQL refuses it inside a
-- transaction block, hence the directive.
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
