package dev.gatehouse.platform.evidence;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

import org.apache.avro.generic.IndexedRecord;

import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.events.EventDecodingException;
import dev.gatehouse.schemas.v1.AuditRecord;

/**
 * The hash chain over one session's events (format {@code v1}):
 * <pre>
 *   h0 = sha256("gatehouse-session-chain/v1:" + sessionId)          (UTF-8)
 *   hi = sha256(h(i-1) || sha256(value_i))                           (raw 32-byte digests)
 * </pre>
 * where {@code value_i} are the exact Kafka record value bytes of the session's events in log
 * order, {@code SessionSealed} events excluded. Heads are exchanged as 64 lower-case hex digits.
 * Pure functions; thread-safe.
 */
public final class SessionChain {

    /** The prefix of the genesis value, followed by the session id. */
    public static final String GENESIS_PREFIX = "gatehouse-session-chain/v1:";

    private static final HexFormat HEX = HexFormat.of();
    private static final AuditEventCodec CODEC = new AuditEventCodec();

    private SessionChain() {
    }

    /** The chain value before the session's first event. */
    public static String genesis(SessionId sessionId) {
        return genesis(sessionId.value());
    }

    /** The chain value before the session's first event. */
    public static String genesis(String sessionId) {
        Objects.requireNonNull(sessionId, "sessionId");
        return HEX.formatHex(sha256().digest((GENESIS_PREFIX + sessionId).getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * The chain value after one more event.
     *
     * @param head             the chain value so far (hex), e.g. {@link #genesis}
     * @param recordValueBytes the event's exact Kafka record value
     * @throws IllegalArgumentException when {@code head} is not 64 hex digits
     */
    public static String next(String head, byte[] recordValueBytes) {
        byte[] previous = parseHead(head);
        MessageDigest digest = sha256();
        byte[] valueDigest = digest.digest(Objects.requireNonNull(recordValueBytes, "recordValueBytes"));
        digest.update(previous);
        digest.update(valueDigest);
        return HEX.formatHex(digest.digest());
    }

    /** The chain head over the given record values, in order. */
    public static String head(String sessionId, List<byte[]> recordValues) {
        String head = genesis(sessionId);
        for (byte[] value : recordValues) {
            head = next(head, value);
        }
        return head;
    }

    /** Lower-case hex of the SHA-256 of some bytes, as {@code sha256sum} prints it. */
    public static String sha256Hex(byte[] bytes) {
        return HEX.formatHex(sha256().digest(bytes));
    }

    /**
     * Recomputes the chain over a session's records and checks that each is an event of this
     * session (by its envelope), not a seal, carries the event id it is listed under, and follows
     * its predecessor in log order. Records whose value is not a decodable event are chained all
     * the same (the chain is over bytes) and reported as warnings.
     *
     * @param sessionId the session
     * @param records   the session's records, in log order
     * @return the chain values after each record and the first problem found, if any
     */
    public static Check verify(String sessionId, List<SessionRecord> records) {
        String head = genesis(sessionId);
        List<String> heads = new ArrayList<>(records.size());
        List<String> warnings = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            SessionRecord record = records.get(i);
            Problem problem = identityProblem(sessionId, i, record, warnings);
            if (problem == null && i > 0) {
                problem = orderProblem(i, records.get(i - 1), record);
            }
            if (problem != null) {
                return new Check(head, heads, warnings, problem);
            }
            head = next(head, record.value());
            heads.add(head);
        }
        return new Check(head, heads, warnings, null);
    }

    /** How an event is named in messages: its position (from 1 for people), id and offset. */
    static String describe(int index, SessionRecord record) {
        return "event #" + (index + 1) + " (" + record.eventId() + ", partition " + record.partition()
                + " offset " + record.offset() + ")";
    }

    private static Problem identityProblem(String sessionId, int index, SessionRecord record, List<String> warnings) {
        AuditRecord envelope;
        try {
            envelope = CODEC.decodeRecord(record.value());
        } catch (EventDecodingException e) {
            warnings.add(describe(index, record) + " is not a decodable audit event (" + e.getMessage()
                    + "); chained as bytes");
            return null;
        }
        if (!sessionId.equals(envelope.getSessionId())) {
            return new Problem(Problem.Kind.FOREIGN_EVENT, describe(index, record) + " belongs to session "
                    + envelope.getSessionId() + ", not " + sessionId, index, record.eventId());
        }
        if (!record.eventId().equals(envelope.getEventId())) {
            return new Problem(Problem.Kind.EVENT_ALTERED, describe(index, record) + " is listed under event id "
                    + record.eventId() + " but its bytes hold event " + envelope.getEventId(), index,
                    record.eventId());
        }
        if (envelope.getPayload() instanceof IndexedRecord payload
                && "SessionSealed".equals(payload.getSchema().getName())) {
            return new Problem(Problem.Kind.FOREIGN_EVENT, describe(index, record)
                    + " is a SessionSealed event, which is never part of the chain", index, record.eventId());
        }
        return null;
    }

    private static Problem orderProblem(int index, SessionRecord previous, SessionRecord record) {
        if (previous.partition() == record.partition() && previous.offset() >= record.offset()) {
            return new Problem(Problem.Kind.OUT_OF_ORDER, describe(index, record) + " comes after offset "
                    + previous.offset() + " (" + previous.eventId() + "): events are out of log order", index,
                    record.eventId());
        }
        return null;
    }

    private static byte[] parseHead(String head) {
        if (head == null || head.length() != 64) {
            throw new IllegalArgumentException("a chain head is 64 hex digits, got "
                    + (head == null ? "null" : head.length() + " characters"));
        }
        try {
            return HEX.parseHex(head);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("a chain head is 64 hex digits, got '" + head + "'", e);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /**
     * The outcome of {@link #verify}.
     *
     * @param head     the chain value after the last record checked
     * @param heads    the chain value after each record, in order (up to the problem, if any)
     * @param warnings what did not break the chain but is worth saying
     * @param problem  the first problem, or null
     */
    public record Check(String head, List<String> heads, List<String> warnings, Problem problem) {
        public Check {
            heads = List.copyOf(heads);
            warnings = List.copyOf(warnings);
        }

        /** How many records were chained. */
        public long events() {
            return heads.size();
        }

        public boolean ok() {
            return problem == null;
        }
    }
}
