ALTER TABLE orders ADD COLUMN updated_at timestamptz;

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER orders_touch BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE VIEW open_orders AS
SELECT id, customer_id, total, placed_at FROM orders WHERE status <> 'shipped';
