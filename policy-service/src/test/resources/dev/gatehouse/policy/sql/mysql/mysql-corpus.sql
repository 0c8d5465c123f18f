-- MySQL / MariaDB corpus for MySqlAnalyzer and for choosing its parser (MySqlParserCandidatesTest).
--
-- Each entry is one statement, after a line "--@ KIND | TAG | facts...": the analysis
-- MySqlAnalyzer must give it on MariaDB 11.4 (MySqlCorpusTest). Facts, in any order:
--   obj: TYPE        the object type (DDL)
--   r: a, b          tables read (none when absent)
--   w: a, b          tables written (none when absent)
--   f: a, b          functions that must be among those reported (not checked when absent)
--   s: a, b          settings changed (none when absent)
--   mw               missing WHERE;  code   runs code;  unc   uncertain
-- "--@ UNPARSEABLE" marks a statement the analyser refuses (its reason in MySqlAnalyzer's javadoc).
-- The statement runs to the next "--@" line; a final ";" is not part of it.

--@ READ | SELECT
SELECT 1
--@ READ | SELECT | r: users
SELECT * FROM users WHERE id = 42
--@ READ | SELECT | r: users, orders
SELECT u.id, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.active = 1
--@ READ | SELECT | r: shop.orders, shop.customers
SELECT * FROM shop.orders o LEFT JOIN shop.customers c USING (customer_id)
--@ READ | SELECT | r: products, order_items
SELECT name FROM products WHERE id IN (SELECT product_id FROM order_items WHERE qty > 5)
--@ READ | SELECT | r: orders
SELECT * FROM (SELECT id, total FROM orders WHERE total > 100) AS big
--@ READ | SELECT | r: orders | f: now, count
WITH recent AS (SELECT * FROM orders WHERE created_at > NOW() - INTERVAL 1 DAY) SELECT COUNT(*) FROM recent
--@ READ | SELECT
WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 10) SELECT n FROM seq
--@ READ | SELECT | r: orders | f: row_number
SELECT id, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY created_at DESC) AS rn FROM orders
--@ READ | SELECT | r: orders | f: sum
SELECT customer_id, SUM(total) OVER w FROM orders WINDOW w AS (PARTITION BY customer_id)
--@ READ | SELECT | r: a, b
SELECT a.x FROM a, b WHERE a.id = b.id
--@ READ | SELECT | r: t1, t2
SELECT * FROM t1 UNION SELECT * FROM t2
--@ READ | SELECT | r: order
SELECT * FROM `order` WHERE `group` = 'x'
--@ READ | SELECT | r: my db.my table
SELECT * FROM `my db`.`my table`
--@ WRITE | SELECT | r: orders
SELECT * FROM orders FOR UPDATE
--@ WRITE | SELECT | r: orders
SELECT * FROM orders WHERE id = 1 LOCK IN SHARE MODE
--@ WRITE | SELECT | r: orders
SELECT * FROM orders FOR SHARE SKIP LOCKED
--@ READ | SELECT | r: orders
SELECT SQL_CALC_FOUND_ROWS * FROM orders LIMIT 10
--@ READ | SELECT | f: found_rows
SELECT FOUND_ROWS()
--@ READ | SELECT | r: customers
SELECT HIGH_PRIORITY DISTINCT city FROM customers ORDER BY city LIMIT 5, 10
--@ READ | SELECT | r: orders, customers
SELECT * FROM orders o STRAIGHT_JOIN customers c ON o.cid = c.id
--@ READ | SELECT | r: orders
SELECT * FROM orders USE INDEX (idx_created) WHERE created_at > '2024-01-01'
--@ READ | SELECT | r: orders | s: @last_id
SELECT id INTO @last_id FROM orders ORDER BY id DESC LIMIT 1
--@ UTILITY | SELECT INTO OUTFILE | r: customers | unc
SELECT * FROM customers INTO OUTFILE '/tmp/customers.csv' FIELDS TERMINATED BY ','
--@ UTILITY | SELECT INTO DUMPFILE | r: blobs | unc
SELECT data FROM blobs WHERE id = 1 INTO DUMPFILE '/tmp/blob.bin'
--@ READ | SELECT | f: load_file | unc
SELECT LOAD_FILE('/etc/passwd')
--@ READ | SELECT | r: users | f: load_file | unc
SELECT * FROM users WHERE name = LOAD_FILE('/etc/hostname')
--@ READ | SELECT | r: docs | f: json_extract
SELECT JSON_EXTRACT(doc, '$.a') FROM docs
--@ READ | SELECT | r: people | f: concat
SELECT CONCAT(first_name, ' ', last_name) FROM people WHERE last_name LIKE 'S%'
--@ READ | SELECT
SELECT @@version, @@session.sql_mode
--@ READ | SELECT | f: database, user, current_user
SELECT DATABASE(), USER(), CURRENT_USER()
--@ READ | SELECT | r: information_schema.tables
SELECT * FROM information_schema.tables WHERE table_schema = 'shop'
--@ READ | SELECT | r: orders | f: count
SELECT status, COUNT(*) FROM orders GROUP BY status HAVING COUNT(*) > 1
--@ READ | SELECT | r: orders, refunds
SELECT * FROM orders WHERE EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = orders.id)
--@ READ | SELECT | r: orders
TABLE orders
--@ READ | SELECT
VALUES ROW(1, 2), ROW(3, 4)
--@ READ | SELECT | r: t1, t2
SELECT * FROM t1 NATURAL JOIN t2
--@ READ | SELECT
SELECT 1 FROM DUAL
--@ READ | SELECT | r: orders
SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM orders
--@ READ | SELECT | f: sleep
SELECT SLEEP(1)
--@ READ | SELECT | f: benchmark, md5
SELECT BENCHMARK(1000000, MD5('x'))
--@ READ | SELECT | r: t
SELECT x FROM t WHERE y = 'it''s'
--@ READ | SELECT | r: t
SELECT "double quoted string" FROM t
--@ UNPARSEABLE
SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01 00:00:00'
--@ READ | SELECT | r: orders | f: avg
SELECT * FROM orders o WHERE o.total > (SELECT AVG(total) FROM orders)
--@ READ | SELECT | r: tags | f: group_concat
SELECT GROUP_CONCAT(name ORDER BY name SEPARATOR ';') FROM tags
--@ READ | SELECT | r: t
SELECT CAST(x AS CHAR), CONVERT(y USING utf8mb4) FROM t
--@ READ | SELECT | r: a, b, c, d
SELECT * FROM a INNER JOIN b ON a.id = b.a_id LEFT OUTER JOIN c ON c.id = b.c_id RIGHT JOIN d ON d.id = c.d_id
--@ READ | SELECT | r: t
SELECT 'a;b' AS x FROM t
--@ READ | SELECT | r: t
SELECT `weird;name` FROM t
--@ READ | SELECT | r: t
SELECT 'it\'s' FROM t
--@ READ | SELECT | r: orders
SELECT * FROM orders WHERE id IN (1, 2, 3) AND status <> 'x' AND total BETWEEN 1 AND 10
--@ READ | SELECT | r: t
SELECT a FROM t WHERE b REGEXP '^x' ORDER BY a DESC LIMIT 10 OFFSET 20
--@ READ | SELECT | r: t | f: get_lock
SELECT GET_LOCK('x', 10) FROM t
--@ READ | SELECT | r: orders
SELECT o.* FROM orders AS o WHERE o.created_at >= CURDATE() - INTERVAL 7 DAY
--@ READ | SELECT | r: t
SELECT * FROM t WHERE j->>'$.name' = 'x'
--@ READ | SELECT | f: nextval
SELECT NEXTVAL(seq_orders)
--@ READ | SELECT | f: setval
SELECT SETVAL(seq_orders, 100)
--@ READ | SELECT | r: t | f: my_udf | code | unc
SELECT my_udf(a) FROM t
--@ READ | SELECT | f: shop.f_total | code | unc
SELECT shop.f_total(1)

