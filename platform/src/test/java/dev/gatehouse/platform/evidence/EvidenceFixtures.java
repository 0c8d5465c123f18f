package dev.gatehouse.platform.evidence;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;

/** A small session encoded exactly as the edge writes it, and its records at offsets 100, 101, ... */
final class EvidenceFixtures {

    static final String SESSION = "s-evidence-1";
    static final int PARTITION = 3;
    private static final AuditEventCodec CODEC = new AuditEventCodec();
    private static final Instant AT = Instant.parse("2025-03-01T10:15:30Z");

    private EvidenceFixtures() {
    }

    static List<SessionRecord> records(String sessionId, int count) {
        List<SessionRecord> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            EventHeader header = new EventHeader(sessionId + "-e" + i, new SessionId(sessionId), AT.plusSeconds(i),
                    "edge", "edge-1");
            AuditEvent event = i == count - 1
                    ? new AuditEvent.SessionClosed(header, "client terminated", count - 2, Duration.ofSeconds(i))
                    : new AuditEvent.ProtocolViolation(header, "postgres", "10.0.0." + i, "detail " + i);
            records.add(new SessionRecord(PARTITION, 100 + i, header.eventId(), CODEC.encode(event)));
        }
        return records;
    }

    static List<SessionRecord> records() {
        return records(SESSION, 5);
    }

    static byte[] encode(AuditEvent event) {
        return CODEC.encode(event);
    }
}
