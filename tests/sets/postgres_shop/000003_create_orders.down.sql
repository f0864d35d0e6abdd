DROP TABLE order_lines;
DROP TABLE orders;
DROP TYPE order_status;
