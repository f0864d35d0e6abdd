DROP FUNCTION order_total(bigint);
DROP TABLE orders;
DROP TYPE order_state;
