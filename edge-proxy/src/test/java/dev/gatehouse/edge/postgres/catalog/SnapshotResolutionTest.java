package dev.gatehouse.edge.postgres.catalog;

import dev.gatehouse.edge.masking.ColumnName;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Resolves statements (as the analyser gives them) through a snapshot that {@link TargetCatalog}
 * reads from a real PostgreSQL 15 over a Vert.x NetClient.
 */
class SnapshotResolutionTest {
    private static final SearchPath DEFAULT = SearchPath.parse("\"$user\", public", "postgres", false);

    private static EmbeddedTarget target;
    private static Connection tempSession;
    private static Snapshot snapshot;
    private static final FakeRoutineAnalyzer ANALYZER = new FakeRoutineAnalyzer();

    @BeforeAll
    static void readTheCatalog() throws Exception {
        target = new EmbeddedTarget();
        target.execute("postgres", "CREATE DATABASE demo", "CREATE ROLE alice");
        target.execute("demo",
                "CREATE SCHEMA finance",
                "CREATE SCHEMA alice",
                "CREATE TABLE customers (id int PRIMARY KEY, name text)",
                "CREATE TABLE payouts (id int PRIMARY KEY, customer_id int REFERENCES customers ON DELETE CASCADE,"
                        + " legacy int, amount numeric, iban text)",
                "ALTER TABLE payouts DROP COLUMN legacy",
                "CREATE TABLE finance.payouts (id int, amount numeric)",
                "CREATE TABLE customer_notes (customer_id int REFERENCES customers)",
                "CREATE TABLE ledger (id int)",
                "CREATE TABLE alice.ledger (id int)",
                "CREATE TABLE \"Mixed Case\" (id int)",
                "CREATE TABLE orders (id int, amount numeric)",
                "CREATE TABLE shadowed (id int)",
                // a view over a protected table
                "CREATE VIEW payouts_view AS SELECT id, amount FROM payouts",
                // a rule that redirects writes to a protected table
                "CREATE TABLE payout_requests (id int, amount numeric)",
                "CREATE RULE payout_requests_redirect AS ON INSERT TO payout_requests"
                        + " DO INSTEAD INSERT INTO payouts (id, amount) VALUES (NEW.id, NEW.amount)",
                // a trigger whose function writes a protected table
                "CREATE FUNCTION orders_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
                        + " BEGIN INSERT INTO payouts (id, amount) VALUES (NEW.id, NEW.amount); RETURN NEW; END $$",
                "CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_audit()",
                // a view whose writes an INSTEAD OF trigger takes
                "CREATE VIEW order_totals AS SELECT id, amount FROM orders",
                "CREATE FUNCTION order_totals_write() RETURNS trigger LANGUAGE plpgsql AS $$"
                        + " BEGIN UPDATE ledger SET id = NEW.id; RETURN NEW; END $$",
                "CREATE TRIGGER order_totals_write INSTEAD OF INSERT OR UPDATE OR DELETE ON order_totals"
                        + " FOR EACH ROW EXECUTE FUNCTION order_totals_write()",
                // a trigger with dynamic SQL
                "CREATE TABLE events (id int, kind text)",
                "CREATE FUNCTION events_dispatch() RETURNS trigger LANGUAGE plpgsql AS $$"
                        + " BEGIN EXECUTE format('INSERT INTO %I VALUES ($1)', NEW.kind) USING NEW.id; RETURN NEW; END $$",
                "CREATE TRIGGER events_dispatch BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_dispatch()",
                // user functions: one on the session's path, one with its own path
                "CREATE FUNCTION payout_total() RETURNS numeric LANGUAGE sql AS $$ SELECT sum(amount) FROM payouts $$",
                "CREATE FUNCTION finance.payout_total() RETURNS numeric LANGUAGE sql SET search_path = finance"
                        + " AS $$ SELECT sum(amount) FROM payouts $$",
                // an overload of a built-in that wins for varchar arguments (CVE-2018-1058)
                "CREATE FUNCTION lower(varchar) RETURNS text LANGUAGE sql AS $$ SELECT iban FROM payouts LIMIT 1 $$",
                "CREATE FUNCTION finance.c_code() RETURNS int LANGUAGE internal AS 'int4in'",
                // a partition
                "CREATE TABLE payments (id int, at date) PARTITION BY RANGE (at)",
                "CREATE TABLE payments_2024 PARTITION OF payments FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
                // an event trigger, last (it fires on the CREATE TABLEs above otherwise)
                "CREATE TABLE ddl_history (tag text)",
                "CREATE FUNCTION ddl_log() RETURNS event_trigger LANGUAGE plpgsql AS $$"
                        + " BEGIN INSERT INTO public.ddl_history VALUES (tg_tag); END $$",
                "CREATE EVENT TRIGGER ddl_log ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION ddl_log()");
        // another session's temporary table, alive while the catalog is read
        tempSession = target.jdbc("demo");
        try (Statement s = tempSession.createStatement()) {
            s.execute("CREATE TEMP TABLE shadowed (id int)");
        }
        TargetCatalog catalog = new TargetCatalog(target.netClient, Duration.ofMinutes(5), EmbeddedTarget.WAIT);
        snapshot = EmbeddedTarget.await(catalog.snapshot(target.connection("demo", "demo")));
    }

