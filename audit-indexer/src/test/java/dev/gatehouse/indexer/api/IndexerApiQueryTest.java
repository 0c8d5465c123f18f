package dev.gatehouse.indexer.api;

import dev.gatehouse.indexer.store.SearchQuery;
import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The API's query parameters as the store's {@link SearchQuery}. */
class IndexerApiQueryTest {

    @Test
    void theOriginatorAndActorParametersBecomeFiltersAndBlankOnesNone() {
        // Given
        MultiMap both = MultiMap.caseInsensitiveMultiMap().add("originator", " alice ").add("actor", "planner-agent")
                .add("subject", "executor-agent");
        MultiMap blank = MultiMap.caseInsensitiveMultiMap().add("originator", " ").add("actor", "");

        // When
        SearchQuery q = IndexerApi.query(both);
        SearchQuery none = IndexerApi.query(blank);

        // Then
        assertThat(q.originator()).isEqualTo("alice");
        assertThat(q.actor()).isEqualTo("planner-agent");
        assertThat(q.subject()).isEqualTo("executor-agent");
        assertThat(q.withBefore("c1").withStatus("open")).extracting(SearchQuery::originator, SearchQuery::actor)
                .containsExactly("alice", "planner-agent");
        assertThat(none.originator()).isNull();
        assertThat(none.actor()).isNull();
    }
}
