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
