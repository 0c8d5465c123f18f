package dev.gatehouse.deploy.fleet.chaos;

import dev.gatehouse.indexer.projection.Entry;
import dev.gatehouse.indexer.projection.SessionSummary;
import dev.gatehouse.indexer.projection.Timeline;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IndexerRebuildTest {

    @Test
    void equalDigestsAreEqual() {
        // When
        ChaosSummary.DigestComparison c = IndexerRebuild.compare("test", Map.of("s1", "aa", "s2", "bb"), Map.of("s2", "bb", "s1", "aa"));

        // Then
        assertThat(c.equal()).isTrue();
        assertThat(c.liveSessions()).isEqualTo(2);
    }

    @Test
    void differencesNameTheirSessions() {
        // When
        ChaosSummary.DigestComparison c = IndexerRebuild.compare("test", Map.of("s1", "aa", "s2", "bb", "s3", "cc"),
                Map.of("s1", "aa", "s2", "b2", "s4", "dd"));

        // Then
        assertThat(c.equal()).isFalse();
        assertThat(c.different()).containsExactly("s2");
        assertThat(c.onlyLive()).containsExactly("s3");
        assertThat(c.onlyRebuilt()).containsExactly("s4");
    }

    @Test
    void aDifferenceIsExplainedByTheSummaryFieldsAndTheFirstDifferingEntry() {
        // Given
        SessionSummary closed = SessionSummary.empty("s1", "2026-12-05T00:00:00Z")
                .withStatus(SessionSummary.CLOSED, "2026-12-05T00:01:00Z", "client terminated");
        Entry opened = new Entry.EventEntry("2026-12-05T00:00:00Z", 3, "SessionOpened", "alice opened a session");
        Timeline live = new Timeline(closed, List.of(opened,
                new Entry.EventEntry("2026-12-05T00:01:00Z", 9, "SessionClosed", "session closed")));
        Timeline rebuilt = new Timeline(closed.withStatus(SessionSummary.ABORTED, "2026-12-05T00:02:00Z", "aborted"),
                List.of(opened));

        // When
        String explained = IndexerRebuild.explain(live, rebuilt);

        // Then
        assertThat(explained).contains("summary.status live \"closed\" rebuilt \"aborted\"")
                .contains("summary.endedAt").contains("entries live 2 rebuilt 1")
                .contains("first differing entry #1").contains("SessionClosed").doesNotContain("summary.sessionId");
        assertThat(IndexerRebuild.explain(live, live)).startsWith("no difference found");
    }

    @Test
    void nothingToCompareIsNotEqual() {
        assertThat(IndexerRebuild.compare("test", Map.of(), Map.of()).equal()).isFalse();
    }

    @Test
    void theRebuildsDatabaseIsOnTheSameServer() {
        assertThat(IndexerRebuild.withDatabase("jdbc:postgresql://127.0.0.1:5433/indexer?sslmode=disable", "chaos_rebuild_1"))
                .isEqualTo("jdbc:postgresql://127.0.0.1:5433/chaos_rebuild_1?sslmode=disable");
        assertThat(IndexerRebuild.withDatabase("jdbc:postgresql://h/indexer", "x")).isEqualTo("jdbc:postgresql://h/x");
        assertThatThrownBy(() -> IndexerRebuild.withDatabase("jdbc:h2:mem:x", "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void offsetsCoverWhenEveryNonEmptyPartitionIsReached() {
        assertThat(IndexerRebuild.covers(Map.of(0, 10L, 1, 5L), Map.of(0, 10L, 1, 5L, 2, 0L))).isTrue();
        assertThat(IndexerRebuild.covers(Map.of(0, 9L), Map.of(0, 10L))).isFalse();
    }

    @Test
    void onePositionIsTheSameOffsetOnEveryPartition() {
        assertThat(IndexerRebuild.samePosition(Map.of(0, 10L, 1, 0L), Map.of(0, 10L))).isTrue();
        assertThat(IndexerRebuild.samePosition(Map.of(0, 11L), Map.of(0, 10L))).isFalse();
        assertThat(IndexerRebuild.samePosition(Map.of(0, 10L), Map.of(0, 10L, 1, 3L))).isFalse();
    }
}
