package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.masking.ColumnName;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfile;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ResourceLeakDetector;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs statements that transform a masked column (whole rows, arrays, bytea, JSON, string
 * functions, views, cursors, a suspended portal, errors and notices that echo a value) against a
 * real PostgreSQL 15, through a {@link ResultMasker} fed by the target's own frames, and checks that
 * no form of a social security number reaches the bytes relayed, while the same statement relayed
 * unmasked does carry one (so the check can fail).
 */
class ResultMaskerPostgresTest {

    private static final List<String> SSNS = List.of("123-45-6789", "987-65-4321");
    private static final MaskingProfile PROFILE = MaskingProfiles.parse("""
            profiles:
              - name: ssn-only
                columns:
                  - column: "*.ssn"
                    method: {keep_last: 4}
            """, () -> HmacKey.of("result-masker-postgres-test")).find("ssn-only").orElseThrow();

    private static EmbeddedPostgres postgres;
    private static Vertx vertx;
    /** Held for the whole class: Vert.x closes a client (and its connections) once it is unreachable. */
    private static NetClient netClient;
    private static Upstream upstream;
    private static Catalog catalog;
    private static boolean maskDerived;
    private static volatile Run current;

    /** The target's relations as the edge's catalog names them: columns by OID and attnum, views and materialized views. */
    private record Catalog(Map<Long, ColumnName> columns, Set<Integer> derivedRelations) implements ResultMasker.Columns {
        @Override
        public Optional<ColumnName> name(int tableOid, int attnum) {
            return Optional.ofNullable(columns.get(columnKey(tableOid, attnum)));
        }

        @Override
        public boolean derived(int tableOid) {
            return derivedRelations.contains(tableOid);
        }
    }

    /** One command's answer as relayed to the client: its bytes and frame types. */
    private static final class Run {
        final ResultMasker masker;
        final char end;
        final ByteArrayOutputStream relayed = new ByteArrayOutputStream();
        final StringBuilder types = new StringBuilder();
        final CompletableFuture<Run> done = new CompletableFuture<>();

        Run(ResultMasker masker, char end) {
            this.masker = masker;
            this.end = end;
        }

