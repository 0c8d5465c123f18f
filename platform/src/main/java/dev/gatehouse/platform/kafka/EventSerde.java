package dev.gatehouse.platform.kafka;

/**
 * Turns one event type into record-value bytes and back. The launcher fills it with
 * {@code dev.gatehouse.platform.events.AuditEventCodec} / {@code ControlCodec}
 * ({@code EventSerde.of(codec::encode, codec::decode)}); tests may use anything.
 *
 * <p>Implementations must be thread-safe. {@link #decode} throws on bytes it cannot read; the
 * Kafka adapters log and skip such records.
 */
public interface EventSerde<T> {

    byte[] encode(T value);

    T decode(byte[] bytes);

    /** A serde from two functions, typically method references to a codec. */
    static <T> EventSerde<T> of(java.util.function.Function<T, byte[]> encoder,
                                java.util.function.Function<byte[], T> decoder) {
        java.util.Objects.requireNonNull(encoder, "encoder");
        java.util.Objects.requireNonNull(decoder, "decoder");
        return new EventSerde<>() {
            @Override
            public byte[] encode(T value) {
                return encoder.apply(value);
            }

            @Override
            public T decode(byte[] bytes) {
                return decoder.apply(bytes);
            }
        };
    }
}
