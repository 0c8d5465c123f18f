package dev.gatehouse.platform.events;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.schemas.v1.AuditRecord;

/**
 * The wire form of {@code gatehouse.audit} values: an {@link AuditEvent} as an {@code AuditRecord}
 * in Avro single-object encoding (0xC3 0x01, the schema's 8-byte little-endian CRC-64-AVRO
 * fingerprint, then the binary body). Thread-safe; one instance may serve a whole process.
 *
 * <p>Records written with an earlier {@code AuditRecord} schema (every one a Gatehouse version
 * wrote, shipped under {@value #WRITERS} in {@code gatehouse-schemas}) decode too, resolved to the
 * current schema: fields they lack take their defaults.
 */
public final class AuditEventCodec {

    static {
        AvroRuntimeSettings.ensure();
    }

    /**
     * Where {@code gatehouse-schemas} keeps the schemas records on Gatehouse's topics were written
     * with ({@code AuditRecord}, {@code ControlRecord}, {@code EdgeSessionsRecord}, {@code RevocationRecord}),
     * and their index.
     */
    static final String WRITERS = "/dev/gatehouse/schemas/v1/writers/";

    private final BinaryMessageEncoder<AuditRecord> encoder = AuditRecord.getEncoder();
    private final BinaryMessageDecoder<AuditRecord> decoder = AuditRecord.createDecoder(WriterSchemas.store(AuditRecord.getClassSchema()));

    /**
     * Encodes an event.
     *
     * @throws IllegalArgumentException when the event lacks a value the schema requires
     */
    public byte[] encode(AuditEvent event) {
        try {
            return toArray(encoder.encode(AvroEventWriter.toAvro(event)));
        } catch (AvroRuntimeException | NullPointerException | java.io.IOException e) {
            throw new IllegalArgumentException("cannot encode " + event.getClass().getSimpleName() + " event "
                    + event.header().eventId() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Decodes an event written by {@link #encode} (by this or an older, compatible schema).
     *
     * @throws EventDecodingException when the bytes are not such an event
     */
    public AuditEvent decode(byte[] bytes) {
        AuditRecord record = decodeRecord(bytes);
        return SingleObject.map(() -> AvroEventReader.fromAvro(record), "audit event " + record.getEventId());
    }

    /** Decodes the Avro envelope only, e.g. to render it without the core model. */
    public AuditRecord decodeRecord(byte[] bytes) {
        return SingleObject.decode(decoder, bytes, "audit event");
    }

    /** The AuditRecord schemas records may have been written with (the current one among them). */
    static List<Schema> writerSchemas() {
        return WriterSchemas.of(AuditRecord.getClassSchema());
    }

    /** The writer schemas, loaded once from {@link #WRITERS}{@code index}. */
    static final class WriterSchemas {
        private static final List<Schema> ALL = load();

        private WriterSchemas() {
        }

        /** The schemas records of {@code current}'s record (by full name) were written with. */
        static List<Schema> of(Schema current) {
            return ALL.stream().filter(s -> s.getFullName().equals(current.getFullName())).toList();
        }

        /**
         * A store of the schemas records of {@code current}'s record were written with, for its
         * decoder: a record written with any of them decodes, resolved to the current schema.
         */
        static SchemaStore.Cache store(Schema current) {
            return store(of(current));
        }

        private static List<Schema> load() {
            List<Schema> schemas = new ArrayList<>();
            for (String name : lines(WRITERS + "index")) {
                try (InputStream in = resource(WRITERS + name)) {
                    schemas.add(new Schema.Parser().parse(in));
                } catch (java.io.IOException | AvroRuntimeException e) {
                    throw new IllegalStateException("cannot read the writer schema " + WRITERS + name, e);
                }
            }
            return List.copyOf(schemas);
        }

        private static SchemaStore.Cache store(List<Schema> schemas) {
            SchemaStore.Cache cache = new SchemaStore.Cache();
            schemas.forEach(cache::addSchema);
            return cache;
        }

        private static List<String> lines(String path) {
            try (InputStream in = resource(path)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                        .filter(l -> !l.isEmpty()).toList();
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot read " + path, e);
            }
        }

        private static InputStream resource(String path) {
            InputStream in = AuditRecord.class.getResourceAsStream(path);
            if (in == null) throw new IllegalStateException(path + " is missing from gatehouse-schemas");
            return in;
        }
    }

    static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /** Decoding shared with {@link ControlCodec}: every failure becomes one clear exception. */
    static final class SingleObject {
        private SingleObject() {
        }

        static <T> T decode(BinaryMessageDecoder<T> decoder, byte[] bytes, String what) {
            if (bytes == null || bytes.length < 10) {
                throw new EventDecodingException("not a single-object encoded " + what + ": "
                        + (bytes == null ? "null" : bytes.length + " bytes") + ", need at least 10");
            }
            if ((bytes[0] & 0xFF) != 0xC3 || bytes[1] != 0x01) {
                throw new EventDecodingException(String.format(
                        "not a single-object encoded %s: header 0x%02X 0x%02X, expected 0xC3 0x01",
                        what, bytes[0] & 0xFF, bytes[1] & 0xFF));
            }
            try {
                return decoder.decode(bytes);
            } catch (MissingSchemaException e) {
                throw new EventDecodingException(what + " written with an unknown schema (fingerprint "
                        + fingerprint(bytes) + "); is this consumer older than the producer?", e);
            } catch (EventDecodingException e) {
                throw e;
            } catch (java.io.IOException | RuntimeException e) {
                throw new EventDecodingException("corrupt " + what + " (" + bytes.length + " bytes, schema "
                        + fingerprint(bytes) + "): " + e, e);
            }
        }

        /** Runs a mapping to the core model; what the core model refuses becomes a decoding error. */
        static <T> T map(java.util.function.Supplier<T> mapping, String what) {
            try {
                return mapping.get();
            } catch (EventDecodingException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new EventDecodingException(what + " holds values the core model refuses: " + e.getMessage(), e);
            }
        }

        private static String fingerprint(byte[] bytes) {
            StringBuilder hex = new StringBuilder();
            for (int i = 2; i < 10; i++) {
                hex.append(String.format("%02x", bytes[i]));
            }
            return hex.toString();
        }
    }
}
