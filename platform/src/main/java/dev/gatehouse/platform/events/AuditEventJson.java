package dev.gatehouse.platform.events;

import java.io.IOException;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.IndexedRecord;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.schemas.v1.AuditRecord;

/**
 * Renders an audit event as one line of JSON, for {@code gatehouse audit tail} and log shipping:
 * {@code type} (the Avro payload record's name), {@code eventId}, {@code sessionId},
 * {@code timestamp} (ISO-8601, UTC), {@code service}, {@code instance}, then the payload's fields
 * under their Avro names, in schema order, nested records as JSON objects. Timestamps are ISO-8601
 * strings, durations stay numbers of microseconds ({@code *Micros}), identity claims appear as
 * the JSON values they encode. Null fields are written as {@code null}.
 *
 * <p>The field names are those of the Avro schema, so what an operator sees in the tail is what a
 * SIEM sees in the topic.
 */
public final class AuditEventJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** The schema property marking a map whose string values are JSON documents. */
    static final String VALUE_ENCODING = "gatehouse.valueEncoding";

    private AuditEventJson() {
    }

    /** One line of JSON (no line break) for the event. */
    public static String render(AuditEvent event) {
        return render(AvroEventWriter.toAvro(event));
    }

    /** One line of JSON (no line break) for an Avro envelope, e.g. one decoded by {@link AuditEventCodec#decodeRecord}. */
    public static String render(AuditRecord record) {
        try {
            return MAPPER.writeValueAsString(tree(record));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render audit event " + record.getEventId() + " as JSON", e);
        }
    }

    /** The JSON tree {@link #render} writes. */
    public static ObjectNode tree(AuditRecord record) {
        ObjectNode root = NODES.objectNode();
        IndexedRecord payload = (IndexedRecord) record.getPayload();
        root.put("type", payload.getSchema().getName());
        root.put("eventId", record.getEventId());
        root.put("sessionId", record.getSessionId());
        root.put("timestamp", record.getTimestamp().toString());
        root.put("service", record.getService());
        root.put("instance", record.getInstance());
        fields(payload, root);
        return root;
    }

    private static void fields(IndexedRecord record, ObjectNode into) {
        for (Schema.Field field : record.getSchema().getFields()) {
            Object value = record.get(field.pos());
            if (value instanceof Map<?, ?> map && "json".equals(field.getProp(VALUE_ENCODING))) {
                ObjectNode object = into.putObject(field.name());
                map.forEach((k, v) -> object.set(k.toString(), parsedJson(v)));
            } else {
                into.set(field.name(), node(value));
            }
        }
    }

    private static JsonNode node(Object value) {
        return switch (value) {
            case null -> NODES.nullNode();
            case IndexedRecord r -> {
                ObjectNode object = NODES.objectNode();
                fields(r, object);
                yield object;
            }
            case Instant i -> NODES.textNode(i.toString());
            case CharSequence s -> NODES.textNode(s.toString());
            case Boolean b -> NODES.booleanNode(b);
            case Integer n -> NODES.numberNode(n);
            case Long n -> NODES.numberNode(n);
            case Float n -> NODES.numberNode(n);
            case Double n -> NODES.numberNode(n);
            case Enum<?> e -> NODES.textNode(e.name());
            case GenericEnumSymbol<?> e -> NODES.textNode(e.toString());
            case Collection<?> c -> {
                ArrayNode array = NODES.arrayNode();
                c.forEach(item -> array.add(node(item)));
                yield array;
            }
            case Map<?, ?> m -> {
                ObjectNode object = NODES.objectNode();
                m.forEach((k, v) -> object.set(k.toString(), node(v)));
                yield object;
            }
            default -> NODES.textNode(value.toString());
        };
    }

    private static JsonNode parsedJson(Object value) {
        if (value == null) {
            return NODES.nullNode();
        }
        try {
            return MAPPER.readTree(value.toString());
        } catch (IOException e) {
            return NODES.textNode(value.toString());
        }
    }
}
