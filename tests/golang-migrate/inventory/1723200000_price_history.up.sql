CREATE TABLE price_history (
    sku TEXT NOT NULL REFERENCES products (sku),
    price_cents INTEGER NOT NULL,
    valid_from TEXT NOT NULL
);
CREATE INDEX price_history_sku ON price_history (sku, valid_from);
ALTER TABLE products ADD COLUMN list_price_cents INTEGER;
