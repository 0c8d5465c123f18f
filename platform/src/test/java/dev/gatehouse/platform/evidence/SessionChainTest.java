package dev.gatehouse.platform.evidence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;

class SessionChainTest {

    @Test
    void genesisAndNextFollowTheDocumentedFormulas() throws Exception {
        // Given
        byte[] value = "one record".getBytes(StandardCharsets.UTF_8);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] h0 = sha.digest("gatehouse-session-chain/v1:s-1".getBytes(StandardCharsets.UTF_8));
        byte[] valueDigest = sha.digest(value);
        sha.update(h0);
        sha.update(valueDigest);
        byte[] h1 = sha.digest();

        // When
        String genesis = SessionChain.genesis(new SessionId("s-1"));
        String next = SessionChain.next(genesis, value);

        // Then
        assertThat(genesis).isEqualTo(HexFormat.of().formatHex(h0));
        assertThat(next).isEqualTo(HexFormat.of().formatHex(h1)).hasSize(64).isLowerCase();
        assertThat(SessionChain.head("s-1", List.of(value))).isEqualTo(next);
    }

    @Test
    void theHeadDependsOnTheSessionTheBytesAndTheirOrder() {
        // Given
        byte[] a = {1, 2, 3};
        byte[] b = {1, 2, 4};

        // When
        String ab = SessionChain.head("s-1", List.of(a, b));

        // Then
        assertThat(ab).isNotEqualTo(SessionChain.head("s-2", List.of(a, b)))
                .isNotEqualTo(SessionChain.head("s-1", List.of(b, a)))
                .isNotEqualTo(SessionChain.head("s-1", List.of(a, a)))
                .isNotEqualTo(SessionChain.head("s-1", List.of(a)));
    }

    @Test
    void refusesAHeadThatIsNotSixtyFourHexDigits() {
        assertThatThrownBy(() -> SessionChain.next("abc", new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64 hex digits, got 3 characters");
        assertThatThrownBy(() -> SessionChain.next("z".repeat(64), new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64 hex digits");
    }

    @Test
    void verifyChainsEveryRecordOfAnIntactSession() {
        // Given
        List<SessionRecord> records = EvidenceFixtures.records();

        // When
        SessionChain.Check check = SessionChain.verify(EvidenceFixtures.SESSION, records);

        // Then
        assertThat(check.ok()).isTrue();
        assertThat(check.events()).isEqualTo(5);
        assertThat(check.head()).isEqualTo(SessionChain.head(EvidenceFixtures.SESSION,
                records.stream().map(SessionRecord::value).toList()));
        assertThat(check.warnings()).isEmpty();
    }

    @Test
    void verifyNamesAnEventOfAnotherSession() {
        // Given
        List<SessionRecord> records = new ArrayList<>(EvidenceFixtures.records());
        SessionRecord foreign = EvidenceFixtures.records("s-other", 3).get(1);
        records.set(2, new SessionRecord(EvidenceFixtures.PARTITION, 102, foreign.eventId(), foreign.value()));

        // When
        SessionChain.Check check = SessionChain.verify(EvidenceFixtures.SESSION, records);

        // Then
        assertThat(check.problem().kind()).isEqualTo(Problem.Kind.FOREIGN_EVENT);
        assertThat(check.problem().message())
                .isEqualTo("event #3 (s-other-e1, partition 3 offset 102) belongs to session s-other, not s-evidence-1");
        assertThat(check.problem().index()).isEqualTo(2);
    }

    @Test
    void verifyNamesEventsOutOfLogOrder() {
        // Given
        List<SessionRecord> records = new ArrayList<>(EvidenceFixtures.records());
        records.add(1, records.remove(3));

        // When
        SessionChain.Check check = SessionChain.verify(EvidenceFixtures.SESSION, records);

        // Then
        assertThat(check.problem().kind()).isEqualTo(Problem.Kind.OUT_OF_ORDER);
        assertThat(check.problem().message()).startsWith("event #3 (s-evidence-1-e1, partition 3 offset 101) "
                + "comes after offset 103 (s-evidence-1-e3)");
    }

    @Test
    void verifyRefusesASealInsideTheChain() {
        // Given
        List<SessionRecord> records = new ArrayList<>(EvidenceFixtures.records());
        EventHeader header = new EventHeader("seal-1", new SessionId(EvidenceFixtures.SESSION), Instant.EPOCH,
                "indexer", "i-1");
        byte[] seal = EvidenceFixtures.encode(new AuditEvent.SessionSealed(header, EvidenceFixtures.SESSION, 5,
                "00".repeat(32), SessionSealer.ALGORITHM, "", "", "closed"));
        records.add(new SessionRecord(EvidenceFixtures.PARTITION, 200, "seal-1", seal));

        // When
        SessionChain.Check check = SessionChain.verify(EvidenceFixtures.SESSION, records);

        // Then
        assertThat(check.problem().kind()).isEqualTo(Problem.Kind.FOREIGN_EVENT);
        assertThat(check.problem().message()).contains("event #6 (seal-1", "is a SessionSealed event");
    }

    @Test
    void verifyChainsUndecodableBytesWithAWarning() {
        // Given
        List<SessionRecord> records = List.of(new SessionRecord(0, 7, "garbage", new byte[] {1, 2, 3}));

        // When
        SessionChain.Check check = SessionChain.verify("s-1", records);

        // Then
        assertThat(check.ok()).isTrue();
        assertThat(check.head()).isEqualTo(SessionChain.head("s-1", List.of(new byte[] {1, 2, 3})));
        assertThat(check.warnings()).singleElement().asString()
                .contains("event #1 (garbage, partition 0 offset 7) is not a decodable audit event");
    }
}
