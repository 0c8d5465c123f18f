package dev.gatehouse.edge.postgres.catalog;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import io.netty.util.ResourceLeakDetector;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@link TargetCatalog} against a real PostgreSQL 15: cache and invalidation, a fresh read for a
 * relation the snapshot does not know, failing closed, and the read time on a catalog of 1,000
 * tables.
 */
class TargetCatalogTest {
    private static final Logger LOGGER = LoggerFactory.getLogger(TargetCatalogTest.class);
    private static final SearchPath PATH = SearchPath.parse("\"$user\", public", "postgres", false);
    private static final int TABLES = 1000;

    private static EmbeddedTarget target;

    @BeforeAll
    static void start() throws Exception {
        target = new EmbeddedTarget();
        target.execute("postgres", "CREATE DATABASE small", "CREATE DATABASE big");
        target.execute("small", "CREATE TABLE accounts (id int PRIMARY KEY, owner text)");
        // 1,000 tables of 8 columns with a primary key and an index each, 100 views, 100 plpgsql functions
        target.execute("big", """
                DO $$ BEGIN
                  FOR i IN 1..%d LOOP
                    EXECUTE format('CREATE TABLE t_%%s (id bigint PRIMARY KEY, customer text, iban text, amount numeric,'
                      ' created timestamptz, status text, note text, ref int)', i);
                    EXECUTE format('CREATE INDEX ON t_%%s (customer)', i);
                  END LOOP;
                  FOR i IN 1..100 LOOP
                    EXECUTE format('CREATE VIEW v_%%s AS SELECT id, amount FROM t_%%s', i, i);
                    EXECUTE format('CREATE FUNCTION f_%%s() RETURNS numeric LANGUAGE plpgsql AS $f$'
                      ' BEGIN RETURN (SELECT sum(amount) FROM t_%%s); END $f$', i, i);
                  END LOOP;
                END $$""".formatted(TABLES));
    }

    @AfterAll
    static void stop() throws Exception {
        if (target != null) target.close();
    }

    @Test
    void concurrentRequestsShareOneReadAndInvalidateReadsAgain() throws Exception {
        // Given
        TargetCatalog catalog = new TargetCatalog(target.netClient, Duration.ofMinutes(5), EmbeddedTarget.WAIT);
        TargetConnection small = target.connection("small", "small");

        // When
        CompletionStage<Snapshot> first = catalog.snapshot(small);
        CompletionStage<Snapshot> second = catalog.snapshot(small);
        Snapshot read = EmbeddedTarget.await(first);
        Snapshot cached = EmbeddedTarget.await(catalog.snapshot(small));
        catalog.invalidate(small);
        Snapshot fresh = EmbeddedTarget.await(catalog.snapshot(small));

        // Then
        assertThat(second).isSameAs(first);
        assertThat(cached).isSameAs(read);
        assertThat(fresh).isNotSameAs(read);
        assertThat(fresh.columnsOf("public", "accounts")).containsExactly("id", "owner");
    }

    @Test
    void aRelationTheSnapshotDoesNotKnowIsLookedUpInAFreshOne() throws Exception {
        // Given a snapshot read before the table existed
        TargetCatalog catalog = new TargetCatalog(target.netClient, Duration.ofMinutes(5), EmbeddedTarget.WAIT);
        TargetConnection small = target.connection("small", "small");
        EmbeddedTarget.await(catalog.snapshot(small));
        target.execute("small", "CREATE TABLE late (id int)");
        StatementAnalysis raw = new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of("late"), List.of(),
                List.of(), false);

        // When / Then (a snapshot younger than a second is trusted, so this may take a second)
        await().atMost(EmbeddedTarget.WAIT).until(() -> !EmbeddedTarget.await(
                catalog.resolve(small, raw, PATH, new FakeRoutineAnalyzer())).uncertain());
        assertThat(EmbeddedTarget.await(catalog.resolve(small, raw, PATH, new FakeRoutineAnalyzer())).tablesRead())
                .containsExactly("public.late");
    }

    @Test
    void aTargetThatCannotBeReachedFailsTheRead() {
        // Given
        TargetCatalog catalog = new TargetCatalog(target.netClient, Duration.ofMinutes(5), EmbeddedTarget.WAIT);
        TargetConnection nowhere = new TargetConnection("nowhere", "127.0.0.1", 1, "x", "postgres", "", false, null,
                TargetConnection.Mode.ENFORCE, java.util.Map.of());

        // When / Then
        assertThatThrownBy(() -> EmbeddedTarget.await(catalog.snapshot(nowhere)))
                .isInstanceOf(ExecutionException.class).hasMessageContaining("cannot reach 127.0.0.1:1");
    }

    @Test
    void aTargetThatDoesNotAnswerFailsTheReadAfterTheTimeout() throws Exception {
        // Given a server that accepts and never answers
        NetServer silent = target.vertx.createNetServer().connectHandler(socket -> { });
        int port = EmbeddedTarget.await(silent.listen(0, "127.0.0.1").toCompletionStage()).actualPort();
        TargetCatalog catalog = new TargetCatalog(target.netClient, Duration.ofMinutes(5), Duration.ofMillis(500));
        TargetConnection mute = new TargetConnection("mute", "127.0.0.1", port, "x", "postgres", "", false, null,
                TargetConnection.Mode.ENFORCE, java.util.Map.of());

        // When / Then
        try {
            assertThatThrownBy(() -> EmbeddedTarget.await(catalog.snapshot(mute)))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(java.util.concurrent.TimeoutException.class);
        } finally {
            silent.close();
        }
    }

    @Test
    void aCatalogOfAThousandTablesIsReadWhole() throws Exception {
        // Given
        TargetCatalog catalog = new TargetCatalog(target.netClient, Duration.ofMinutes(5), EmbeddedTarget.WAIT);
        TargetConnection big = target.connection("big", "big");
        List<Long> millis = new ArrayList<>();
        Snapshot snapshot = null;

        // When (two reads warm the JVM and the target's caches; the figure is the median of the rest,
        // without the paranoid leak detection of unit tests, which records a stack trace per buffer access)
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        try {
            for (int i = 0; i < 7; i++) {
                catalog.invalidate(big);
                long start = System.nanoTime();
                snapshot = EmbeddedTarget.await(catalog.snapshot(big));
                if (i > 1) millis.add(Duration.ofNanos(System.nanoTime() - start).toMillis());
            }
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
        Collections.sort(millis);
        LOGGER.info("catalog of {} tables read in {} ms (median of {}: {})", TABLES, millis.get(millis.size() / 2),
                millis.size(), millis);

        // Then
        assertThat(snapshot.columnsOf("public", "t_" + TABLES)).hasSize(8);
        StatementAnalysis resolved = snapshot.resolve(new StatementAnalysis(StatementKind.READ, "SELECT", null,
                List.of("v_100"), List.of(), List.of("f_7"), false), PATH, new FakeRoutineAnalyzer());
        assertThat(resolved.tablesRead()).containsExactly("public.v_100", "public.t_100", "public.t_7");
        assertThat(resolved.functions()).containsExactly("public.f_7");
    }
}
