package dev.gatehouse.edge.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCounted;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A message the edge itself sends to a PostgreSQL client (server side), encoded by
 * {@link BackendEncoder}. Frames relayed from the target go out as {@link RawFrame}, byte-identical.
 */
public sealed interface BackendMessage {

    /** Encodes this message into a new buffer from {@code alloc}; see {@link BackendEncoder#encode(ByteBufAllocator, BackendMessage)}. */
    default ByteBuf encode(ByteBufAllocator alloc) {
        return BackendEncoder.encode(alloc, this);
    }

    /** AuthenticationCleartextPassword: asks the client for its password (the edge's token). */
    record AuthenticationCleartextPassword() implements BackendMessage {
    }

    /** AuthenticationOk. */
    record AuthenticationOk() implements BackendMessage {
    }

    /** ParameterStatus: a run-time parameter the client should know ({@code server_version}, ...). */
    record ParameterStatus(String name, String value) implements BackendMessage, Map.Entry<String, String> {
        public ParameterStatus {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String getKey() {
            return name;
        }

        @Override
        public String getValue() {
            return value;
        }

        @Override
        public String setValue(String ignored) {
            throw new UnsupportedOperationException("ParameterStatus is immutable");
        }
    }

    /** BackendKeyData: the process id and secret key a client uses in a CancelRequest. */
    record BackendKeyData(int processId, int secretKey) implements BackendMessage {
        @Override
        public String toString() {
            return "BackendKeyData[processId=" + processId + ", secretKey=<redacted>]";
        }
    }

    /** ReadyForQuery with the transaction status {@code 'I'}, {@code 'T'} or {@code 'E'}. */
    record ReadyForQuery(byte status) implements BackendMessage {
        public ReadyForQuery {
            if (status != PgProtocol.TX_IDLE && status != PgProtocol.TX_IN_TRANSACTION && status != PgProtocol.TX_FAILED) {
                throw new IllegalArgumentException("transaction status must be 'I', 'T' or 'E', got "
                        + PgProtocol.describeType(status));
            }
        }

        public static final ReadyForQuery IDLE = new ReadyForQuery(PgProtocol.TX_IDLE);
    }

    /**
     * ErrorResponse: fields by code ({@link PgProtocol#FIELD_SEVERITY}, ...), in the order given.
     * Severity, SQLSTATE and message are required.
     */
    record ErrorResponse(Map<Character, String> fields) implements BackendMessage {
        public ErrorResponse {
            fields = checkFields(fields, "ErrorResponse");
        }

        /** Severity (also sent as the non-localized 'V'), SQLSTATE, message; detail and hint may be null. */
        public ErrorResponse(String severity, String sqlState, String message, String detail, String hint) {
            this(fieldsOf(severity, sqlState, message, detail, hint));
        }

        /** An ERROR with the given SQLSTATE and message. */
        public static ErrorResponse error(String sqlState, String message) {
            return new ErrorResponse(PgProtocol.SEVERITY_ERROR, sqlState, message, null, null);
        }

        /** An ERROR with a detail line (null for none). */
        public static ErrorResponse error(String sqlState, String message, String detail) {
            return new ErrorResponse(PgProtocol.SEVERITY_ERROR, sqlState, message, detail, null);
        }

        /** A FATAL error (the edge closes the connection after sending it). */
        public static ErrorResponse fatal(String sqlState, String message) {
            return new ErrorResponse(PgProtocol.SEVERITY_FATAL, sqlState, message, null, null);
        }

        /** A FATAL error with a detail line (null for none). */
        public static ErrorResponse fatal(String sqlState, String message, String detail) {
            return new ErrorResponse(PgProtocol.SEVERITY_FATAL, sqlState, message, detail, null);
        }

        public String sqlState() {
            return fields.get(PgProtocol.FIELD_CODE);
        }

        public String message() {
            return fields.get(PgProtocol.FIELD_MESSAGE);
        }
    }

