DROP TRIGGER products_set_updated_at ON products;
DROP FUNCTION set_updated_at();