--@ WRITE | INSERT | w: users
INSERT INTO users (name, email) VALUES ('a', 'a@x')
--@ WRITE | INSERT | w: users
INSERT INTO users VALUES (1, 'a'), (2, 'b')
--@ WRITE | INSERT | w: archive_orders | r: orders
INSERT INTO archive_orders SELECT * FROM orders WHERE created_at < '2020-01-01'
--@ WRITE | INSERT | w: counters
INSERT INTO counters (id, n) VALUES (1, 1) ON DUPLICATE KEY UPDATE n = n + 1
--@ WRITE | INSERT | w: counters
INSERT INTO counters (id, n) VALUES (1, 1) ON DUPLICATE KEY UPDATE n = VALUES(n) + counters.n
--@ WRITE | INSERT | w: tags
INSERT IGNORE INTO tags (name) VALUES ('x')
--@ WRITE | INSERT | w: logs
INSERT LOW_PRIORITY INTO logs SET level = 'info', msg = 'hi'
--@ WRITE | INSERT | w: shop.orders | r: staging.orders, shop.orders
INSERT INTO shop.orders (id) SELECT id FROM staging.orders s WHERE NOT EXISTS (SELECT 1 FROM shop.orders o WHERE o.id = s.id)
--@ WRITE | REPLACE | w: settings
REPLACE INTO settings (k, v) VALUES ('a', 'b')
--@ WRITE | REPLACE | w: settings | r: default_settings
REPLACE INTO settings SELECT * FROM default_settings
--@ WRITE | REPLACE | w: settings
REPLACE settings SET k = 'a', v = 'b'
--@ WRITE | INSERT | w: t
INSERT INTO t (a) VALUES (1) RETURNING id
--@ WRITE | INSERT | w: payouts | f: load_file | unc
INSERT INTO payouts (note) VALUES (LOAD_FILE('/etc/shadow'))
--@ WRITE | INSERT | w: t
INSERT INTO t PARTITION (p0) VALUES (1)
--@ WRITE | INSERT | w: t
INSERT INTO t (a, b) VALUES (DEFAULT, NULL)
--@ WRITE | INSERT | w: x.y | r: z
INSERT INTO `x`.`y` (a) SELECT a FROM z