        String text() {
            return relayed.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        postgres = EmbeddedPostgres.builder().start();
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, ssn text NOT NULL)");
            s.execute("INSERT INTO customers VALUES (1, 'Ann', '123-45-6789'), (2, 'Bob', '987-65-4321')");
            s.execute("CREATE VIEW customer_cards AS SELECT id, name, reverse(ssn) AS ssn FROM customers");
            s.execute("CREATE MATERIALIZED VIEW customer_ids AS SELECT id, upper(ssn) AS tax_id FROM customers");
            s.execute("ANALYZE customers");
            catalog = readCatalog(c);
            List<String> columns = new ArrayList<>();
            try (ResultSet r = s.executeQuery("SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0")) {
                while (r.next()) columns.add(r.getString(1));
            }
            maskDerived = PROFILE.masksAnyColumnOf("public", "customers", columns);
        }
        vertx = Vertx.vertx();
        netClient = vertx.createNetClient();
        upstream = new Upstream(new Upstream.Listener() {
            @Override
            public void onUpstreamFrame(BackendFrame frame) {
                relay(frame);
            }

            @Override
            public void onUpstreamReadComplete() {
            }

            @Override
            public void onUpstreamClosed(Throwable cause) {
                Run run = current;
                if (run != null) run.done.completeExceptionally(new IllegalStateException("the target closed the connection"));
            }
        }, new TargetConnection("masking-test", "localhost", postgres.getPort(), "postgres", "postgres", "",
                false, null, null, null), Map.of("application_name", "result-masker-test"));
        upstream.connect(netClient).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (upstream != null) upstream.close();
        if (vertx != null) vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        if (postgres != null) postgres.close();
    }

    static List<String> statements() {
        return List.of(
                "SELECT ssn FROM customers",
                "SELECT c FROM customers c",
                "SELECT row_to_json(c) FROM customers c",
                "SELECT to_jsonb(c) FROM customers c",
                "SELECT json_build_object('ssn', ssn) FROM customers",
                "SELECT array_agg(ssn) FROM customers",
                "SELECT ARRAY[ssn] FROM customers",
                "SELECT ssn::bytea FROM customers",
                "SELECT convert_to(ssn, 'UTF8') FROM customers",
                "SELECT encode(convert_to(ssn, 'UTF8'), 'base64') FROM customers",
                "SELECT encode(ssn::bytea, 'hex') FROM customers",
                "SELECT upper(ssn), substr(ssn, 1, 11), reverse(ssn), ssn || '', replace(ssn, '-', '') FROM customers",
                "SELECT string_agg(ssn, ',') FROM customers",
                "SELECT * FROM customer_cards",
                "SELECT * FROM customer_ids",
                "WITH x AS (SELECT upper(ssn) AS u FROM customers) SELECT u FROM x",
                "SELECT s.ssn FROM (SELECT ssn FROM customers) s",
                "SELECT ssn::int FROM customers",
                "DO $$ BEGIN RAISE NOTICE 'found %', (SELECT ssn FROM customers WHERE id = 1); END $$");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("statements")
    void noFormOfAMaskedValueSurvivesASimpleQuery(String sql) throws Exception {
        // Given the statement relayed unmasked carries a social security number
        Run raw = run(null, 'Z', List.of(new FrontendMessage.Query(sql)));

        // When it is relayed through a masker, in text format
        Run masked = run(masker(), 'Z', List.of(new FrontendMessage.Query(sql)));

        // Then
        assertThat(leaks(raw)).as("the unmasked answer").isNotEmpty();
        assertThat(leaks(masked)).as("the masked answer").isEmpty();
        assertThat(masked.types.toString()).isEqualTo(raw.types.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("statements")
    void noFormOfAMaskedValueSurvivesTheExtendedProtocolInBinaryFormat(String sql) throws Exception {
        // Given
        List<FrontendMessage> batch = List.of(new FrontendMessage.Parse("", sql, new int[0]),
                new FrontendMessage.Bind("", "", new short[0], List.of(), new short[]{1}),
                new FrontendMessage.Execute("", 0), new FrontendMessage.Sync());
        Run raw = run(null, 'Z', batch);

        // When
        ResultMasker masker = masker();
        Run masked = run(masker, 'Z', masker.prepare(new ArrayList<>(batch)));

        // Then
        assertThat(leaks(raw)).as("the unmasked answer").isNotEmpty();
        assertThat(leaks(masked)).as("the masked answer").isEmpty();
        assertThat(masked.types.toString()).isEqualTo(raw.types.toString());
    }

    @Test
    void aTableColumnKeepsItsRuleAndAnEchoingErrorKeepsItsSqlState() throws Exception {
        // Given / When
        Run column = run(masker(), 'Z', List.of(new FrontendMessage.Query("SELECT ssn FROM customers ORDER BY id")));
        Run error = run(masker(), 'Z', List.of(new FrontendMessage.Query("SELECT ssn::int FROM customers")));

        // Then
        assertThat(column.text()).contains("***-**-6789", "***-**-4321");
        assertThat(error.types.toString()).isEqualTo("TEZ");
        assertThat(error.text()).contains("SERROR", "C22P02",
                "gatehouse: the error text is withheld because the command's result is masked (SQLSTATE 22P02)");
    }

    @Test
    void thePlannerStatisticsOfAMaskedColumnAreMasked() throws Exception {
        // Given statistics that list the values of customers.ssn, and a command reading them
        String sql = "SELECT attname, histogram_bounds FROM pg_stats WHERE tablename = 'customers'";
        Run raw = run(null, 'Z', List.of(new FrontendMessage.Query(sql)));
        boolean readsMaskedData = PROFILE.masksAnyColumnOf("pg_catalog", "pg_stats", List.of("attname", "histogram_bounds"));

        // When
        Run masked = run(new ResultMasker(PROFILE, catalog, readsMaskedData), 'Z', List.of(new FrontendMessage.Query(sql)));

        // Then
        assertThat(leaks(raw)).as("the unmasked answer").isNotEmpty();
        assertThat(leaks(masked)).as("the masked answer").isEmpty();
    }

    @Test
    void aConditionOnAMaskedColumnInTheSelectListReadsTheSameForEveryRow() throws Exception {
        // Given a column that is NULL unless the SSN starts with 1
        String sql = "SELECT CASE WHEN ssn LIKE '1%' THEN 'yes' END FROM customers ORDER BY id";

        // When
        Run raw = run(null, 'Z', List.of(new FrontendMessage.Query(sql)));
        Run masked = run(masker(), 'Z', List.of(new FrontendMessage.Query(sql)));

        // Then the unmasked rows differ, the masked ones do not
        assertThat(dataRows(raw)).doesNotHaveDuplicates();
        assertThat(dataRows(masked)).hasSize(2).containsOnly("\0\1\0\0\0\n[REDACTED]");
    }

    @Test
    void rowsFetchedFromACursorAreMasked() throws Exception {
        // Given a cursor over whole rows and an expression
        run(null, 'Z', List.of(new FrontendMessage.Query(
                "BEGIN; DECLARE cur CURSOR FOR SELECT id, upper(ssn), c FROM customers c ORDER BY id")));

        // When each FETCH is a command of its own
        Run first = run(masker(), 'Z', List.of(new FrontendMessage.Query("FETCH 1 FROM cur")));
        Run rest = run(masker(), 'Z', List.of(new FrontendMessage.Query("FETCH ALL FROM cur")));
        run(null, 'Z', List.of(new FrontendMessage.Query("COMMIT")));

        // Then
        assertThat(first.types.toString()).isEqualTo("TDCZ");
        assertThat(rest.types.toString()).isEqualTo("TDCZ");
        assertThat(leaks(first)).isEmpty();
        assertThat(leaks(rest)).isEmpty();
        assertThat(first.text()).contains("[REDACTED]");
    }

    @Test
    void aSuspendedPortalIsMaskedWhenItIsContinuedInALaterBatch() throws Exception {
        // Given the same portal read unmasked, one row, then the rest in a later batch
        List<Run> raw = suspendedPortal(null, null);

        // When
        List<Run> masked = suspendedPortal(masker(), masker());

        // Then the continuation's injected Describe is answered and dropped, and its rows are masked
        assertThat(raw).extracting(r -> r.types.toString()).containsExactly("12TDs", "DCZ");
        assertThat(leaks(raw.get(1))).isNotEmpty();
        assertThat(masked).extracting(r -> r.types.toString()).containsExactly("12TDs", "DCZ");
        assertThat(leaks(masked.get(0))).isEmpty();
        assertThat(leaks(masked.get(1))).isEmpty();
        assertThat(masked.get(1).text()).contains("***-**-4321");
    }

    /** Parse, Bind (binary results), Describe, Execute 1 row, Flush; then Execute the rest and Sync. */
    private List<Run> suspendedPortal(ResultMasker first, ResultMasker second) throws Exception {
        List<FrontendMessage> open = List.of(
                new FrontendMessage.Parse("", "SELECT id, ssn, upper(ssn), c FROM customers c ORDER BY id", new int[0]),
                new FrontendMessage.Bind("p", "", new short[0], List.of(), new short[]{1}),
                new FrontendMessage.Describe((byte) 'P', "p"),
                new FrontendMessage.Execute("p", 1), new FrontendMessage.Flush());
        List<FrontendMessage> rest = List.of(new FrontendMessage.Execute("p", 0), new FrontendMessage.Sync());
        Run a = run(first, 's', first == null ? open : first.prepare(new ArrayList<>(open)));
        Run b = run(second, 'Z', second == null ? rest : second.prepare(new ArrayList<>(rest)));
        return List.of(a, b);
    }

    // ------------------------------------------------------------------ helpers

    private static ResultMasker masker() {
        return new ResultMasker(PROFILE, catalog, maskDerived);
    }

    /** Sends one command's messages and waits for its answer up to the frame type {@code end}. */
    private static Run run(ResultMasker masker, char end, List<FrontendMessage> messages) throws Exception {
        Run run = new Run(masker, end);
        current = run;
        upstream.writeAll(messages);
        return run.done.get(60, TimeUnit.SECONDS);
    }

    /** On the event loop: one frame of the current command, masked if it has a masker, appended to what is relayed. */
    private static void relay(BackendFrame frame) {
        Run run = current;
        char type = (char) frame.type();
        ByteBuf out;
        try {
            if (run.masker == null) {
                out = frame.frame();
            } else {
                ResultMasker.Rewrite rewrite = run.masker.onFrame(frame);
                out = rewrite.dropped() ? null : rewrite.frame();
            }
        } catch (RuntimeException e) {
            run.done.completeExceptionally(e);
            return;
        }
        if (out != null) {
            run.types.append((char) out.getByte(out.readerIndex()));
            run.relayed.writeBytes(ByteBufUtil.getBytes(out));
            out.release();
        }
        if (type == run.end) run.done.complete(run);
    }

    /** The payloads of the DataRows relayed, as ISO-8859-1 text. */
    private static List<String> dataRows(Run run) {
        List<String> rows = new ArrayList<>();
        byte[] bytes = run.relayed.toByteArray();
        for (int at = 0; at < bytes.length; ) {
            int length = ((bytes[at + 1] & 0xff) << 24) | ((bytes[at + 2] & 0xff) << 16) | ((bytes[at + 3] & 0xff) << 8)
                    | (bytes[at + 4] & 0xff);
            if (bytes[at] == 'D') rows.add(new String(bytes, at + 5, length - 4, StandardCharsets.ISO_8859_1));
            at += 1 + length;
        }
        return rows;
    }

    /** The forms of the social security numbers found in what was relayed. */
    private static List<String> leaks(Run run) {
        String relayed = run.text();
        List<String> found = new ArrayList<>();
        for (String ssn : SSNS) {
            byte[] bytes = ssn.getBytes(StandardCharsets.US_ASCII);
            for (String form : List.of(ssn, ssn.replace("-", ""), new StringBuilder(ssn).reverse().toString(),
                    HexFormat.of().formatHex(bytes), Base64.getEncoder().encodeToString(bytes))) {
                if (relayed.contains(form)) found.add(form);
            }
        }
        return found;
    }

    private static Catalog readCatalog(Connection c) throws Exception {
        Map<Long, ColumnName> columns = new HashMap<>();
        Set<Integer> derived = new HashSet<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("""
                SELECT c.oid, a.attnum, n.nspname, c.relname, a.attname, c.relkind
                FROM pg_catalog.pg_attribute a
                JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
                JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                  AND n.nspname = 'public'""")) {
            while (r.next()) {
                int oid = (int) r.getLong(1);
                columns.put(columnKey(oid, r.getInt(2)), new ColumnName(r.getString(3), r.getString(4), r.getString(5)));
                if (List.of("v", "m").contains(r.getString(6))) derived.add(oid);
            }
        }
        return new Catalog(Map.copyOf(columns), Set.copyOf(derived));
    }

    private static long columnKey(int tableOid, int attnum) {
        return (Integer.toUnsignedLong(tableOid) << 16) | (attnum & 0xffff);
    }
}
