DROP VIEW open_orders;
DROP TRIGGER orders_touch ON orders;
DROP FUNCTION touch_updated_at();
ALTER TABLE orders DROP COLUMN updated_at;
