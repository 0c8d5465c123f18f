package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.dev.DevEnvironment;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfiles;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A wide-row SELECT three ways: straight to the demo target, through the edge without masking,
 * and through the edge under a {@code mask} decision with a profile of column rules and every
 * value detector. Starts a {@code gatehouse dev} environment on free ports, fills a table of
 * synthetic personal data (20 columns), reads it whole repeatedly with pgjdbc in each mode and
 * prints rows/s and MB/s of result text. Not a test: it asserts nothing.
 *
 * <p>{@code ./mvnw -q -pl loadtest -am package -DskipTests -Pmasked-select} (options:
 * {@code -Dloadtest.rows=20000 -Dloadtest.rounds=10}).
 */
public final class MaskedSelectComparison {

    private static final String POLICY = """
            id: masked-select
            version: "1"
            default: allow
            rules:
              - id: mask-wide-people
                scope: {subjects: [masked]}
                when: '"wide_people" in command.tables_read'
                action: mask
                mask: {profile: pii}
                reason: personal data is masked
            """;

    private static final String PROFILES = """
            profiles:
              - name: pii
                columns:
                  - {column: public.wide_people.email, method: hmac}
                  - {column: "*.ssn", method: {keep_last: 4}}
                  - {column: "*.*.card_number", method: redact}
                detectors:
                  - {detector: email, method: redact}
                  - {detector: phone, method: {keep_last: 2}}
                  - {detector: payment_card, method: {keep_last: 4}}
                  - {detector: iban, method: redact}
                  - {detector: us_ssn, method: redact}
                  - {detector: ipv4, method: redact}
                  - {detector: ipv6, method: redact}
                  - {detector: jwt, method: redact}
                  - {detector: aws_access_key, method: redact}
                  - {detector: pem_private_key, method: redact}
            """;

    private MaskedSelectComparison() {
    }

    public static void main(String[] args) throws Exception {
        int rows = Integer.getInteger("loadtest.rows", 20_000);
        int rounds = Integer.getInteger("loadtest.rounds", 10);
        Path dir = Files.createTempDirectory("gatehouse-masked-select-");
        Path policy = Files.writeString(dir.resolve("policy.yaml"), POLICY);
        int status = 0;
        try (DevEnvironment env = new DevEnvironment(new DevEnvironment.Settings(dir, 0, 0, 0, 0, 0, policy)).start()) {
            env.runtime().edge().useMasking(MaskingProfiles.parse(PROFILES, () -> HmacKey.of("masked-select-hmac-key-01")));
            try (Connection direct = DriverManager.getConnection(env.target().superuserJdbcUrl("demo"));
                 Statement s = direct.createStatement()) {
                s.execute("DROP TABLE IF EXISTS wide_people");
                s.execute("""
                        CREATE TABLE wide_people AS
                        SELECT g AS id, 'Person ' || g AS name, 'person' || g || '@example.com' AS email,
                               lpad((g % 899 + 100)::text, 3, '0') || '-45-' || lpad((g % 9999)::text, 4, '0') AS ssn,
                               '4111 1111 1111 1111' AS card_number, '+1 415 555 ' || lpad((g % 9999)::text, 4, '0') AS phone,
                               'GB82 WEST 1234 5698 7654 32' AS iban, '10.0.' || (g % 255) || '.' || (g % 253) AS ip,
                               'order ' || g || ' shipped to the usual address, no remarks' AS note,
                               md5(g::text) AS c1, md5((g + 1)::text) AS c2, md5((g + 2)::text) AS c3,
                               'plain text column with nothing to find ' || g AS c4, now()::text AS c5,
                               (g * 3)::text AS c6, 'city ' || (g % 100) AS c7, 'country ' || (g % 20) AS c8,
                               repeat('x', 40) AS c9, 'status ok' AS c10, g * 1.5 AS amount
                        FROM generate_series(1, ROWS) g""".replace("ROWS", Integer.toString(rows)));
                s.execute("GRANT SELECT ON wide_people TO PUBLIC");
            }
            String base = "jdbc:postgresql://127.0.0.1:" + env.runtime().edgePort() + "/demo?sslmode=disable";
            System.out.printf(Locale.ROOT, "%n| mode | rows/s | MB/s of result text | ms per SELECT of %d rows |%n|---|---|---|---|%n", rows);
            measure("direct to the target", () -> DriverManager.getConnection(env.target().superuserJdbcUrl("demo")), rounds);
            measure("through the edge, no masking", () -> DriverManager.getConnection(base, "plain",
                    env.issuer().issue("plain", List.of("dba"), Duration.ofHours(1), Map.of())), rounds);
            measure("through the edge, masked (3 column rules, 10 detectors)", () -> DriverManager.getConnection(base, "masked",
                    env.issuer().issue("masked", List.of("dba"), Duration.ofHours(1), Map.of())), rounds);
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    interface Connector {
        Connection connect() throws SQLException;
    }

    private static void measure(String mode, Connector connector, int rounds) throws SQLException {
        try (Connection c = connector.connect(); Statement s = c.createStatement()) {
            read(s); // warm up: JIT, catalog snapshot
            long rows = 0;
            long chars = 0;
            long start = System.nanoTime();
            for (int i = 0; i < rounds; i++) {
                long[] r = read(s);
                rows += r[0];
                chars += r[1];
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.1f | %.0f |%n", mode, rows / seconds, chars / seconds / 1e6,
                    seconds * 1000 / rounds);
        }
    }

    private static long[] read(Statement s) throws SQLException {
        long rows = 0;
        long chars = 0;
        try (ResultSet rs = s.executeQuery("SELECT * FROM wide_people")) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                rows++;
                for (int i = 1; i <= columns; i++) {
                    String v = rs.getString(i);
                    if (v != null) chars += v.length();
                }
            }
        }
        return new long[] {rows, chars};
    }
}
