DROP TABLE stock_levels;
DROP INDEX IF EXISTS stock_levels_warehouse;
