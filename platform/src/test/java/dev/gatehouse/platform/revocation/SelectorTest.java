package dev.gatehouse.platform.revocation;

import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SelectorTest {

    private static final String SHA = "4f2a9c1e0b7d3a5f6e8c9b0a1d2e3f4a5b6c7d8e";

    private static Identity ci() {
        return new Identity("repo:acme/payments:ref:refs/heads/main", "https://token.actions.githubusercontent.com",
                List.of("ci", "deployers"), List.of(), Map.of(),
                new CiProvenance("github", "acme/payments", "42", SHA, "refs/heads/main", "deploy", "7", "migrate"));
    }

    private static Identity person() {
        return new Identity("alice", "https://issuer.example", List.of("dba"), List.of(), Map.of(), null);
    }

    @Test
    void eachSelectorTypeMatchesItsAttributeOnly() {
        // Given
        Identity ci = ci();
        Identity alice = person();

        // When / Then
        assertThat(Selector.parse("subject=alice").matches(alice)).isTrue();
        assertThat(Selector.parse("subject=alice").matches(ci)).isFalse();
        assertThat(Selector.parse("issuer=https://issuer.example").matches(alice)).isTrue();
        assertThat(Selector.parse("group=deployers").matches(ci)).isTrue();
        assertThat(Selector.parse("group=deployers").matches(alice)).isFalse();
        assertThat(Selector.parse("repository=ACME/Payments").matches(ci)).isTrue();
        assertThat(Selector.parse("repository=acme/payments").matches(alice)).isFalse();
        assertThat(Selector.parse("commit=" + SHA).matches(ci)).isTrue();
        assertThat(Selector.parse("commit=4F2A9C1").matches(ci)).isTrue();
        assertThat(Selector.parse("commit=4f2a9c2").matches(ci)).isFalse();
    }

    /** executor-agent acting for alice, set going by planner-agent (the earlier actor). */
    private static Identity delegatedExecutor() {
        return new Identity("executor-agent", "https://issuer.example", List.of("agents"), List.of(), Map.of(), null,
                new Delegation("alice", "https://issuer.example", List.of("dba"), List.of(), List.of("planner-agent"), "act"),
                null);
    }

    /** planner-agent connecting as itself: no delegation. */
    private static Identity agentAlone() {
        return new Identity("planner-agent", "https://issuer.example", List.of("agents"), List.of(), Map.of(), null);
    }

    @Test
    void anActorSelectorMatchesTheCurrentOrAnEarlierActorOfADelegatedSessionOnly() {
        // Given
        Identity delegated = delegatedExecutor();
        Identity alone = agentAlone();

        // When / Then
        assertThat(Selector.parse("actor=executor-agent").matches(delegated)).isTrue();
        assertThat(Selector.parse("actor=planner-agent").matches(delegated)).isTrue();
        assertThat(Selector.parse("actor=alice").matches(delegated)).as("the originator is not an actor").isFalse();
        assertThat(Selector.parse("actor=planner-agent").matches(alone)).as("its own sessions are subject=").isFalse();
        assertThat(Selector.parse("actor=alice").matches(person())).isFalse();
        assertThat(Selector.parse("ACTOR=executor-agent").type()).isEqualTo(Selector.Type.ACTOR);
    }

    @Test
    void anOriginatorSelectorMatchesEveryAgentActingForThatPersonButNotThePersonHerself() {
        // Given
        Identity delegated = delegatedExecutor();

        // When / Then
        assertThat(Selector.parse("originator=alice").matches(delegated)).isTrue();
        assertThat(Selector.parse("originator=bob").matches(delegated)).isFalse();
        assertThat(Selector.parse("originator=alice").matches(person())).as("alice's own session").isFalse();
        assertThat(Selector.parse("originator=executor-agent").matches(delegated)).isFalse();
        assertThat(Selector.parse("subject=alice").matches(delegated)).as("the subject of a delegated session is its actor")
                .isFalse();
        assertThat(Selector.parse("originator=alice").toString()).isEqualTo("originator=alice");
    }

    @Test
    void badSelectorsAreRefusedWithAMessageSayingWhatIsExpected() {
        assertThatThrownBy(() -> Selector.parse("alice")).hasMessageContaining("type=value");
        assertThatThrownBy(() -> Selector.parse("user=alice"))
                .hasMessageContaining("one of: subject, issuer, group, repository, commit, actor, originator");
        assertThatThrownBy(() -> Selector.parse("actor= ")).hasMessageContaining("must not be blank");
        assertThatThrownBy(() -> Selector.parse("commit=abc")).hasMessageContaining("at least 7 hex digits");
        assertThatThrownBy(() -> Selector.parse("subject= ")).hasMessageContaining("must not be blank");
    }

    @Test
    void aLiftedRevocationNoLongerMatchesAndTheSetDropsIt() {
        // Given
        RevocationSet set = new RevocationSet();
        Revocation r = Revocation.create(Selector.parse("subject=alice"), "admin", "leaked token");
        set.apply(r);

        // When
        boolean newAgain = set.apply(r);
        set.apply(r.lift("admin2"));

        // Then
        assertThat(newAgain).isFalse();
        assertThat(r.message()).isEqualTo("access revoked for subject alice by admin: leaked token");
        assertThat(r.matches(person())).isTrue();
        assertThat(r.lift("admin2").matches(person())).isFalse();
        assertThat(set.matching(person())).isEmpty();
        assertThat(set.all()).isEmpty();
    }
}