    @AfterAll
    static void stop() throws Exception {
        if (tempSession != null) tempSession.close();
        if (target != null) target.close();
    }

    // ---- names

    @ParameterizedTest
    @ValueSource(strings = {"demo.public.customers", "public.customers", "customers"})
    void everySpellingOfOneTableIsOneName(String written) {
        // Given ("customers" is also how the analyser gives the quoted "customers")
        StatementAnalysis raw = read(written);

        // When
        StatementAnalysis resolved = snapshot.resolve(raw, DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.tablesRead()).containsExactly("public.customers");
        assertThat(resolved.uncertain()).isFalse();
    }

    @Test
    void quotedIdentifiersKeepTheirCase() {
        // Given
        StatementAnalysis raw = read("Mixed Case");

        // When
        StatementAnalysis resolved = snapshot.resolve(raw, DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.tablesRead()).containsExactly("public.Mixed Case");
        assertThat(snapshot.resolve(read("mixed case"), DEFAULT, ANALYZER).uncertainty())
                .containsExactly("relation mixed case is not in the target's catalog");
    }

    @Test
    void theSearchPathOrderPicksBetweenTwoSchemas() {
        // Given
        SearchPath financeFirst = SearchPath.parse("finance, public", "postgres", false);
        SearchPath publicFirst = SearchPath.parse("public, finance", "postgres", false);

        // When
        StatementAnalysis viaFinance = snapshot.resolve(written(StatementKind.WRITE, "DELETE", "payouts"), financeFirst, ANALYZER);
        StatementAnalysis viaPublic = snapshot.resolve(read("payouts"), publicFirst, ANALYZER);

        // Then
        assertThat(viaFinance.tablesWritten()).containsExactly("finance.payouts");
        assertThat(viaPublic.tablesRead()).containsExactly("public.payouts");
    }

    @Test
    void dollarUserIsTheSessionsRole() {
        // Given
        SearchPath asAlice = SearchPath.parse("\"$user\", public", "alice", false);
        SearchPath asBob = SearchPath.parse("\"$user\", public", "bob", false);
        SearchPath roleUnknown = SearchPath.parse("\"$user\", public", null, false);

        // When / Then
        assertThat(snapshot.resolve(read("ledger"), asAlice, ANALYZER).tablesRead()).containsExactly("alice.ledger");
        assertThat(snapshot.resolve(read("ledger"), asBob, ANALYZER).tablesRead()).containsExactly("public.ledger");
        assertThat(snapshot.resolve(read("ledger"), roleUnknown, ANALYZER).tablesRead())
                .containsExactlyInAnyOrder("alice.ledger", "public.ledger");
    }

    @Test
    void anUnknownPathResolvesToEveryCandidate() {
        // Given
        SearchPath unknown = SearchPath.unknown("postgres", false);

        // When
        StatementAnalysis resolved = snapshot.resolve(written(StatementKind.WRITE, "UPDATE", "ledger"), unknown, ANALYZER);

        // Then
        assertThat(resolved.tablesWritten()).containsExactlyInAnyOrder("alice.ledger", "public.ledger");
        assertThat(resolved.uncertain()).isFalse();
    }