--@ WRITE | UPDATE | w: users
UPDATE users SET name = 'x' WHERE id = 1
--@ WRITE | UPDATE | w: users | mw
UPDATE users SET active = 0
--@ WRITE | UPDATE | w: orders | r: customers
UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.status = 'vip' WHERE c.tier = 'gold'
--@ WRITE | UPDATE | w: orders, customers
UPDATE orders, customers SET orders.status = 'x', customers.flag = 1 WHERE orders.cid = customers.id
--@ WRITE | UPDATE | w: orders | r: customers | mw
UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.status = 'vip'
--@ WRITE | UPDATE | w: items
UPDATE LOW_PRIORITY IGNORE items SET price = price * 1.1 WHERE category = 'x' ORDER BY id LIMIT 10
--@ WRITE | UPDATE | w: t | r: u
UPDATE t SET a = (SELECT MAX(b) FROM u) WHERE id = 1
--@ WRITE | UPDATE | w: orders | r: orders
WITH old AS (SELECT id FROM orders WHERE created_at < '2020-01-01') UPDATE orders SET archived = 1 WHERE id IN (SELECT id FROM old)
--@ WRITE | UPDATE | w: payouts
UPDATE payouts SET amount = 0 WHERE 1 = 1
--@ WRITE | UPDATE | w: shop.payouts
UPDATE `shop`.`payouts` SET amount = amount + 1 WHERE id = 7
--@ WRITE | UPDATE | w: a, b | mw
UPDATE a JOIN b ON a.id = b.id SET x = 1

--@ WRITE | DELETE | w: sessions | f: now
DELETE FROM sessions WHERE expires_at < NOW()
--@ WRITE | DELETE | w: sessions | mw
DELETE FROM sessions
--@ WRITE | DELETE | w: logs | mw
DELETE FROM logs ORDER BY id LIMIT 1000
--@ WRITE | DELETE | w: orders | r: customers
DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.deleted = 1
--@ WRITE | DELETE | w: orders, items
DELETE orders, items FROM orders JOIN items ON items.order_id = orders.id WHERE orders.id = 5
--@ WRITE | DELETE | w: orders | r: customers
DELETE FROM orders USING orders JOIN customers ON customers.id = orders.cid WHERE customers.banned = 1
--@ WRITE | DELETE | w: t1 | r: t2
DELETE t1 FROM t1 LEFT JOIN t2 ON t1.id = t2.id WHERE t2.id IS NULL
--@ WRITE | DELETE | w: t
DELETE FROM t WHERE id = 1 RETURNING *
--@ WRITE | DELETE | w: t
DELETE QUICK IGNORE FROM t WHERE a = 1
--@ WRITE | DELETE | w: a | r: b | mw
DELETE a FROM a JOIN b ON a.x = b.x
--@ WRITE | DELETE | w: payouts | r: payouts
DELETE FROM payouts WHERE id IN (SELECT id FROM (SELECT id FROM payouts WHERE amount = 0) AS z)

