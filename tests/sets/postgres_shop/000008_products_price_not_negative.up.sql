DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM products WHERE price < 0) THEN
        RAISE EXCEPTION 'products with a negative price exist; fix them before adding the check: %',
            (SELECT string_agg(sku, ', ') FROM products WHERE price < 0);
    END IF;
END
$$;

ALTER TABLE products ADD CONSTRAINT products_price_not_negative CHECK (price >= 0);
