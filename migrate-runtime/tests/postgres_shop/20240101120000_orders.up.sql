-- The shop's first tables: customers and their orders.
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');

CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text NOT NULL
);

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    status order_status NOT NULL DEFAULT 'new',
    total numeric(10, 2) NOT NULL CHECK (total >= 0),
    placed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_customer_id_idx ON orders (customer_id);

INSERT INTO customers (email, full_name) VALUES
    ('ada@example.com', 'Ada Lovelace'),
    ('grace@example.com', 'Grace Brewster Hopper');
INSERT INTO orders (customer_id, status, total)
SELECT id, 'paid', 12.50 FROM customers WHERE email = 'ada@example.com';