    @Test
    void aTemporaryTableShadowsThePersistentOne() {
        // Given another session's temporary "shadowed" exists; this session may have temp tables or not
        SearchPath withTemp = SearchPath.parse("public", "postgres", true);
        SearchPath tempLast = SearchPath.parse("public, pg_temp", "postgres", true);

        // When
        StatementAnalysis existing = snapshot.resolve(read("shadowed"), DEFAULT, ANALYZER);
        StatementAnalysis mayBeTemp = snapshot.resolve(read("orders"), withTemp, ANALYZER);
        StatementAnalysis notTemp = snapshot.resolve(read("orders"), DEFAULT, ANALYZER);
        StatementAnalysis placed = snapshot.resolve(read("orders"), tempLast, ANALYZER);
        StatementAnalysis qualified = snapshot.resolve(read("pg_temp.shadowed"), DEFAULT, ANALYZER);

        // Then
        assertThat(existing.tablesRead()).containsExactly("pg_temp.shadowed", "public.shadowed");
        assertThat(mayBeTemp.tablesRead()).containsExactly("pg_temp.orders", "public.orders");
        assertThat(notTemp.tablesRead()).containsExactly("public.orders");
        assertThat(placed.tablesRead()).containsExactly("public.orders");
        assertThat(qualified.tablesRead()).containsExactly("pg_temp.shadowed");
        assertThat(List.of(existing, mayBeTemp, notTemp, placed, qualified)).noneMatch(StatementAnalysis::uncertain);
    }

    @Test
    void aRelationFoundNowhereIsUncertainUnlessTheStatementCreatesIt() {
        // Given
        StatementAnalysis missing = read("nope");
        StatementAnalysis created = written(StatementKind.DDL, "CREATE VIEW", "fresh");
        StatementAnalysis createdTemp = written(StatementKind.DDL, "CREATE VIEW", "pg_temp.scratch");
        StatementAnalysis otherDatabase = read("elsewhere.public.payouts");

        // When
        StatementAnalysis a = snapshot.resolve(missing, DEFAULT, ANALYZER);
        StatementAnalysis b = snapshot.resolve(created, SearchPath.parse("nosuchschema, public", "postgres", false), ANALYZER);
        StatementAnalysis c = snapshot.resolve(createdTemp, DEFAULT, ANALYZER);
        StatementAnalysis d = snapshot.resolve(otherDatabase, DEFAULT, ANALYZER);

        // Then
        assertThat(a.tablesRead()).containsExactly("public.nope");
        assertThat(a.uncertainty()).containsExactly("relation nope is not in the target's catalog");
        assertThat(b.tablesWritten()).containsExactly("public.fresh");
        assertThat(c.tablesWritten()).containsExactly("pg_temp.scratch");
        assertThat(d.uncertainty()).containsExactly("relation elsewhere.public.payouts is in another database than the target's");
        assertThat(List.of(b, c)).noneMatch(StatementAnalysis::uncertain);
    }

    // ---- views, rules, triggers, cascades

    @Test
    void readingAViewReadsItsTables() {
        // When
        StatementAnalysis resolved = snapshot.resolve(read("payouts_view"), DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.tablesRead()).containsExactly("public.payouts_view", "public.payouts");
        assertThat(resolved.runsCode()).isFalse();
    }

    @Test
    void writingAnUpdatableViewWritesItsTable() {
        // When
        StatementAnalysis resolved = snapshot.resolve(written(StatementKind.WRITE, "UPDATE", "payouts_view"), DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.tablesWritten()).containsExactly("public.payouts_view", "public.payouts");
        assertThat(resolved.runsCode()).isFalse();
    }

    @Test
    void aViewWhoseWritesATriggerTakesWritesWhatTheTriggerWrites() {
        // When
        StatementAnalysis resolved = snapshot.resolve(written(StatementKind.WRITE, "UPDATE", "order_totals"), DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.tablesWritten()).containsExactly("public.order_totals", "public.ledger");
        assertThat(resolved.runsCode()).isTrue();
    }

    @Test
    void aRuleRedirectsAWriteToAProtectedTable() {
        // When
        StatementAnalysis resolved = snapshot.resolve(written(StatementKind.WRITE, "INSERT", "payout_requests"), DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.tablesWritten()).containsExactly("public.payout_requests", "public.payouts");
        assertThat(resolved.runsCode()).isTrue();
        assertThat(resolved.uncertain()).isFalse();
    }

    @Test
    void aTriggersFunctionWritesAProtectedTable() {
        // When
        StatementAnalysis insert = snapshot.resolve(written(StatementKind.WRITE, "INSERT", "orders"), DEFAULT, ANALYZER);
        StatementAnalysis truncate = snapshot.resolve(written(StatementKind.WRITE, "TRUNCATE TABLE", "orders"), DEFAULT, ANALYZER);
        StatementAnalysis alter = snapshot.resolve(written(StatementKind.DDL, "ALTER TABLE", "orders"), DEFAULT, ANALYZER);

        // Then (the trigger fires on row changes, not on TRUNCATE, never for DDL)
        assertThat(insert.tablesWritten()).containsExactly("public.orders", "public.payouts");
        assertThat(insert.functions()).containsExactly("public.orders_audit");
        assertThat(insert.runsCode()).isTrue();
        assertThat(insert.uncertain()).isFalse();
        assertThat(List.of(truncate, alter)).allSatisfy(s -> {
            assertThat(s.tablesWritten()).containsExactly("public.orders");
            assertThat(s.runsCode()).isFalse();
        });
    }

