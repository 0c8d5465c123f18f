package dev.gatehouse.platform.events;

import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.SessionInfo;
import dev.gatehouse.platform.revocation.Selector;
import dev.gatehouse.schemas.v1.EdgeSessionsRecord;
import dev.gatehouse.schemas.v1.LiveSessionRecord;
import dev.gatehouse.schemas.v1.RevocationRecord;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The wire forms of the fleet's compacted topics, in Avro single-object encoding:
 * {@code gatehouse.revocations} values ({@link Revocation} as {@code RevocationRecord}) and
 * {@code gatehouse.sessions} values ({@link EdgeSessions} as {@code EdgeSessionsRecord}).
 * Records written with an earlier schema of either (by a process not yet upgraded, or still in the
 * compacted topic) decode too, resolved to the current schema. Thread-safe.
 */
public final class FleetCodec {

    static {
        AvroRuntimeSettings.ensure();
    }

    private final BinaryMessageEncoder<RevocationRecord> revocationEncoder = RevocationRecord.getEncoder();
    private final BinaryMessageDecoder<RevocationRecord> revocationDecoder =
            RevocationRecord.createDecoder(AuditEventCodec.WriterSchemas.store(RevocationRecord.getClassSchema()));
    private final BinaryMessageEncoder<EdgeSessionsRecord> sessionsEncoder = EdgeSessionsRecord.getEncoder();
    private final BinaryMessageDecoder<EdgeSessionsRecord> sessionsDecoder =
            EdgeSessionsRecord.createDecoder(AuditEventCodec.WriterSchemas.store(EdgeSessionsRecord.getClassSchema()));

    public byte[] encodeRevocation(Revocation r) {
        RevocationRecord record = RevocationRecord.newBuilder()
                .setId(r.id())
                .setSelectorType(r.selector().type().label())
                .setSelectorValue(r.selector().value())
                .setRevokedBy(r.revokedBy())
                .setReason(r.reason())
                .setRevokedAt(micros(r.revokedAt()))
                .setLifted(r.lifted())
                .setLiftedBy(r.liftedBy())
                .setLiftedAt(r.liftedAt() == null ? null : micros(r.liftedAt()))
                .build();
        try {
            return AuditEventCodec.toArray(revocationEncoder.encode(record));
        } catch (IOException | AvroRuntimeException e) {
            throw new IllegalArgumentException("cannot encode revocation " + r.id() + ": " + e.getMessage(), e);
        }
    }

    /** @throws EventDecodingException when the bytes are not a revocation */
    public Revocation decodeRevocation(byte[] bytes) {
        RevocationRecord r = AuditEventCodec.SingleObject.decode(revocationDecoder, bytes, "revocation");
        return AuditEventCodec.SingleObject.map(() -> new Revocation(r.getId(),
                new Selector(Selector.Type.parse(r.getSelectorType()), r.getSelectorValue()), r.getRevokedBy(),
                r.getReason(), r.getRevokedAt(), r.getLiftedBy(), r.getLiftedAt()), "revocation");
    }

    public byte[] encodeSessions(EdgeSessions e) {
        EdgeSessionsRecord record = EdgeSessionsRecord.newBuilder()
                .setEdgeId(e.edgeId())
                .setHeartbeatAt(micros(e.heartbeatAt()))
                .setIntervalMillis(e.interval().toMillis())
                .setSessions(e.sessions().stream().map(s -> LiveSessionRecord.newBuilder()
                        .setSessionId(s.sessionId())
                        .setSubject(s.subject())
                        .setIssuer(s.issuer())
                        .setGroups(s.groups())
                        .setCiRepository(s.ciRepository())
                        .setCiCommitSha(s.ciCommitSha())
                        .setConnection(s.connection())
                        .setClientAddress(s.clientAddress())
                        .setStartedAt(micros(s.startedAt()))
                        .setOriginator(s.originator())
                        .setEarlierActors(s.earlierActors())
                        .build()).toList())
                .setRevocationSelectors(e.selectorTypes().stream().map(Selector.Type::label).toList())
                .build();
        try {
            return AuditEventCodec.toArray(sessionsEncoder.encode(record));
        } catch (IOException | AvroRuntimeException ex) {
            throw new IllegalArgumentException("cannot encode the sessions of edge " + e.edgeId() + ": " + ex.getMessage(), ex);
        }
    }

    /** @throws EventDecodingException when the bytes are not an edge's sessions */
    public EdgeSessions decodeSessions(byte[] bytes) {
        EdgeSessionsRecord r = AuditEventCodec.SingleObject.decode(sessionsDecoder, bytes, "edge sessions");
        return AuditEventCodec.SingleObject.map(() -> new EdgeSessions(r.getEdgeId(), r.getHeartbeatAt(),
                Duration.ofMillis(r.getIntervalMillis()), r.getSessions().stream().map(s -> new SessionInfo(s.getSessionId(),
                        s.getSubject(), s.getIssuer(), s.getGroups(), s.getCiRepository(), s.getCiCommitSha(), s.getConnection(),
                        s.getClientAddress(), s.getStartedAt(), s.getOriginator(), s.getEarlierActors())).toList(),
                selectorTypes(r.getRevocationSelectors())), "edge sessions");
    }

    /**
     * The selector types a heartbeat lists: none listed is an edge older than the list
     * ({@link EdgeSessions#LEGACY_SELECTOR_TYPES}); a type this version does not know (a newer
     * edge's) is left out, as no revocation of it can be published from here.
     */
    private static Set<Selector.Type> selectorTypes(List<String> labels) {
        if (labels.isEmpty()) return EdgeSessions.LEGACY_SELECTOR_TYPES;
        Set<Selector.Type> types = EnumSet.noneOf(Selector.Type.class);
        for (String label : labels) {
            try {
                types.add(Selector.Type.parse(label));
            } catch (IllegalArgumentException newer) {
                // a selector type of a newer version
            }
        }
        return types;
    }

    /** timestamp-micros holds microseconds: truncate so that a round trip is exact. */
    private static Instant micros(Instant t) {
        return t.truncatedTo(ChronoUnit.MICROS);
    }
}
