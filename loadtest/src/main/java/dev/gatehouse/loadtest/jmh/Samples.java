package dev.gatehouse.loadtest.jmh;

import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The inputs the benchmarks share: SQL as real clients send it, and the identities and connection around it. */
final class Samples {
    private Samples() {
    }

    /** pgbench -S, simple query mode. */
    static final String SIMPLE_SELECT = "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;";

    /** The UPDATE of pgbench's built-in tpcb-like and simple-update scripts, simple query mode. */
    static final String PGBENCH_UPDATE = "UPDATE pgbench_accounts SET abalance = abalance + -3312 WHERE aid = 48213;";

    /** What psql 15 sends for {@code \d pgbench_accounts} (the column query of describeOneTableDetails). */
    static final String PSQL_DESCRIBE = """
            SELECT a.attname,
              pg_catalog.format_type(a.atttypid, a.atttypmod),
              (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
               FROM pg_catalog.pg_attrdef d
               WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
              a.attnotnull,
              (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
               WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
              a.attidentity,
              a.attgenerated
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = '16397' AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum;""";

    /** A reporting query: a join, a subquery with another join, ordering and a limit. */
    static final String JOIN_WITH_SUBQUERY = """
            SELECT o.id, o.total, o.created_at, c.email
            FROM orders o
            JOIN customers c ON c.id = o.customer_id
            WHERE o.created_at > now() - interval '1 day'
              AND o.customer_id IN (SELECT oi.customer_id FROM order_items oi
                                    JOIN products p ON p.id = oi.product_id
                                    WHERE p.sku LIKE 'GIFT-%')
            ORDER BY o.created_at DESC
            LIMIT 50""";

    /** An application's INSERT, extended protocol (three parameters). */
    static final String INSERT_RETURNING =
            "INSERT INTO orders (customer_id, status, total, created_at) VALUES ($1, $2, $3, now()) RETURNING id";

    /** The classic accident: an UPDATE without WHERE. */
    static final String UPDATE_WITHOUT_WHERE = "UPDATE orders SET status = 'archived'";

    /** A migration's DDL. */
    static final String ALTER_TABLE = "ALTER TABLE orders ADD COLUMN shipped_at timestamptz";

    /** What psql 15 sends for {@code \dt+}: the largest catalog query an interactive user sends all day. */
    static final String PSQL_LIST_TABLES = """
            SELECT n.nspname as "Schema",
              c.relname as "Name",
              CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' \
            WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' \
            WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
              pg_catalog.pg_get_userbyid(c.relowner) as "Owner",
              CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 't' THEN 'temporary' WHEN 'u' THEN 'unlogged' END as "Persistence",
              am.amname as "Access method",
              pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) as "Size",
              pg_catalog.obj_description(c.oid, 'pg_class') as "Description"
            FROM pg_catalog.pg_class c
                 LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
            WHERE c.relkind IN ('r','p','')
                  AND n.nspname <> 'pg_catalog'
                  AND n.nspname !~ '^pg_toast'
                  AND n.nspname <> 'information_schema'
              AND pg_catalog.pg_table_is_visible(c.oid)
            ORDER BY 1,2;""";

    /** A developer of the payments team, signed in with MFA. */
    static Identity developer() {
        return new Identity("alice", "https://keycloak.example.com/realms/gatehouse", List.of("payments", "developers"),
                List.of(), Map.of("sub", "alice", "aud", List.of("gatehouse"), "groups", List.of("payments", "developers"),
                        "email", "alice@corp.example", "email_verified", true, "amr", List.of("pwd", "mfa"),
                        "iat", 1_772_000_000L, "exp", 1_772_001_800L), null);
    }

    /** A production connection of the payments team. */
    static ConnectionRef ordersProd() {
        return new ConnectionRef("orders-prod", "postgres", "orders-db.internal:5432/orders",
                Map.of("env", "prod", "team", "payments"));
    }

    /** A person in the dba group, as a dev-issuer token describes one. */
    static Identity dba() {
        return new Identity("alice", "http://127.0.0.1:18080/dev-issuer", List.of("dba"), List.of(),
                Map.of("sub", "alice", "aud", List.of("gatehouse"), "groups", List.of("dba"), "email", "alice@corp.example",
                        "iat", 1_772_000_000L, "exp", 1_772_001_800L), null);
    }

    /** A CI job with its provenance, the identity the example policy has most to say about. */
    static Identity ci() {
        return new Identity("repo:acme/shop:ref:refs/heads/main", "https://token.actions.githubusercontent.com",
                List.of("ci"), List.of("deployer"),
                Map.of("sub", "repo:acme/shop:ref:refs/heads/main", "repository", "acme/shop", "ref", "refs/heads/main",
                        "sha", "0f3c9a1e5b7d2c4a6e8f0b1d3c5e7a9b2d4f6a8c", "run_id", "9123456789"),
                new CiProvenance("github-actions", "acme/shop", "123456789", "0f3c9a1e5b7d2c4a6e8f0b1d3c5e7a9b2d4f6a8c",
                        "refs/heads/main", "deploy", "9123456789", "migrate"));
    }

    static ConnectionRef demo() {
        return new ConnectionRef("demo", "postgres", "127.0.0.1:15433/demo", Map.of("env", "demo"));
    }

    static SqlCommand command(String sql, SqlCommand.Form form, List<String> parameters, SqlAnalysis analysis) {
        return new SqlCommand(new CommandId("5b0e7f3c-2d7e-4a51-9c1f-6f2b8a4d9e10"),
                new SessionId("8d2f6a1c-4e3b-4f7a-a2d9-1c5e7b3f9a20"), 42, Instant.parse("2026-03-01T12:34:56.123456Z"),
                form, sql, parameters, analysis);
    }
}