--@ WRITE | LOAD DATA | w: imports | unc
LOAD DATA INFILE '/tmp/data.csv' INTO TABLE imports FIELDS TERMINATED BY ','
--@ WRITE | LOAD DATA | w: shop.imports | unc
LOAD DATA LOCAL INFILE 'data.csv' REPLACE INTO TABLE shop.imports (a, b)
--@ WRITE | LOAD XML | w: people | unc
LOAD XML LOCAL INFILE 'x.xml' INTO TABLE people ROWS IDENTIFIED BY '<person>'

--@ DDL | CREATE DATABASE | obj: DATABASE | w: shop
CREATE DATABASE shop
--@ DDL | CREATE DATABASE | obj: DATABASE | w: shop-2
CREATE DATABASE IF NOT EXISTS `shop-2` CHARACTER SET utf8mb4
--@ DDL | CREATE DATABASE | obj: DATABASE | w: analytics
CREATE SCHEMA analytics
--@ DDL | CREATE DATABASE | obj: DATABASE | w: shop
CREATE OR REPLACE DATABASE shop
--@ DDL | DROP DATABASE | obj: DATABASE | w: shop
DROP DATABASE shop
--@ DDL | DROP DATABASE | obj: DATABASE | w: analytics
DROP SCHEMA IF EXISTS analytics
--@ DDL | ALTER DATABASE | obj: DATABASE | w: shop
ALTER DATABASE shop CHARACTER SET utf8mb4
--@ DDL | ALTER DATABASE | obj: DATABASE | w: shop
ALTER SCHEMA shop DEFAULT COLLATE utf8mb4_bin

