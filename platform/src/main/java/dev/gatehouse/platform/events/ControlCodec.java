package dev.gatehouse.platform.events;

import org.apache.avro.AvroRuntimeException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;

import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.schemas.v1.ControlRecord;

/**
 * The wire form of {@code gatehouse.control} values: a {@link ControlMessage} as a
 * {@code ControlRecord} in Avro single-object encoding. Records written with an earlier schema
 * (by an edge not yet upgraded) decode too, resolved to the current schema. Thread-safe.
 */
public final class ControlCodec {

    static {
        AvroRuntimeSettings.ensure();
    }

    private final BinaryMessageEncoder<ControlRecord> encoder = ControlRecord.getEncoder();
    private final BinaryMessageDecoder<ControlRecord> decoder =
            ControlRecord.createDecoder(AuditEventCodec.WriterSchemas.store(ControlRecord.getClassSchema()));

    /**
     * Encodes a control message.
     *
     * @throws IllegalArgumentException when the message lacks a value the schema requires
     */
    public byte[] encode(ControlMessage message) {
        try {
            return AuditEventCodec.toArray(encoder.encode(AvroEventWriter.toAvro(message)));
        } catch (AvroRuntimeException | NullPointerException | java.io.IOException e) {
            throw new IllegalArgumentException("cannot encode " + message.getClass().getSimpleName() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Decodes a control message.
     *
     * @throws EventDecodingException when the bytes are not a control message
     */
    public ControlMessage decode(byte[] bytes) {
        ControlRecord record = AuditEventCodec.SingleObject.decode(decoder, bytes, "control message");
        return AuditEventCodec.SingleObject.map(() -> AvroEventReader.fromAvro(record), "control message");
    }
}