    @Test
    void aTriggerWithDynamicSqlIsUncertain() {
        // When
        StatementAnalysis resolved = snapshot.resolve(written(StatementKind.WRITE, "INSERT", "events"), DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.tablesWritten()).containsExactly("public.events");
        assertThat(resolved.runsCode()).isTrue();
        assertThat(resolved.uncertainty()).containsExactly("trigger events_dispatch on public.events runs"
                + " public.events_dispatch, whose body cannot be analysed: it runs dynamic SQL (EXECUTE)");
    }

    @Test
    void aCascadingForeignKeyWritesTheReferencingTable() {
        // When
        StatementAnalysis delete = snapshot.resolve(written(StatementKind.WRITE, "DELETE", "customers"), DEFAULT, ANALYZER);
        StatementAnalysis truncate = snapshot.resolve(written(StatementKind.WRITE, "TRUNCATE TABLE", "customers"), DEFAULT, ANALYZER);
        StatementAnalysis alter = snapshot.resolve(written(StatementKind.DDL, "ALTER TABLE", "customers"), DEFAULT, ANALYZER);

        // Then (customer_notes' key takes no action; TRUNCATE ... CASCADE reaches every referencing table)
        assertThat(delete.tablesWritten()).containsExactly("public.customers", "public.payouts");
        assertThat(truncate.tablesWritten()).containsExactlyInAnyOrder("public.customers", "public.payouts", "public.customer_notes");
        assertThat(alter.tablesWritten()).containsExactly("public.customers");
    }

    @Test
    void aPartitionsWritesAreItsParentsAndTheParentsReachItsPartitions() {
        // When
        StatementAnalysis child = snapshot.resolve(written(StatementKind.WRITE, "INSERT", "payments_2024"), DEFAULT, ANALYZER);
        StatementAnalysis parent = snapshot.resolve(written(StatementKind.WRITE, "INSERT", "payments"), DEFAULT, ANALYZER);

        // Then
        assertThat(child.tablesWritten()).containsExactly("public.payments_2024", "public.payments");
        assertThat(parent.tablesWritten()).containsExactly("public.payments", "public.payments_2024");
    }

    @Test
    void anEventTriggerRunsForTheDdlItFiresOn() {
        // When
        StatementAnalysis create = snapshot.resolve(written(StatementKind.DDL, "CREATE TABLE", "fresh"), DEFAULT, ANALYZER);
        StatementAnalysis index = snapshot.resolve(written(StatementKind.DDL, "CREATE INDEX", "orders"), DEFAULT, ANALYZER);

        // Then
        assertThat(create.runsCode()).isTrue();
        assertThat(create.tablesWritten()).containsExactly("public.fresh", "public.ddl_history");
        assertThat(index.runsCode()).isFalse();
    }

    // ---- functions

    @Test
    void aBuiltInFunctionIsNotCode() {
        // Given the analyser could not tell whether now() is built in
        StatementAnalysis raw = calls(read("orders"), "now");

        // When
        StatementAnalysis resolved = snapshot.resolve(raw, DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.functions()).containsExactly("now");
        assertThat(resolved.runsCode()).isFalse();
        assertThat(resolved.uncertain()).isFalse();
        assertThat(resolved.uncertainty()).isEmpty();
    }

    @Test
    void aUserFunctionRunsCodeAndAddsWhatItsBodyTouches() {
        // Given
        StatementAnalysis raw = calls(read(), "payout_total");

        // When
        StatementAnalysis resolved = snapshot.resolve(raw, DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.functions()).containsExactly("public.payout_total");
        assertThat(resolved.tablesRead()).containsExactly("public.payouts");
        assertThat(resolved.runsCode()).isTrue();
        assertThat(resolved.uncertain()).isFalse();
    }