--@ DDL | CREATE TABLE | obj: TABLE | w: users
CREATE TABLE users (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL, UNIQUE KEY uk_name (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
--@ DDL | CREATE TABLE | obj: TABLE | w: shop.items | r: orders
CREATE TABLE IF NOT EXISTS shop.items (id BIGINT UNSIGNED NOT NULL, order_id BIGINT, FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE)
--@ DDL | CREATE TABLE | obj: TABLE | w: tmp_ids
CREATE TEMPORARY TABLE tmp_ids (id INT)
--@ DDL | CREATE TABLE | obj: TABLE | w: orders_copy | r: orders
CREATE TABLE orders_copy LIKE orders
--@ DDL | CREATE TABLE AS | obj: TABLE | w: big_orders | r: orders
CREATE TABLE big_orders AS SELECT * FROM orders WHERE total > 1000
--@ DDL | CREATE TABLE AS | obj: TABLE | w: summary | r: orders
CREATE TABLE summary SELECT customer_id, SUM(total) AS s FROM orders GROUP BY customer_id
--@ DDL | CREATE TABLE | obj: TABLE | w: t
CREATE OR REPLACE TABLE t (a INT)
--@ DDL | CREATE TABLE | obj: TABLE | w: t
CREATE TABLE t (id INT, ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN MAXVALUE)
--@ DDL | CREATE TABLE | obj: TABLE | w: t2
CREATE TABLE t2 (a INT, b INT AS (a * 2) VIRTUAL)
--@ DDL | CREATE TABLE | obj: TABLE | w: t3
CREATE TABLE t3 (a INT) /*!50100 ENGINE=InnoDB */
--@ DDL | DROP TABLE | obj: TABLE | w: users
DROP TABLE users
--@ DDL | DROP TABLE | obj: TABLE | w: a, b, shop.c
DROP TABLE IF EXISTS a, b, shop.c
--@ DDL | DROP TABLE | obj: TABLE | w: tmp_ids
DROP TEMPORARY TABLE IF EXISTS tmp_ids
--@ DDL | ALTER TABLE | obj: TABLE | w: users
ALTER TABLE users ADD COLUMN email VARCHAR(255) AFTER name
--@ DDL | ALTER TABLE | obj: TABLE | w: users
ALTER TABLE users DROP COLUMN email, ADD INDEX idx_name (name)
--@ DDL | ALTER TABLE | obj: TABLE | w: users
ALTER TABLE users MODIFY name VARCHAR(200) NOT NULL
--@ DDL | ALTER TABLE | obj: TABLE | w: users
ALTER TABLE users CHANGE name full_name VARCHAR(200)
--@ DDL | ALTER TABLE | obj: TABLE | w: users, customers
ALTER TABLE users RENAME TO customers
--@ DDL | ALTER TABLE | obj: TABLE | w: orders | r: customers
ALTER TABLE orders ADD CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id)
--@ DDL | ALTER TABLE | obj: TABLE | w: orders
ALTER TABLE orders ENGINE = InnoDB
--@ DDL | ALTER TABLE | obj: TABLE | w: t
ALTER TABLE t ALGORITHM=INPLACE, LOCK=NONE, ADD INDEX (a)
--@ DDL | ALTER TABLE | obj: TABLE | w: orders
ALTER TABLE orders DROP PARTITION p0
--@ DDL | ALTER TABLE | obj: TABLE | w: t
ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT
--@ DDL | ALTER TABLE | obj: TABLE | w: users
ALTER TABLE users DROP INDEX idx_email
--@ DDL | ALTER TABLE | obj: TABLE | w: orders
/*!40000 ALTER TABLE `orders` DISABLE KEYS */
--@ DDL | RENAME TABLE | obj: TABLE | w: a, b, c, d
RENAME TABLE a TO b, c TO d
--@ WRITE | TRUNCATE TABLE | w: logs
TRUNCATE TABLE logs
--@ WRITE | TRUNCATE TABLE | w: logs
TRUNCATE logs

--@ DDL | CREATE INDEX | obj: INDEX | w: users
CREATE INDEX idx_email ON users (email)
--@ DDL | CREATE INDEX | obj: INDEX | w: shop.users
CREATE UNIQUE INDEX uk ON shop.users (email(50))
--@ DDL | CREATE INDEX | obj: INDEX | w: articles
CREATE FULLTEXT INDEX ft ON articles (body)
--@ DDL | DROP INDEX | obj: INDEX | w: users
DROP INDEX idx_email ON users

--@ DDL | CREATE VIEW | obj: VIEW | w: active_users | r: users
CREATE VIEW active_users AS SELECT * FROM users WHERE active = 1
--@ DDL | CREATE VIEW | obj: VIEW | w: v | r: t
CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`admin`@`%` SQL SECURITY DEFINER VIEW v AS SELECT id FROM t
--@ DDL | ALTER VIEW | obj: VIEW | w: v | r: t
ALTER VIEW v AS SELECT id, name FROM t
--@ DDL | DROP VIEW | obj: VIEW | w: v, w
DROP VIEW IF EXISTS v, w

--@ DDL | CREATE PROCEDURE | obj: PROCEDURE | code
CREATE PROCEDURE p_cleanup() BEGIN DELETE FROM sessions WHERE expires_at < NOW(); END
--@ DDL | CREATE PROCEDURE | obj: PROCEDURE | code
CREATE DEFINER=root@localhost PROCEDURE p2(IN x INT, OUT y INT) BEGIN DECLARE i INT DEFAULT 0; WHILE i < x DO SET i = i + 1; END WHILE; SELECT i INTO y; END
--@ DDL | CREATE PROCEDURE | obj: PROCEDURE | code
CREATE PROCEDURE p3() SELECT 1
--@ DDL | CREATE PROCEDURE | obj: PROCEDURE | code
CREATE OR REPLACE PROCEDURE p4() BEGIN SELECT 1; SELECT 2; END
--@ DDL | CREATE FUNCTION | obj: FUNCTION | code
CREATE FUNCTION f_add(a INT, b INT) RETURNS INT DETERMINISTIC RETURN a + b
--@ DDL | CREATE FUNCTION | obj: FUNCTION | code
CREATE FUNCTION f2(x INT) RETURNS VARCHAR(10) DETERMINISTIC BEGIN IF x > 0 THEN RETURN 'pos'; ELSEIF x < 0 THEN RETURN 'neg'; ELSE RETURN 'zero'; END IF; END
--@ DDL | CREATE FUNCTION | obj: FUNCTION | code | unc
CREATE FUNCTION my_udf RETURNS STRING SONAME 'udf_example.so'
--@ DDL | DROP PROCEDURE | obj: PROCEDURE
DROP PROCEDURE IF EXISTS p_cleanup
--@ DDL | DROP FUNCTION | obj: FUNCTION
DROP FUNCTION f_add
--@ DDL | ALTER PROCEDURE | obj: PROCEDURE
ALTER PROCEDURE p_cleanup COMMENT 'x'
--@ DDL | ALTER FUNCTION | obj: FUNCTION
ALTER FUNCTION f_add SQL SECURITY INVOKER

--@ DDL | CREATE TRIGGER | obj: TRIGGER | w: orders | code
CREATE TRIGGER trg_audit AFTER UPDATE ON orders FOR EACH ROW INSERT INTO audit_log (order_id, changed_at) VALUES (NEW.id, NOW())
--@ DDL | CREATE TRIGGER | obj: TRIGGER | w: users | code
CREATE TRIGGER trg_bi BEFORE INSERT ON users FOR EACH ROW BEGIN IF NEW.name IS NULL THEN SET NEW.name = 'anon'; END IF; END
--@ DDL | DROP TRIGGER | obj: TRIGGER
DROP TRIGGER IF EXISTS trg_audit

--@ DDL | CREATE EVENT | obj: EVENT | code
CREATE EVENT ev_purge ON SCHEDULE EVERY 1 DAY DO DELETE FROM sessions WHERE expires_at < NOW()
--@ DDL | CREATE EVENT | obj: EVENT | code
CREATE EVENT ev2 ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL 1 HOUR DO BEGIN UPDATE stats SET n = 0; END
--@ DDL | ALTER EVENT | obj: EVENT
ALTER EVENT ev_purge DISABLE
--@ DDL | ALTER EVENT | obj: EVENT | code
ALTER EVENT ev_purge DO DELETE FROM sessions
--@ DDL | DROP EVENT | obj: EVENT
DROP EVENT ev_purge

--@ DDL | CREATE SEQUENCE | obj: SEQUENCE | w: seq_orders
CREATE SEQUENCE seq_orders START WITH 1 INCREMENT BY 1
--@ DDL | ALTER SEQUENCE | obj: SEQUENCE | w: seq_orders
ALTER SEQUENCE seq_orders RESTART WITH 100
--@ DDL | DROP SEQUENCE | obj: SEQUENCE | w: seq_orders
DROP SEQUENCE IF EXISTS seq_orders
--@ DDL | CREATE SERVER | obj: SERVER
CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'h')
--@ DDL | CREATE TABLESPACE | obj: TABLESPACE
CREATE TABLESPACE ts ADD DATAFILE 'ts.ibd'

