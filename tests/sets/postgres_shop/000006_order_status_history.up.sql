CREATE TABLE order_status_history (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status      order_status NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

-- Backfill: every existing order starts its history with its current status.
INSERT INTO order_status_history (order_id, status, changed_at)
SELECT id, status, placed_at
FROM orders
ORDER BY id;

CREATE FUNCTION record_order_status() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    -- On UPDATE only a real change is history; note the ';' inside this body.
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;
    INSERT INTO order_status_history (order_id, status) VALUES (NEW.id, NEW.status);
    RETURN NEW;
END;
$fn$;

CREATE TRIGGER orders_record_status
    AFTER INSERT OR UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION record_order_status();
