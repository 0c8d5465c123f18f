package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DevEnvironment;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Result masking through the edge, driven by a real policy ({@code action: mask}) and real
 * clients: psql (text), pgjdbc in simple (text) and extended binary mode, COPY, and what the
 * audit log records (counts, never the values).
 */
class MaskingIT {

    private static final String POLICY = """
            id: masking-it
            version: v1
            default: allow
            rules:
              - id: mask-people
                when: 'command.tables_read.exists(t, t == "people" || t == "public.people")'
                action: mask
                mask: {profile: pii-it}
                reason: personal data is masked
              - id: mask-notes
                when: 'command.tables_read.exists(t, t == "people_notes" || t == "public.people_notes")'
                action: mask
                mask: {profile: pii-copy}
                reason: notes are scanned
            """;

    private static final String PROFILES = """
            profiles:
              - name: pii-it
                columns:
                  - column: public.people.email
                    method: hmac
                  - column: "*.ssn"
                    method: {keep_last: 4}
                  - column: "*.*.card_number"
                    method: redact
                  - column: public.people.birth_date
                    method: redact
                detectors:
                  - {detector: email, method: redact}
                  - {detector: phone, method: {keep_last: 2}}
                  - {detector: payment_card, method: {keep_last: 4}}
                  - {detector: iban, method: {replace: "IBAN-MASKED"}}
                  - {detector: us_ssn, method: redact}
                  - {detector: ipv4, method: redact}
                  - {detector: ipv6, method: redact}
                  - {detector: jwt, method: redact}
                  - {detector: aws_access_key, method: redact}
                  - {detector: pem_private_key, method: redact}
                  - {detector: regex, name: employee_id, pattern: 'EMP-[0-9]{6}', method: {replace: EMP-XXXXXX}}
              - name: pii-copy
                copy: mask
                detectors:
                  - {detector: email, method: redact}
                  - {detector: us_ssn, method: "null"}
            """;

    private static final String JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtYXNraW5nLWl0In0.c2lnbmF0dXJlLWJ5dGVz";
    private static final String PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";

    /** Every sensitive original; none may reach a client unmasked or the audit log at all. */
    private static final List<String> SECRETS = List.of("alice@example.com", "bob@example.com", "123-45-6789", "234-56-7890",
            "345-67-8901", "4111 1111 1111 1111", "5555 5555 5555 4444", "alice.private@example.org", "+1 415 555 2671",
            "GB82 WEST 1234 5698 7654 32", "5555555555554444", "192.168.10.20", "2001:db8::7", JWT, "AKIAIOSFODNN7EXAMPLE",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "456-78-9012", "EMP-004211", "1990-02-03", "carol.notes@example.net", "567-89-0123");

    private static final String QUERY = "SELECT id, name, email, ssn, card_number, birth_date, note, profile, amount"
            + " FROM public.people ORDER BY id";