--@ DCL | CREATE USER | obj: USER
CREATE USER 'app'@'%' IDENTIFIED BY 'secret'
--@ DCL | CREATE USER | obj: USER
CREATE USER IF NOT EXISTS app2 IDENTIFIED WITH mysql_native_password BY 'x'
--@ DCL | ALTER USER | obj: USER
ALTER USER 'app'@'%' IDENTIFIED BY 'new-secret'
--@ DCL | DROP USER | obj: USER
DROP USER 'app'@'%'
--@ DCL | RENAME USER | obj: USER
RENAME USER 'a'@'%' TO 'b'@'%'
--@ DCL | CREATE ROLE | obj: ROLE
CREATE ROLE 'reader'
--@ DCL | DROP ROLE | obj: ROLE
DROP ROLE reader
--@ DCL | GRANT | w: shop.*
GRANT SELECT, INSERT ON shop.* TO 'app'@'%'
--@ DCL | GRANT | w: *.*
GRANT ALL PRIVILEGES ON *.* TO 'admin'@'localhost' WITH GRANT OPTION
--@ DCL | GRANT | w: shop.orders
GRANT SELECT ON shop.orders TO reader
--@ DCL | GRANT ROLE
GRANT reader TO 'app'@'%'
--@ DCL | REVOKE | w: shop.*
REVOKE INSERT ON shop.* FROM 'app'@'%'
--@ DCL | REVOKE
REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'app'@'%'
--@ DCL | SET PASSWORD
SET PASSWORD FOR 'app'@'%' = 'x'
--@ DCL | SET ROLE | s: role
SET ROLE reader
--@ DCL | SET DEFAULT ROLE
SET DEFAULT ROLE reader FOR 'app'@'%'

