package dev.gatehouse.platform.evidence;

import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.events.AuditEventJson;
import dev.gatehouse.platform.events.EventDecodingException;

/**
 * A session's portable evidence, format {@code gatehouse-session-export/v1} (documented in
 * {@code docs/evidence.md}): the exact record bytes of its events, the chain value after each, its
 * seal and the public key. Written by the indexer's export endpoint, checked by
 * {@code gatehouse audit verify --file}.
 *
 * @param sessionId     the session
 * @param events        its records, in log order
 * @param recordedChain the chain value the export records after each event (entries may be null)
 * @param seal          the seal, or null when the export carries none
 * @param publicKey     the public key the export carries, or null
 */
public record SessionExport(String sessionId, List<SessionRecord> events, List<String> recordedChain,
                            AuditEvent.SessionSealed seal, PublicKey publicKey) {

    /** The value of the {@code format} field. */
    public static final String FORMAT = "gatehouse-session-export/v1";

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final AuditEventCodec CODEC = new AuditEventCodec();

    public SessionExport {
        Objects.requireNonNull(sessionId, "sessionId");
        events = List.copyOf(events);
        recordedChain = recordedChain == null ? List.of()
                : java.util.Collections.unmodifiableList(new ArrayList<>(recordedChain));
    }

    /**
     * The export of a session as a JSON tree.
     *
     * @param sessionId the session
     * @param events    its records in log order, seals excluded
     * @param seal      its seal, or null when it has none (yet)
     * @param publicKey the sealing key's public half, or null
     */
    public static ObjectNode toJson(String sessionId, List<SessionRecord> events, AuditEvent.SessionSealed seal,
                                    PublicKey publicKey) {
        ObjectNode root = NODES.objectNode();
        root.put("format", FORMAT);
        root.put("sessionId", sessionId);
        ArrayNode array = root.putArray("events");
        String head = SessionChain.genesis(sessionId);
        for (SessionRecord record : events) {
            head = SessionChain.next(head, record.value());
            ObjectNode event = array.addObject();
            event.put("eventId", record.eventId());
            event.put("partition", record.partition());
            event.put("offset", record.offset());
            event.put("chain", head);
            event.put("value", Base64.getEncoder().encodeToString(record.value()));
            event.set("event", decoded(record.value()));
        }
        root.set("seal", seal == null ? NODES.nullNode() : sealJson(seal));
        root.put("publicKey", publicKey == null ? null : Base64.getEncoder().encodeToString(publicKey.getEncoded()));
        return root;
    }

    /** The export of a session as indented JSON text. */
    public static String write(String sessionId, List<SessionRecord> events, AuditEvent.SessionSealed seal,
                               PublicKey publicKey) {
        try {
            return MAPPER.writeValueAsString(toJson(sessionId, events, seal, publicKey));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the export of session " + sessionId, e);
        }
    }

    /**
     * Reads an export.
     *
     * @throws IllegalArgumentException when the text is not an export of the documented format,
     *                                  naming the field at fault
     */
    public static SessionExport parse(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
        return parse(root);
    }

    /** Reads an export from its JSON tree; see {@link #parse(String)}. */
    public static SessionExport parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("an export is a JSON object");
        }
        String format = text(root, "format", "the export");
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException("format is '" + format + "', expected '" + FORMAT + "'");
        }
        String sessionId = text(root, "sessionId", "the export");
        JsonNode array = root.get("events");
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException("the export has no 'events' array");
        }
        List<SessionRecord> records = new ArrayList<>();
        List<String> chain = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode event = array.get(i);
            String where = "events[" + i + "]";
            byte[] value;
            try {
                value = Base64.getDecoder().decode(text(event, "value", where));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ".value is not base64: " + e.getMessage(), e);
            }
            records.add(new SessionRecord(integer(event, "partition", where).intValue(),
                    integer(event, "offset", where), text(event, "eventId", where), value));
            JsonNode recorded = event.get("chain");
            chain.add(recorded == null || recorded.isNull() ? null : recorded.asText());
        }
        JsonNode sealNode = root.get("seal");
        AuditEvent.SessionSealed seal = sealNode == null || sealNode.isNull() ? null : seal(sealNode, sessionId);
        JsonNode keyNode = root.get("publicKey");
        PublicKey key = keyNode == null || keyNode.isNull() ? null : SigningKeys.publicKeyFromBase64(keyNode.asText());
        return new SessionExport(sessionId, records, chain, seal, key);
    }

    /**
     * Verifies this export.
     *
     * @param trustedKey the key the seal must verify with; null to use the key the export carries
     *                   (which proves integrity, not origin)
     */
    public Verification verify(PublicKey trustedKey) {
        PublicKey key = trustedKey != null ? trustedKey : publicKey;
        return SessionEvidence.verify(sessionId, events, recordedChain, seal, key, trustedKey != null);
    }

    /** Parses and verifies an export; what cannot be parsed is reported as {@link Problem.Kind#MALFORMED}. */
    public static Verification verify(String json, PublicKey trustedKey) {
        SessionExport export;
        try {
            export = parse(json);
        } catch (IllegalArgumentException e) {
            return new Verification("(unknown)", 0, null, trustedKey == null ? null : SigningKeys.keyId(trustedKey),
                    trustedKey != null, null, List.of(),
                    Problem.of(Problem.Kind.MALFORMED, "not a " + FORMAT + " export: " + e.getMessage()));
        }
        return export.verify(trustedKey);
    }

    private static JsonNode decoded(byte[] value) {
        try {
            return AuditEventJson.tree(CODEC.decodeRecord(value));
        } catch (EventDecodingException e) {
            return NODES.objectNode().put("undecodable", e.getMessage());
        }
    }

    private static ObjectNode sealJson(AuditEvent.SessionSealed seal) {
        ObjectNode node = NODES.objectNode();
        node.put("eventId", seal.header().eventId());
        node.put("timestamp", seal.header().timestamp().toString());
        node.put("service", seal.header().service());
        node.put("instance", seal.header().instance());
        node.put("sealedSessionId", seal.sealedSessionId());
        node.put("events", seal.events());
        node.put("chainHead", seal.chainHead());
        node.put("algorithm", seal.algorithm());
        node.put("signature", seal.signature());
        node.put("keyId", seal.keyId());
        node.put("status", seal.status());
        return node;
    }

    private static AuditEvent.SessionSealed seal(JsonNode node, String sessionId) {
        String where = "seal";
        JsonNode timestamp = node.get("timestamp");
        Instant at;
        try {
            at = timestamp == null || timestamp.isNull() ? Instant.EPOCH : Instant.parse(timestamp.asText());
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("seal.timestamp is not an ISO-8601 instant: " + timestamp.asText(), e);
        }
        EventHeader header = new EventHeader(optional(node, "eventId", "unknown"), new SessionId(sessionId), at,
                optional(node, "service", SessionSealer.SERVICE), optional(node, "instance", "unknown"));
        return new AuditEvent.SessionSealed(header, text(node, "sealedSessionId", where),
                integer(node, "events", where), text(node, "chainHead", where), text(node, "algorithm", where),
                text(node, "signature", where), text(node, "keyId", where), text(node, "status", where));
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode value = node == null ? null : node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException(where + " has no text field '" + field + "'");
        }
        return value.asText();
    }

    private static Long integer(JsonNode node, String field, String where) {
        JsonNode value = node == null ? null : node.get(field);
        if (value == null || !value.canConvertToLong() || !value.isIntegralNumber()) {
            throw new IllegalArgumentException(where + " has no integer field '" + field + "'");
        }
        return value.asLong();
    }

    private static String optional(JsonNode node, String field, String fallback) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? fallback : value.asText();
    }
}