    /** NoticeResponse: same shape as {@link ErrorResponse}. */
    record NoticeResponse(Map<Character, String> fields) implements BackendMessage {
        public NoticeResponse {
            fields = checkFields(fields, "NoticeResponse");
        }

        public NoticeResponse(String severity, String sqlState, String message, String detail, String hint) {
            this(fieldsOf(severity, sqlState, message, detail, hint));
        }
    }

    /** The one-byte answer to SSLRequest/GSSENCRequest: {@code 'S'} (go ahead) or {@code 'N'}. */
    record SslResponse(byte answer) implements BackendMessage {
        public SslResponse {
            if (answer != PgProtocol.SSL_ACCEPTED && answer != PgProtocol.SSL_REJECTED) {
                throw new IllegalArgumentException("SSL response must be 'S' or 'N', got " + PgProtocol.describeType(answer));
            }
        }

        public boolean accepted() {
            return answer == PgProtocol.SSL_ACCEPTED;
        }
    }

    /** EmptyQueryResponse: answer to an empty query string. */
    record EmptyQueryResponse() implements BackendMessage {
    }

    /** CommandComplete with its tag, e.g. {@code "SELECT 1"}. */
    record CommandComplete(String tag) implements BackendMessage {
        public CommandComplete {
            Objects.requireNonNull(tag, "tag");
        }
    }

    /**
     * Complete protocol bytes written through as they are (typically {@link BackendFrame#frame()}
     * of a frame relayed from the target). Whoever holds it owns one reference; the encoder in a
     * pipeline releases it.
     */
    record RawFrame(ByteBuf frame) implements BackendMessage, ReferenceCounted {
        public RawFrame {
            Objects.requireNonNull(frame, "frame");
        }

        @Override
        public int refCnt() {
            return frame.refCnt();
        }

        @Override
        public RawFrame retain() {
            frame.retain();
            return this;
        }

        @Override
        public RawFrame retain(int increment) {
            frame.retain(increment);
            return this;
        }

        @Override
        public RawFrame touch() {
            frame.touch();
            return this;
        }

        @Override
        public RawFrame touch(Object hint) {
            frame.touch(hint);
            return this;
        }

        @Override
        public boolean release() {
            return frame.release();
        }

        @Override
        public boolean release(int decrement) {
            return frame.release(decrement);
        }

        @Override
        public String toString() {
            return "RawFrame[" + (frame.refCnt() > 0 ? frame.readableBytes() + " bytes" : "released") + "]";
        }
    }

    private static Map<Character, String> fieldsOf(String severity, String sqlState, String message,
                                                   String detail, String hint) {
        Map<Character, String> fields = new LinkedHashMap<>();
        fields.put(PgProtocol.FIELD_SEVERITY, severity);
        fields.put(PgProtocol.FIELD_SEVERITY_NONLOCALIZED, severity);
        fields.put(PgProtocol.FIELD_CODE, sqlState);
        fields.put(PgProtocol.FIELD_MESSAGE, message);
        if (detail != null) {
            fields.put(PgProtocol.FIELD_DETAIL, detail);
        }
        if (hint != null) {
            fields.put(PgProtocol.FIELD_HINT, hint);
        }
        return fields;
    }

    private static Map<Character, String> checkFields(Map<Character, String> fields, String what) {
        Objects.requireNonNull(fields, "fields");
        for (char required : new char[] {PgProtocol.FIELD_SEVERITY, PgProtocol.FIELD_CODE, PgProtocol.FIELD_MESSAGE}) {
            if (fields.get(required) == null) {
                throw new IllegalArgumentException(what + " needs field '" + required + "'");
            }
        }
        for (Map.Entry<Character, String> e : fields.entrySet()) {
            if (e.getKey() == null || e.getKey() == 0 || e.getKey() > 0x7f || e.getValue() == null) {
                throw new IllegalArgumentException(what + " has an invalid field " + e.getKey() + "=" + e.getValue());
            }
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }
}
