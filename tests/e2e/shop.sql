-- The shop's data for the Python and Ruby shops (tests/agent/pyshop.py, tests/e2e/rubyshop.rb;
-- the PHP shop's too, through pyshop.init_db): the same rows as the C++ demo shop's.
DROP TABLE IF EXISTS products; DROP TABLE IF EXISTS users;
CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price REAL, visible INTEGER);
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, password TEXT);
INSERT INTO products(name, price, visible) VALUES ('desk lamp', 29.9, 1), ('chair', 79.0, 1),
  ('lamp shade', 9.5, 1), ('secret prototype', 999.0, 0);
INSERT INTO users(name, password) VALUES ('alice', 'wonderland'), ('bob', 'builder');
