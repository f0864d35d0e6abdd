DROP TRIGGER orders_record_status ON orders;
DROP FUNCTION record_order_status();
DROP TABLE order_status_history;
