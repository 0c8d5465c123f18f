package dev.gatehouse.platform.events;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every CI provenance and delegation field survives the Avro encoding of SessionOpened. */
class CiProvenanceRoundTripTest {

    @Test
    void everyProvenanceFieldRoundTrips() {
        // Given
        CiProvenance ci = new CiProvenance("github-actions", "octo-org/octo-repo", "74", "c040cae0", "refs/heads/main",
                "deploy", "22259804324", "90000001", "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
                "c040cae0", "octo-org/shared/.github/workflows/migrate.yml@refs/tags/v2", "c9ed89cf", "3", "octocat",
                "12", "prod", "push", "true", "github-hosted");
        Identity identity = new Identity("repo:octo-org/octo-repo:environment:prod", "https://token.actions.githubusercontent.com",
                List.of(), List.of(), Map.of("run_attempt", "3"), ci);
        AuditEvent.SessionOpened opened = new AuditEvent.SessionOpened(EventHeader.now(SessionId.random(), "edge", "e1"),
                identity, new ConnectionRef("demo", "postgres", "127.0.0.1:5432/demo", Map.of()), "127.0.0.1:1234",
                "deployer", "psql", "enforce", false);
        AuditEventCodec codec = new AuditEventCodec();

        // When
        AuditEvent decoded = codec.decode(codec.encode(opened));

        // Then
        assertThat(((AuditEvent.SessionOpened) decoded).identity().ci()).isEqualTo(ci);
    }

    @Test
    void theDelegationChainAndDeclaredIntentRoundTrip() {
        // Given
        Delegation delegation = new Delegation("alice", "https://id.example", List.of("dba"), List.of("db-reader"),
                List.of("planner-agent"), "act");
        DeclaredIntent intent = new DeclaredIntent("run-17", "4", false, DeclaredIntent.CONNECTION_PARAMETER);
        Identity identity = new Identity("executor-agent", "https://id.example", List.of("agents"), List.of(),
                Map.of("sub", "alice"), null, delegation, intent);
        AuditEvent.SessionOpened opened = new AuditEvent.SessionOpened(EventHeader.now(SessionId.random(), "edge", "e1"),
                identity, new ConnectionRef("demo", "postgres", "127.0.0.1:5432/demo", Map.of()), "127.0.0.1:1234",
                "agent", "psql", "enforce", false);
        AuditEventCodec codec = new AuditEventCodec();

        // When
        Identity decoded = ((AuditEvent.SessionOpened) codec.decode(codec.encode(opened))).identity();

        // Then
        assertThat(decoded).isEqualTo(identity);
        assertThat(decoded.delegation()).isEqualTo(delegation);
        assertThat(decoded.intent()).isEqualTo(intent);
    }
}