--@ UTILITY | SET | s: sql_mode
SET sql_mode = 'ANSI_QUOTES'
--@ UTILITY | SET | s: sql_mode | f: concat
SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')
--@ UTILITY | SET | s: autocommit
SET @@session.autocommit = 0
--@ UTILITY | SET | s: autocommit, @x
SET autocommit = 1, @x = 5
--@ UTILITY | SET | s: global.max_connections
SET GLOBAL max_connections = 500
--@ UTILITY | SET | s: global.general_log
SET @@GLOBAL.general_log = 1
--@ UTILITY | SET | s: persist.max_connections
SET PERSIST max_connections = 500
--@ UTILITY | SET | s: names, character_set_client, character_set_connection, character_set_results, collation_connection
SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci
--@ UTILITY | SET | s: character_set_client, character_set_connection, character_set_results, collation_connection
SET CHARACTER SET latin1
--@ UTILITY | SET | s: @user_var
SET @user_var = 1
--@ UTILITY | SET | s: @a, @b
SET @a := 1, @b := 2
--@ UTILITY | SET | s: transaction_isolation
SET TRANSACTION ISOLATION LEVEL READ COMMITTED
--@ UTILITY | SET | s: transaction_read_only
SET SESSION TRANSACTION READ ONLY
--@ READ | SELECT | r: big
SET STATEMENT max_statement_time = 1 FOR SELECT * FROM big
--@ DDL | DROP TABLE | obj: TABLE | w: t
SET STATEMENT sql_mode = '' FOR DROP TABLE t
--@ UTILITY | SET | s: time_zone
SET time_zone = '+00:00'
--@ UTILITY | SET | s: sql_mode
SET @@sql_mode := 'TRADITIONAL'
--@ UTILITY | SET | s: sql_mode
SET LOCAL sql_mode = ''
--@ UTILITY | SET | s: sql_log_bin
SET sql_log_bin = 0
--@ UTILITY | SET | s: foreign_key_checks
/*!40014 SET FOREIGN_KEY_CHECKS=0 */
--@ UTILITY | SET | s: sql_mode
SET @@session.sql_mode = DEFAULT
--@ UTILITY | SET | s: names, character_set_client, character_set_connection, character_set_results, collation_connection
/*!40101 SET NAMES utf8mb4 */
--@ UTILITY | SET | s: @old_character_set_client
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */

--@ UTILITY | USE
USE shop
--@ UTILITY | USE
USE `my db`
--@ UTILITY | SHOW
SHOW DATABASES
--@ UTILITY | SHOW
SHOW TABLES FROM shop LIKE 'o%'
--@ UTILITY | SHOW
SHOW FULL COLUMNS FROM orders
--@ UTILITY | SHOW
SHOW CREATE TABLE orders
--@ UTILITY | SHOW
SHOW GRANTS FOR 'app'@'%'
--@ UTILITY | SHOW
SHOW VARIABLES LIKE 'sql_mode'
--@ UTILITY | SHOW
SHOW GLOBAL STATUS
--@ UTILITY | SHOW
SHOW PROCESSLIST
--@ UTILITY | SHOW
SHOW ENGINE INNODB STATUS
--@ UTILITY | SHOW
SHOW BINARY LOGS
--@ UTILITY | SHOW
SHOW WARNINGS
--@ UTILITY | SHOW
SHOW INDEX FROM orders
--@ UTILITY | DESCRIBE | r: orders
DESCRIBE orders
--@ UTILITY | DESCRIBE | r: shop.orders
DESC shop.orders
--@ UTILITY | EXPLAIN | r: orders
EXPLAIN SELECT * FROM orders WHERE id = 1
--@ UTILITY | EXPLAIN | r: orders
EXPLAIN FORMAT=JSON DELETE FROM orders WHERE id = 1
--@ UTILITY | EXPLAIN | r: orders
EXPLAIN ANALYZE SELECT * FROM orders
--@ UTILITY | ANALYZE TABLE | r: orders
ANALYZE TABLE orders
--@ UTILITY | OPTIMIZE TABLE | r: orders
OPTIMIZE TABLE orders
--@ UTILITY | CHECK TABLE | r: orders
CHECK TABLE orders
--@ UTILITY | REPAIR TABLE | r: orders
REPAIR TABLE orders
--@ UTILITY | CHECKSUM TABLE | r: orders
CHECKSUM TABLE orders

--@ TRANSACTION | START TRANSACTION
START TRANSACTION
--@ TRANSACTION | START TRANSACTION
START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT
--@ TRANSACTION | BEGIN
BEGIN
--@ TRANSACTION | BEGIN
BEGIN WORK
--@ TRANSACTION | COMMIT
COMMIT
--@ TRANSACTION | COMMIT
COMMIT WORK AND NO CHAIN
--@ TRANSACTION | ROLLBACK
ROLLBACK
--@ TRANSACTION | ROLLBACK
ROLLBACK TO SAVEPOINT sp1
--@ TRANSACTION | SAVEPOINT
SAVEPOINT sp1
--@ TRANSACTION | RELEASE
RELEASE SAVEPOINT sp1
--@ TRANSACTION | XA
XA START 'xid1'
--@ TRANSACTION | XA
XA END 'xid1'
--@ TRANSACTION | XA
XA PREPARE 'xid1'
--@ TRANSACTION | XA
XA COMMIT 'xid1'
--@ TRANSACTION | XA
XA ROLLBACK 'xid1'
--@ TRANSACTION | XA
XA RECOVER