    @Test
    void aUserOverloadOfABuiltInNameCountsAsCalled() {
        // Given (lower('x'::varchar) runs public.lower: an exact match beats pg_catalog.lower(text))
        StatementAnalysis raw = calls(read(), "lower");

        // When
        StatementAnalysis resolved = snapshot.resolve(raw, DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.functions()).containsExactly("lower", "public.lower");
        assertThat(resolved.tablesRead()).containsExactly("public.payouts");
        assertThat(resolved.runsCode()).isTrue();
    }

    @Test
    void aBodyIsAnalysedOncePerSnapshot() {
        // Given
        FakeRoutineAnalyzer analyzer = new FakeRoutineAnalyzer();
        StatementAnalysis raw = calls(read(), "payout_total");

        // When
        snapshot.resolve(raw, DEFAULT, analyzer);
        snapshot.resolve(raw, SearchPath.parse("public", "bob", false), analyzer);

        // Then
        assertThat(analyzer.routinesAnalysed).hasValue(1);
    }

    @Test
    void aFunctionsOwnSearchPathResolvesItsBody() {
        // Given
        StatementAnalysis raw = calls(read(), "finance.payout_total");

        // When
        StatementAnalysis resolved = snapshot.resolve(raw, DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.functions()).containsExactly("finance.payout_total");
        assertThat(resolved.tablesRead()).containsExactly("finance.payouts");
    }

    @Test
    void anOpaqueOrUnknownFunctionIsUncertain() {
        // Given
        StatementAnalysis raw = calls(read(), "finance.c_code", "no_such_function");

        // When
        StatementAnalysis resolved = snapshot.resolve(raw, DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.runsCode()).isTrue();
        assertThat(resolved.uncertainty()).containsExactly(
                "calls finance.c_code, whose body cannot be analysed: written in internal",
                "calls no_such_function, which is not in the target's catalog");
    }

    @Test
    void theAnalysersOtherReasonsAndFactsAreKept() {
        // Given
        StatementAnalysis raw = new StatementAnalysis(StatementKind.PROCEDURAL, "DO", null, List.of(), List.of(),
                List.of("now"), false, true, true, List.of("a DO block runs code", "calls now, which may be user-defined"),
                List.of("search_path"), List.of("id"));

        // When
        StatementAnalysis resolved = snapshot.resolve(raw, DEFAULT, ANALYZER);

        // Then
        assertThat(resolved.runsCode()).isTrue();
        assertThat(resolved.uncertainty()).containsExactly("a DO block runs code");
        assertThat(resolved.settings()).containsExactly("search_path");
        assertThat(resolved.filterColumns()).containsExactly("id");
        assertThat(resolved.tag()).isEqualTo("DO");
    }

    // ---- masking's view of the catalog

    @Test
    void columnsAreListedInOrderWithoutDroppedOnes() {
        // When / Then
        assertThat(snapshot.columnsOf("public", "payouts")).containsExactly("id", "customer_id", "amount", "iban");
        assertThat(snapshot.columnsOf("public", "payouts_view")).containsExactly("id", "amount");
        assertThat(snapshot.columnsOf("public", "nope")).isEmpty();
    }

    @Test
    void columnsAreNamedByTableOidAndNumberAndViewsAreDerived() throws Exception {
        // Given
        long payouts = oid("public.payouts");
        long view = oid("public.payouts_view");

        // When / Then
        assertThat(snapshot.name((int) payouts, 5)).contains(new ColumnName("public", "payouts", "iban"));
        assertThat(snapshot.name((int) payouts, 3)).isEmpty(); // dropped
        assertThat(snapshot.derived((int) view)).isTrue();
        assertThat(snapshot.derived((int) payouts)).isFalse();
    }

    private static long oid(String relation) throws Exception {
        try (Connection c = target.jdbc("demo"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT '" + relation + "'::regclass::oid")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---- statements as the analyser gives them

    private static StatementAnalysis read(String... relations) {
        return new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of(relations), List.of(), List.of(), false);
    }

    private static StatementAnalysis written(StatementKind kind, String tag, String relation) {
        return new StatementAnalysis(kind, tag, null, List.of(), List.of(relation), List.of(), false);
    }

    /** The statement calling {@code functions}, each with the analyser's "calls" reason. */
    private static StatementAnalysis calls(StatementAnalysis raw, String... functions) {
        List<String> reasons = new ArrayList<>();
        for (String f : functions) reasons.add("calls " + f + ", which may be user-defined");
        return new StatementAnalysis(raw.kind(), raw.tag(), raw.objectType(), raw.tablesRead(), raw.tablesWritten(),
                List.of(functions), false, true, true, reasons, List.of(), List.of());
    }
}
