package dev.gatehouse.platform.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class IdsTest {

    @Test
    void mintsDistinctVersionSevenIdsThatSortInTheOrderOfTheMillisecondTheyWereMintedIn() {
        // Given: a hundred ids, then one more once the clock has moved on by a few milliseconds
        List<String> ids = new ArrayList<>();
        long start = System.currentTimeMillis();
        ids.add(Ids.next());
        long firstMinted = System.currentTimeMillis();
        while (ids.size() < 100) ids.add(Ids.next());
        while (System.currentTimeMillis() < firstMinted + 3) Thread.onSpinWait();
        ids.add(Ids.next()); // minted after the clock passed firstMinted + 3, whatever paused the loop
        long end = System.currentTimeMillis();
        // Then: each is a version 7 UUID in canonical form, all distinct
        for (String id : ids) {
            UUID uuid = UUID.fromString(id);
            assertThat(uuid.version()).isEqualTo(7);
            assertThat(uuid.toString()).isEqualTo(id);
        }
        assertThat(new HashSet<>(ids)).hasSize(ids.size());
        // and an id of a later millisecond sorts after one of an earlier (as a string: as stores index them)
        long firstMillis = UUID.fromString(ids.getFirst()).getMostSignificantBits() >>> 16;
        long lastMillis = UUID.fromString(ids.getLast()).getMostSignificantBits() >>> 16;
        assertThat(firstMillis).isBetween(start, firstMinted);
        assertThat(lastMillis).isLessThanOrEqualTo(end);
        assertThat(lastMillis).isGreaterThan(firstMillis);
        assertThat(ids.getLast()).isGreaterThan(ids.getFirst());
        assertThat(CommandId.random().value()).isGreaterThan(ids.getFirst());
        assertThat(SessionId.random().value()).isGreaterThan(ids.getFirst());
    }
}
