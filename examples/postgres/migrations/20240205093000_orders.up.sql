CREATE TYPE order_state AS ENUM ('open', 'paid', 'shipped');

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    state order_state NOT NULL DEFAULT 'open',
    total numeric(12, 2) NOT NULL CHECK (total >= 0),
    placed_at timestamptz NOT NULL DEFAULT now()
);

-- A dollar-quoted function body: its semicolons do not end the statement.
CREATE FUNCTION order_total(customer bigint) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(total), 0) FROM orders WHERE customer_id = customer;
$$;