    private static DevEnvironment env;
    private static Path dir;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("gatehouse-masking-it-");
        Path policy = Files.writeString(dir.resolve("masking-policy.yaml"), POLICY);
        env = new DevEnvironment(new DevEnvironment.Settings(dir, 0, 0, 0, 0, 0, policy)).start();
        env.runtime().edge().useMasking(MaskingProfiles.parse(PROFILES, () -> HmacKey.of("masking-it-hmac-key-0001")));
        try (Connection direct = direct(); Statement s = direct.createStatement()) {
            s.execute("""
                    CREATE TABLE public.people(id int PRIMARY KEY, name text, email text, ssn varchar(11), card_number text,
                        birth_date date, note text, profile jsonb, amount numeric);
                    INSERT INTO public.people VALUES
                      (1, 'Alice Example', 'alice@example.com', '123-45-6789', '4111 1111 1111 1111', '1990-02-03',
                       'call +1 415 555 2671 or alice.private@example.org; IBAN GB82 WEST 1234 5698 7654 32; card 5555555555554444',
                       '{"ip": "192.168.10.20", "ipv6": "2001:db8::7"}', 12.50),
                      (2, 'Bob Example', 'bob@example.com', '234-56-7890', '5555 5555 5555 4444', NULL,
                       'token %s and key AKIAIOSFODNN7EXAMPLE', '{"plain": true}', 7),
                      (3, 'Carol Example', 'alice@example.com', '345-67-8901', NULL, NULL,
                       E'%s\\nssn 456-78-9012, badge EMP-004211', NULL, NULL);
                    CREATE TABLE public.people_notes(id int, note text);
                    INSERT INTO public.people_notes VALUES (1, 'write carol.notes@example.net'), (2, 'ssn 567-89-0123'), (3, 'nothing');
                    GRANT SELECT ON public.people, public.people_notes TO PUBLIC;
                    """.formatted(JWT, PEM.replace("\n", "\\n")));
        }
    }

    @AfterAll
    static void stop() {
        if (env != null) env.close();
    }

    @Test
    void pgjdbcSimpleQueryTextFormat() throws Exception {
        // Given a session in simple-query mode (every value in text format)
        try (Connection c = edge("preferQueryMode=simple")) {
            // When
            List<Map<String, String>> rows = select(c, QUERY);

            // Then
            assertMasked(rows);
        }
    }

    @Test
    void pgjdbcExtendedBinaryFormat() throws Exception {
        // Given server-prepared statements from the first execution, with binary transfer
        try (Connection c = edge("prepareThreshold=-1&binaryTransfer=true")) {
            // When the same statement runs several times (later executions reuse the described statement)
            List<Map<String, String>> first = select(c, QUERY);
            List<Map<String, String>> again = select(c, QUERY);
            List<Map<String, String>> third = select(c, QUERY);

            // Then every execution is masked alike
            assertMasked(first);
            assertThat(again).isEqualTo(first);
            assertThat(third).isEqualTo(first);
        }
    }

    @Test
    void expressionColumnsOfARelationWithMaskedColumnsAreMaskedWhole() throws Exception {
        // Given computed columns over a table with masked columns (no table column behind them)
        try (Connection c = edge("prepareThreshold=-1&binaryTransfer=true")) {
            // When
            List<Map<String, String>> rows = select(c, "SELECT 'mail ' || email AS contact, upper(name) AS n,"
                    + " reverse(ssn) AS r, profile->>'plain' AS plain FROM public.people ORDER BY id");

            // Then every one is masked, whatever it derives from: none is provably from an unmasked column
            assertThat(rows.get(0)).containsEntry("contact", "[REDACTED]").containsEntry("n", "[REDACTED]")
                    .containsEntry("r", "[REDACTED]").containsEntry("plain", "[REDACTED]");
        }
    }

    @Test
    void expressionColumnsOfOtherRelationsAreScannedByDetectors() throws Exception {
        // Given a computed column over a table without masked columns
        try (Connection c = edge("prepareThreshold=-1&binaryTransfer=true")) {
            // When
            List<Map<String, String>> rows = select(c, "SELECT 'note: ' || note AS n FROM public.people_notes ORDER BY id");

            // Then the detectors still mask what they find in it, and leave the rest
            assertThat(rows.get(0)).containsEntry("n", "note: write [REDACTED]");
            assertThat(rows.get(2)).containsEntry("n", "note: nothing");
        }
    }

    @Test
    void unmaskedColumnsAreByteIdenticalToADirectQuery() throws Exception {
        // Given table columns no rule and no detector touches
        String sql = "SELECT id, name, amount FROM public.people ORDER BY id";

        // When
        List<Map<String, String>> direct;
        try (Connection c = direct()) {
            direct = select(c, sql);
        }
        List<Map<String, String>> text;
        List<Map<String, String>> binary;
        try (Connection c = edge("preferQueryMode=simple")) {
            text = select(c, sql);
        }
        try (Connection c = edge("prepareThreshold=-1&binaryTransfer=true")) {
            binary = select(c, sql);
        }

        // Then
        assertThat(text).isEqualTo(direct);
        assertThat(binary).isEqualTo(direct);
    }

    @Test
    void copyIsRefusedUnderAProfileThatDoesNotAllowIt() throws Exception {
        // Given
        try (Connection c = edge("")) {
            // When / Then
            assertThatThrownBy(() -> copyOut(c, "COPY public.people TO STDOUT"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("COPY TO is refused")
                    .hasMessageContaining("pii-it");
            // and the session goes on
            assertThat(select(c, "SELECT 1 AS one")).containsExactly(Map.of("one", "1"));
        }
    }

    @Test
    void copyIsMaskedUnderAProfileThatAllowsIt() throws Exception {
        // Given
        try (Connection c = edge("")) {
            // When
            String out = copyOut(c, "COPY public.people_notes TO STDOUT");

            // Then
            assertThat(out).isEqualTo("1\twrite [REDACTED]\n2\t\\N\n3\tnothing\n");
        }
    }

    @Test
    void theAuditLogCountsMaskedValuesAndHoldsNoneOfThem() throws Exception {
        // Given a masked command
        try (Connection c = edge("preferQueryMode=simple")) {
            select(c, QUERY + " /* audit-probe */");
        }

        // When its completion is in the log
        AuditEvent.Masking masking = await().atMost(Duration.ofSeconds(30)).until(() -> completionOf("audit-probe"), m -> m != null);

        // Then it says which columns and detectors masked how many values
        assertThat(masking.profile()).isEqualTo("pii-it");
        assertThat(masking.columns()).containsEntry("public.people.email", 3L).containsEntry("public.people.ssn", 3L)
                .containsEntry("public.people.card_number", 2L).containsEntry("public.people.birth_date", 1L);
        assertThat(masking.detectors()).containsKeys("email", "phone", "iban", "payment_card", "ipv4", "ipv6", "jwt",
                "aws_access_key", "pem_private_key", "us_ssn", "employee_id");
        // and the raw bytes of the whole topic hold none of the original values
        RawAuditLog raw = RawAuditLog.read(env.kafka().bootstrapServers());
        for (String secret : SECRETS) {
            assertThat(raw.contains(secret)).as("audit log holds %s", secret).isFalse();
        }
    }

    // ------------------------------------------------------------------ checks

    private static void assertMasked(List<Map<String, String>> rows) {
        assertThat(rows).hasSize(3);
        Map<String, String> alice = rows.get(0);
        Map<String, String> bob = rows.get(1);
        Map<String, String> carol = rows.get(2);
        assertThat(alice.get("email")).matches("[0-9a-f]{16}").isEqualTo(carol.get("email")).isNotEqualTo(bob.get("email"));
        assertThat(alice.get("ssn")).isEqualTo("***-**-6789");
        assertThat(alice.get("card_number")).isEqualTo("[REDACTED]");
        assertThat(carol.get("card_number")).isNull();
        assertThat(alice.get("birth_date")).as("a column rule on a date yields NULL").isNull();
        assertThat(alice.get("note")).isEqualTo(
                "call +* *** *** **71 or [REDACTED]; IBAN IBAN-MASKED; card ************4444");
        assertThat(bob.get("note")).isEqualTo("token [REDACTED] and key [REDACTED]");
        assertThat(carol.get("note")).isEqualTo("[REDACTED]\nssn [REDACTED], badge EMP-XXXXXX");
        assertThat(alice.get("profile")).isEqualTo("{\"ip\": \"[REDACTED]\", \"ipv6\": \"[REDACTED]\"}");
        assertThat(alice.get("name")).isEqualTo("Alice Example");
        assertThat(alice.get("amount")).isEqualTo("12.50");
        assertThat(rows.toString()).doesNotContain(SECRETS);
    }

    private static AuditEvent.Masking completionOf(String marker) {
        AuditEventCodec codec = new AuditEventCodec();
        List<AuditEvent> events = new ArrayList<>();
        try (AuditTail tail = new AuditTail(env.kafka().bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(30),
                EventSerde.of(codec::encode, codec::decode))) {
            tail.read(null, false, events::add);
        }
        var commandId = events.stream().filter(AuditEvent.CommandReceived.class::isInstance).map(AuditEvent.CommandReceived.class::cast)
                .filter(e -> e.command().sql().contains(marker)).map(e -> e.command().id()).findFirst();
        return commandId.flatMap(id -> events.stream().filter(AuditEvent.CommandCompleted.class::isInstance)
                .map(AuditEvent.CommandCompleted.class::cast).filter(e -> id.equals(e.commandId()))
                .filter(e -> e.outcome() != null && e.outcome().masking() != null)
                .map(e -> e.outcome().masking()).findFirst()).orElse(null);
    }


    // ------------------------------------------------------------------ clients

    private static Connection direct() throws SQLException {
        return DriverManager.getConnection(env.target().superuserJdbcUrl("demo"));
    }

    private static String token() {
        return env.issuer().issue("masking-it", List.of("analysts"), Duration.ofMinutes(30), Map.of());
    }

    private static Connection edge(String options) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + env.runtime().edgePort()
                + "/demo?sslmode=disable&connectTimeout=30&socketTimeout=60" + (options.isEmpty() ? "" : "&" + options),
                "masking-it", token());
    }

    /** Rows as column label to text (binary values come back through pgjdbc's getString). */
    private static List<Map<String, String>> select(Connection c, String sql) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, String> row = new java.util.LinkedHashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) row.put(md.getColumnLabel(i), rs.getString(i));
                rows.add(row);
            }
        }
        return rows;
    }

    private static String copyOut(Connection c, String sql) throws Exception {
        StringWriter out = new StringWriter();
        c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
        return out.toString();
    }

    private static String psql(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("psql", "-X", "-h", "127.0.0.1", "-p", String.valueOf(env.runtime().edgePort()),
                "-U", "masking-it", "-d", "demo"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(false);
        pb.environment().put("PGPASSWORD", token());
        pb.environment().put("PGSSLMODE", "disable");
        pb.environment().put("PGCONNECT_TIMEOUT", "30");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        byte[] err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("psql failed: %s", new String(err, StandardCharsets.UTF_8)).isZero();
        return out;
    }
}
