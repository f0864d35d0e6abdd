CREATE INDEX products_title ON products (title COLLATE NOCASE);
