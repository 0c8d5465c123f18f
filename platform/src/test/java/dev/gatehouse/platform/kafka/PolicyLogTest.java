package dev.gatehouse.platform.kafka;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PolicyLogTest {

    private long offset;

    private PolicyLog.Entry entry(PolicyLog.Kind kind, String version) {
        PolicyLog.Entry e = kind == PolicyLog.Kind.UNSTAGED ? PolicyLog.Entry.unstage("bob")
                : PolicyLog.Entry.of(kind, "p", version, "id: p\nversion: " + version + "\n", "alice");
        return PolicyLog.decode(PolicyLog.encode(e), offset++);
    }

    @Test
    void anEntryRoundTripsThroughItsJsonForm() {
        // Given an applied version
        PolicyLog.Entry e = PolicyLog.Entry.of(PolicyLog.Kind.STAGED, "p", "7", "id: p\n", "alice@host (local user)");

        // When encoded and decoded
        PolicyLog.Entry back = PolicyLog.decode(PolicyLog.encode(e), 42);

        // Then nothing is lost, and the value is plain JSON naming the kind
        assertThat(back).isEqualTo(new PolicyLog.Entry(e.kind(), "p", "7", e.sha256(), e.appliedBy(), e.appliedAt(), "id: p\n", 42));
        assertThat(new String(PolicyLog.encode(e), StandardCharsets.UTF_8)).contains("\"kind\":\"staged\"");
        assertThat(e.key()).isEqualTo("staged:p@7");
    }

    @Test
    void aRecordThatIsNotAPolicyIsRefusedWithItsOffset() {
        assertThatThrownBy(() -> PolicyLog.decode("{\"kind\":\"bogus\"}".getBytes(StandardCharsets.UTF_8), 9))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("offset 9");
    }

    @Test
    void theFoldTracksActiveAndStagedVersions() {
        // Given v1 active, v2 staged, then v2 enforced, v3 staged and withdrawn
        List<PolicyLog.Entry> log = List.of(entry(PolicyLog.Kind.ACTIVE, "1"), entry(PolicyLog.Kind.STAGED, "2"),
                entry(PolicyLog.Kind.ACTIVE, "2"), entry(PolicyLog.Kind.STAGED, "3"), entry(PolicyLog.Kind.UNSTAGED, null));

        // When folded
        PolicyLog.State state = PolicyLog.State.fold(log);

        // Then v2 is active and nothing is staged
        assertThat(state.active()).hasValueSatisfying(e -> assertThat(e.version()).isEqualTo("2"));
        assertThat(state.staged()).isEmpty();
        assertThat(PolicyLog.State.fold(log.subList(0, 4)).staged()).hasValueSatisfying(e -> assertThat(e.version()).isEqualTo("3"));
        assertThat(PolicyLog.State.fold(log.subList(0, 2)).staged()).hasValueSatisfying(e -> assertThat(e.version()).isEqualTo("2"));
    }

    @Test
    void compactionKeepsTheFoldUnchanged() {
        // Given a history with rollbacks and repeated staging
        List<PolicyLog.Entry> log = List.of(entry(PolicyLog.Kind.ACTIVE, "1"), entry(PolicyLog.Kind.ACTIVE, "2"),
                entry(PolicyLog.Kind.STAGED, "3"), entry(PolicyLog.Kind.UNSTAGED, null), entry(PolicyLog.Kind.ACTIVE, "1"),
                entry(PolicyLog.Kind.STAGED, "3"), entry(PolicyLog.Kind.UNSTAGED, null), entry(PolicyLog.Kind.STAGED, "4"));

        // When every prefix is compacted (the latest record per key kept, in offset order)
        for (int n = 1; n <= log.size(); n++) {
            List<PolicyLog.Entry> prefix = log.subList(0, n);
            Map<String, PolicyLog.Entry> latest = new LinkedHashMap<>();
            prefix.forEach(e -> { latest.remove(e.key()); latest.put(e.key(), e); });
            List<PolicyLog.Entry> compacted = new ArrayList<>(latest.values());
            compacted.sort((a, b) -> Long.compare(a.offset(), b.offset()));

            // Then it folds to the same active and staged versions
            PolicyLog.State full = PolicyLog.State.fold(prefix);
            PolicyLog.State kept = PolicyLog.State.fold(compacted);
            assertThat(kept.active()).as("prefix %d", n).isEqualTo(full.active());
            assertThat(kept.staged()).as("prefix %d", n).isEqualTo(full.staged());
        }
    }

    @Test
    void aDocumentThatDoesNotLoadIsSkippedSoThePreviousVersionStays() {
        // Given v1 active, then a v2 that does not load
        List<PolicyLog.Entry> log = List.of(entry(PolicyLog.Kind.ACTIVE, "1"), entry(PolicyLog.Kind.ACTIVE, "2"));

        // When folded with a loader that refuses v2
        PolicyLog.State state = PolicyLog.State.fold(log, e -> !e.version().equals("2"));

        // Then v1 stays active and v2 is marked refused
        assertThat(state.active()).hasValueSatisfying(e -> assertThat(e.version()).isEqualTo("1"));
        assertThat(state.refused()).containsExactly(log.get(1).offset());
    }
}
