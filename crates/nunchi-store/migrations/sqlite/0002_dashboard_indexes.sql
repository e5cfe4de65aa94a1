-- The dashboard counts live customers and groups sign-ups by day; at a million customers a
-- full table scan made that take over a second. A partial index of live customers and an
-- index on created_at let both read an index instead.
CREATE INDEX customers_live ON customers(id) WHERE merged_into IS NULL AND erased_at IS NULL;
CREATE INDEX customers_created ON customers(created_at);