--@ READ | PREPARE | r: orders
PREPARE stmt1 FROM 'SELECT * FROM orders WHERE id = ?'
--@ WRITE | PREPARE | w: orders
PREPARE stmt2 FROM 'DELETE FROM orders WHERE id = ?'
--@ UNKNOWN | PREPARE | code | unc
PREPARE stmt3 FROM @sql
--@ UNKNOWN | EXECUTE | code | unc
EXECUTE stmt1 USING @id
--@ UTILITY | DEALLOCATE
DEALLOCATE PREPARE stmt1
--@ UTILITY | DEALLOCATE
DROP PREPARE stmt2
--@ DDL | DROP TABLE | obj: TABLE | w: t
EXECUTE IMMEDIATE 'DROP TABLE t'
--@ UNKNOWN | EXECUTE IMMEDIATE | code | unc
EXECUTE IMMEDIATE CONCAT('DROP TABLE ', 't')

--@ PROCEDURAL | CALL | f: p_cleanup | code | unc
CALL p_cleanup()
--@ PROCEDURAL | CALL | f: shop.p_report | code | unc
CALL shop.p_report(2024, @out)
--@ PROCEDURAL | CALL | f: p_noargs | code | unc
CALL p_noargs
--@ READ | DO | f: sleep
DO SLEEP(1)
--@ READ | DO | f: release_lock
DO RELEASE_LOCK('x')
--@ READ | DO | f: my_proc_fn | code | unc
DO my_proc_fn(1)
--@ UNPARSEABLE
BEGIN NOT ATOMIC DECLARE x INT DEFAULT 1; SELECT x FROM orders; END
--@ UNPARSEABLE
IF (SELECT 1) > 0 THEN SELECT 'yes'; END IF

--@ READ | HANDLER | r: orders
HANDLER orders OPEN
--@ READ | HANDLER | r: orders
HANDLER orders READ FIRST
--@ READ | HANDLER | r: orders
HANDLER orders CLOSE

--@ UTILITY | LOCK TABLES | r: orders, customers
LOCK TABLES orders READ, customers WRITE
--@ UTILITY | LOCK TABLES | r: orders
LOCK TABLE orders AS o READ LOCAL
--@ UTILITY | UNLOCK TABLES
UNLOCK TABLES
--@ UTILITY | FLUSH
FLUSH TABLES WITH READ LOCK
--@ UTILITY | FLUSH
FLUSH PRIVILEGES
--@ UTILITY | FLUSH
FLUSH LOGS
--@ UTILITY | KILL
KILL 42
--@ UTILITY | KILL
KILL QUERY 42
--@ UTILITY | RESET
RESET MASTER
--@ UTILITY | PURGE BINARY LOGS
PURGE BINARY LOGS BEFORE '2024-01-01 00:00:00'
--@ UTILITY | INSTALL PLUGIN | code | unc
INSTALL PLUGIN auth_pam SONAME 'auth_pam.so'
--@ UTILITY | INSTALL SONAME | code | unc
INSTALL SONAME 'ha_connect'
--@ UTILITY | UNINSTALL PLUGIN
UNINSTALL PLUGIN auth_pam
--@ UTILITY | BINLOG | code | unc
BINLOG 'AAAAAAAAAAAAAAAAAAAA'
--@ UTILITY | SHUTDOWN
SHUTDOWN
--@ UTILITY | CHANGE MASTER
CHANGE MASTER TO MASTER_HOST = 'h'
--@ UTILITY | START SLAVE
START SLAVE
--@ UTILITY | STOP REPLICA
STOP REPLICA
--@ UTILITY | HELP
HELP 'SELECT'
--@ UTILITY | SIGNAL
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'x'

--@ READ | SELECT
SELECT 1 -- comment
--@ READ | SELECT
SELECT 1 # hash comment
--@ READ | SELECT | r: t
/* leading */ SELECT * FROM t /* trailing */
--@ READ | SELECT | r: a, b
SELECT /*! STRAIGHT_JOIN */ a.x FROM a JOIN b ON a.id = b.id
--@ DDL | DROP DATABASE | obj: DATABASE | w: x
/*!DROP DATABASE x*/
--@ DDL | DROP TABLE | obj: TABLE | w: t
/*M!100000 DROP TABLE t */
--@ UTILITY | LOCK TABLES | r: orders
LOCK TABLES `orders` WRITE
--@ WRITE | INSERT | w: orders
INSERT INTO `orders` VALUES (1,'a',NULL),(2,'b','2024-01-01 00:00:00')
