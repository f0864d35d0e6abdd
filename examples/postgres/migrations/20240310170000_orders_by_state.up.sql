-- migrate:no-transaction
-- Built without blocking writes: CREATE INDEX CONCURRENTLY cannot run in a transaction.
CREATE INDEX CONCURRENTLY orders_by_state ON orders (state, placed_at);
