package dev.gatehouse.platform.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.SessionId;

class SessionExportTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SESSION = EvidenceFixtures.SESSION;

    private final SigningKeys keys = SigningKeys.generate();
    private final SessionSealer sealer = new SessionSealer(keys, "indexer-1");
    private final List<SessionRecord> records = EvidenceFixtures.records();

    private AuditEvent.SessionSealed seal(String sessionId, List<SessionRecord> of) {
        return sealer.seal(new SessionId(sessionId), SessionChain.head(sessionId,
                of.stream().map(SessionRecord::value).toList()), of.size(), SessionSealer.CLOSED);
    }

    private ObjectNode export() {
        return SessionExport.toJson(SESSION, records, seal(SESSION, records), keys.publicKey());
    }

    private Verification verify(JsonNode export, SigningKeys trusted) {
        return SessionExport.verify(export.toString(), trusted == null ? null : trusted.publicKey());
    }

    @Test
    void roundTripsAndVerifiesAnIntactExport() throws Exception {
        // Given
        AuditEvent.SessionSealed seal = seal(SESSION, records);
        String text = SessionExport.write(SESSION, records, seal, keys.publicKey());

        // When
        SessionExport parsed = SessionExport.parse(text);
        Verification verification = parsed.verify(keys.publicKey());

        // Then
        assertThat(parsed.events()).isEqualTo(records);
        assertThat(parsed.seal()).isEqualTo(seal);
        assertThat(parsed.publicKey()).isEqualTo(keys.publicKey());
        assertThat(verification.ok()).as(verification.describe()).isTrue();
        assertThat(verification.describe()).isEqualTo("verified: 5 events, chain head " + seal.chainHead()
                + ", signed by key " + keys.keyId() + ", session closed");
        JsonNode first = JSON.readTree(text).get("events").get(0);
        assertThat(first.get("event").get("type").asText()).isEqualTo("ProtocolViolation");
        assertThat(JSON.readTree(text).get("format").asText()).isEqualTo("gatehouse-session-export/v1");
    }

    @Test
    void withoutATrustedKeyItSaysTheKeyCameFromTheExport() {
        // When
        Verification verification = verify(export(), null);

        // Then
        assertThat(verification.ok()).isTrue();
        assertThat(verification.describe()).contains("key taken from the evidence itself");
    }

    @Test
    void aChangedByteNamesTheEvent() {
        // Given
        ObjectNode export = export();
        ObjectNode third = (ObjectNode) export.get("events").get(2);
        byte[] value = java.util.Base64.getDecoder().decode(third.get("value").asText());
        value[value.length - 1] ^= 0x01;
        third.put("value", java.util.Base64.getEncoder().encodeToString(value));

        // When
        Verification verification = verify(export, keys);

        // Then
        assertThat(verification.problem().kind()).isEqualTo(Problem.Kind.EVENT_ALTERED);
        assertThat(verification.problem().message()).startsWith(
                "event #3 (s-evidence-1-e2, partition 3 offset 102) does not hash to the chain value recorded for it");
        assertThat(verification.describe()).startsWith("NOT verified: session s-evidence-1: event #3");
    }

    @Test
    void aChangedEventWithRewrittenChainValuesBreaksTheSealedHead() {
        // Given: the forger changes an event and recomputes every chain value of the export
        List<SessionRecord> forged = new ArrayList<>(records);
        SessionRecord other = EvidenceFixtures.records(SESSION, 6).get(2);
        forged.set(2, new SessionRecord(3, 102, other.eventId(), mutate(other.value())));
        ObjectNode export = SessionExport.toJson(SESSION, forged, seal(SESSION, records), keys.publicKey());

        // When
        Verification verification = verify(export, keys);

        // Then
        assertThat(verification.problem().kind()).isEqualTo(Problem.Kind.CHAIN_MISMATCH);
        assertThat(verification.problem().message()).contains("but the seal signs");
    }

    @Test
    void aRemovedEventIsDetected() {
        // Given
        ObjectNode middle = export();
        ((ArrayNode) middle.get("events")).remove(1);
        ObjectNode last = export();
        ((ArrayNode) last.get("events")).remove(4);

        // When
        Verification withoutMiddle = verify(middle, keys);
        Verification withoutLast = verify(last, keys);

        // Then
        assertThat(withoutMiddle.problem().kind()).isEqualTo(Problem.Kind.EVENT_ALTERED);
        assertThat(withoutMiddle.problem().message()).startsWith("event #2 (s-evidence-1-e2, partition 3 offset 102)")
                .endsWith("it, or an event before it, was changed, removed or reordered");
        assertThat(withoutLast.problem().kind()).isEqualTo(Problem.Kind.EVENT_COUNT);
        assertThat(withoutLast.problem().message()).isEqualTo("the seal covers 5 events but 4 were found: events were removed");
    }

    @Test
    void reorderedEventsAreDetected() {
        // Given: two events swapped with their offsets, and once more with the offsets renumbered
        ObjectNode swapped = export();
        ArrayNode events = (ArrayNode) swapped.get("events");
        JsonNode second = events.get(1);
        events.set(1, events.get(2));
        events.set(2, second);
        ObjectNode renumbered = swapped.deepCopy();
        ((ObjectNode) renumbered.get("events").get(1)).put("offset", 101);
        ((ObjectNode) renumbered.get("events").get(2)).put("offset", 102);

        // When
        Verification outOfOrder = verify(swapped, keys);
        Verification rewritten = verify(renumbered, keys);

        // Then
        assertThat(outOfOrder.problem().kind()).isEqualTo(Problem.Kind.OUT_OF_ORDER);
        assertThat(outOfOrder.problem().message()).startsWith("event #3 (s-evidence-1-e1, partition 3 offset 101) "
                + "comes after offset 102");
        assertThat(rewritten.problem().kind()).isEqualTo(Problem.Kind.EVENT_ALTERED);
        assertThat(rewritten.problem().message()).startsWith("event #2 (s-evidence-1-e2");
    }

    @Test
    void aSealOfAnotherSessionIsDetected() {
        // Given
        List<SessionRecord> others = EvidenceFixtures.records("s-other", 5);
        ObjectNode export = SessionExport.toJson(SESSION, records, seal("s-other", others), keys.publicKey());

        // When
        Verification verification = verify(export, keys);

        // Then
        assertThat(verification.problem().kind()).isEqualTo(Problem.Kind.SEAL_FOR_OTHER_SESSION);
        assertThat(verification.problem().message()).isEqualTo("the seal is for session s-other, not s-evidence-1");
    }

    @Test
    void aSealRelabelledForThisSessionDoesNotVerify() {
        // Given: a seal of another session with its session id rewritten
        ObjectNode export = SessionExport.toJson(SESSION, records, seal("s-other", records), keys.publicKey());
        ((ObjectNode) export.get("seal")).put("sealedSessionId", SESSION);

        // When
        Verification verification = verify(export, keys);

        // Then
        assertThat(verification.problem().kind()).isEqualTo(Problem.Kind.BAD_SIGNATURE);
    }

    @Test
    void anExportResignedWithAnotherKeyFailsAgainstTheTrustedKey() {
        // Given: a forger re-seals altered events with his own key and ships his public key
        SigningKeys forger = SigningKeys.generate();
        List<SessionRecord> altered = new ArrayList<>(records);
        altered.remove(1);
        AuditEvent.SessionSealed forgedSeal = new SessionSealer(forger, "x").seal(new SessionId(SESSION),
                SessionChain.head(SESSION, altered.stream().map(SessionRecord::value).toList()), altered.size(),
                SessionSealer.CLOSED);
        ObjectNode export = SessionExport.toJson(SESSION, altered, forgedSeal, forger.publicKey());

        // When
        Verification pinned = verify(export, keys);
        Verification unpinned = verify(export, null);

        // Then
        assertThat(pinned.problem().kind()).isEqualTo(Problem.Kind.WRONG_KEY);
        assertThat(pinned.problem().message()).isEqualTo("the seal was made with key " + forger.keyId()
                + " but the verifying key is " + keys.keyId());
        assertThat(unpinned.ok()).isTrue();
        assertThat(unpinned.describe()).contains("signed by key " + forger.keyId(), "key taken from the evidence itself");
    }

    @Test
    void aMissingSealIsReported() {
        // Given
        ObjectNode export = SessionExport.toJson(SESSION, records, null, keys.publicKey());

        // When
        Verification verification = verify(export, keys);

        // Then
        assertThat(verification.problem().kind()).isEqualTo(Problem.Kind.MISSING_SEAL);
        assertThat(verification.describe()).contains("no SessionSealed event");
        assertThat(verification.events()).isEqualTo(5);
    }

    @Test
    void somethingElseThanAnExportIsMalformed() {
        // When
        Verification notJson = SessionExport.verify("{", null);
        Verification otherFormat = SessionExport.verify("{\"format\":\"x\"}", null);
        ObjectNode noValue = export();
        ((ObjectNode) noValue.get("events").get(1)).remove("value");
        Verification missingValue = verify(noValue, keys);

        // Then
        assertThat(notJson.problem().kind()).isEqualTo(Problem.Kind.MALFORMED);
        assertThat(otherFormat.problem().message()).contains("format is 'x', expected 'gatehouse-session-export/v1'");
        assertThat(missingValue.problem().message()).contains("events[1] has no text field 'value'");
    }

    private static byte[] mutate(byte[] value) {
        byte[] copy = value.clone();
        copy[copy.length - 1] ^= 0x01;
        return copy;
    }
}
