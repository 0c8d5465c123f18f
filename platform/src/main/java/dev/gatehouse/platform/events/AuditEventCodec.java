package dev.gatehouse.platform.events;

import java.nio.ByteBuffer;

import org.apache.avro.AvroRuntimeException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.schemas.v1.AuditRecord;

/**
 * The wire form of {@code gatehouse.audit} values: an {@link AuditEvent} as an {@code AuditRecord}
 * in Avro single-object encoding (0xC3 0x01, the schema's 8-byte little-endian CRC-64-AVRO
 * fingerprint, then the binary body). Thread-safe; one instance may serve a whole process.
 */
public final class AuditEventCodec {

    static {
        AvroRuntimeSettings.ensure();
    }

    private final BinaryMessageEncoder<AuditRecord> encoder = AuditRecord.getEncoder();
    private final BinaryMessageDecoder<AuditRecord> decoder = AuditRecord.getDecoder();

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
