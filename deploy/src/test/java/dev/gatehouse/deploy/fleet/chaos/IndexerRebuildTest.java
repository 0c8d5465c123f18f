package dev.gatehouse.deploy.fleet.chaos;

import org.junit.jupiter.api.Test;

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
}
