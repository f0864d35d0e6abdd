ALTER TABLE products DROP CONSTRAINT products_price_not_negative;
