CREATE TABLE stock_levels (
    sku TEXT NOT NULL REFERENCES products (sku),
    warehouse TEXT NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sku, warehouse)
);
CREATE INDEX stock_levels_warehouse ON stock_levels (warehouse);
