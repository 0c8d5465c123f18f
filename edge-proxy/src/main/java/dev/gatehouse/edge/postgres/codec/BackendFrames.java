package dev.gatehouse.edge.postgres.codec;

import dev.gatehouse.edge.postgres.codec.BackendMessage.BackendKeyData;
import dev.gatehouse.edge.postgres.codec.BackendMessage.ParameterStatus;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Parsers for the target's frames the edge inspects, given a {@link BackendFrame} (type checked) or
 * its payload. They read a view and leave the buffer untouched (reference count and indexes), so
 * the frame can still be relayed.
 * Malformed frames throw {@link PgProtocolException}.
 */
public final class BackendFrames {

    private BackendFrames() {
    }

    /**
     * An Authentication request: the code ({@link PgProtocol#AUTH_OK}, ...) and the bytes after it
     * (the MD5 salt, the SASL mechanism list, SASL server data).
     */
    public record Authentication(int code, byte[] data) {
        public Authentication {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        /** For {@link PgProtocol#AUTH_SASL}: the mechanisms offered, e.g. {@code SCRAM-SHA-256}. */
        public List<String> saslMechanisms() {
            List<String> mechanisms = new ArrayList<>();
            int from = 0;
            while (from < data.length && data[from] != 0) {
                int nul = from;
                while (nul < data.length && data[nul] != 0) {
                    nul++;
                }
                if (nul == data.length) {
                    throw new PgProtocolException("SASL mechanism list is not NUL-terminated");
                }
                mechanisms.add(new String(data, from, nul - from, StandardCharsets.UTF_8));
                from = nul + 1;
            }
            return List.copyOf(mechanisms);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Authentication other && code == other.code && Arrays.equals(data, other.data);
        }

        @Override
        public int hashCode() {
            return 31 * code + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Authentication[code=" + code + ", " + data.length + " data bytes]";
        }
    }

    /** ReadyForQuery ('Z'): the transaction status 'I', 'T' or 'E'. */
    public static byte parseReadyForQuery(BackendFrame frame) {
        return parseReadyForQuery(payloadOf(frame, PgProtocol.BE_READY_FOR_QUERY));
    }

    /** ReadyForQuery from its payload (the bytes after the length field). */
    public static byte parseReadyForQuery(ByteBuf payload) {
        FieldReader r = reader(payload, PgProtocol.BE_READY_FOR_QUERY);
        byte status = r.int8("transaction status");
        r.end();
        if (status != PgProtocol.TX_IDLE && status != PgProtocol.TX_IN_TRANSACTION && status != PgProtocol.TX_FAILED) {
            throw new PgProtocolException("target ReadyForQuery has unknown transaction status "
                    + PgProtocol.describeType(status));
        }
        return status;
    }

    /** CommandComplete ('C'): the command tag, e.g. {@code "INSERT 0 5"}. */
    public static String parseCommandComplete(BackendFrame frame) {
        return parseCommandComplete(payloadOf(frame, PgProtocol.BE_COMMAND_COMPLETE));
    }

    /** CommandComplete from its payload. */
    public static String parseCommandComplete(ByteBuf payload) {
        FieldReader r = reader(payload, PgProtocol.BE_COMMAND_COMPLETE);
        String tag = r.cstring("command tag");
        r.end();
        return tag;
    }

    /**
     * Rows affected or returned, from a command tag: the last number of {@code INSERT oid rows},
     * {@code SELECT rows}, {@code UPDATE}, {@code DELETE}, {@code MERGE}, {@code FETCH},
     * {@code MOVE}, {@code COPY}; empty for tags without a count ({@code CREATE TABLE}, ...).
     */
    public static OptionalLong rowCount(String tag) {
        String[] words = tag.trim().split(" ");
        int expectedWords = switch (words[0]) {
            case "INSERT" -> 3;
            case "SELECT", "UPDATE", "DELETE", "MERGE", "FETCH", "MOVE", "COPY" -> 2;
            default -> -1;
        };
        if (words.length != expectedWords) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(words[words.length - 1]));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** {@link #rowCount(String)} or 0 for tags without a count. */
    public static long rowsOf(String tag) {
        return rowCount(tag).orElse(0);
    }

    /** The command word of a tag: {@code "INSERT"} for {@code "INSERT 0 5"}, {@code "CREATE TABLE"} as is. */
    public static String commandName(String tag) {
        return rowCount(tag).isPresent() ? tag.substring(0, tag.indexOf(' ')) : tag;
    }

    /** ErrorResponse ('E') or NoticeResponse ('N'): fields by code, in the order sent. */
    public static Map<Character, String> parseErrorOrNotice(BackendFrame frame) {
        byte type = frame.type();
        if (type != PgProtocol.BE_ERROR_RESPONSE && type != PgProtocol.BE_NOTICE_RESPONSE) {
            throw new PgProtocolException("expected an ErrorResponse or NoticeResponse from the target but got "
                    + PgProtocol.describeType(type));
        }
        return parseErrorOrNotice(frame.payload());
    }

    /** ErrorResponse or NoticeResponse fields from the payload. */
    public static Map<Character, String> parseErrorOrNotice(ByteBuf payload) {
        FieldReader r = new FieldReader(payload.duplicate(), "target ErrorResponse/NoticeResponse");
        Map<Character, String> fields = new LinkedHashMap<>();
        while (true) {
            byte code = r.int8("field code");
            if (code == 0) {
                break;
            }
            fields.put((char) (code & 0xff), r.cstring("field " + (char) (code & 0xff)));
        }
        r.end();
        return Collections.unmodifiableMap(fields);
    }

    /** BackendKeyData ('K'): process id and secret key. */
    public static BackendKeyData parseBackendKeyData(BackendFrame frame) {
        return parseBackendKeyData(payloadOf(frame, PgProtocol.BE_BACKEND_KEY_DATA));
    }

    /** BackendKeyData from its payload. */
    public static BackendKeyData parseBackendKeyData(ByteBuf payload) {
        FieldReader r = reader(payload, PgProtocol.BE_BACKEND_KEY_DATA);
        BackendKeyData data = new BackendKeyData(r.int32("process id"), r.int32("secret key"));
        r.end();
        return data;
    }

    /** ParameterStatus ('S'): name and value (also a {@code Map.Entry}). */
    public static ParameterStatus parseParameterStatus(BackendFrame frame) {
        return parseParameterStatus(payloadOf(frame, PgProtocol.BE_PARAMETER_STATUS));
    }

    /** ParameterStatus from its payload. */
    public static ParameterStatus parseParameterStatus(ByteBuf payload) {
        FieldReader r = reader(payload, PgProtocol.BE_PARAMETER_STATUS);
        ParameterStatus status = new ParameterStatus(r.cstring("name"), r.cstring("value"));
        r.end();
        return status;
    }

    /** Authentication ('R'): the code and the remaining bytes. */
    public static Authentication parseAuthentication(BackendFrame frame) {
        return parseAuthentication(payloadOf(frame, PgProtocol.BE_AUTHENTICATION));
    }

    /** Authentication from its payload. */
    public static Authentication parseAuthentication(ByteBuf payload) {
        FieldReader r = reader(payload, PgProtocol.BE_AUTHENTICATION);
        int code = r.int32("authentication code");
        byte[] data = r.bytes(r.remaining(), "authentication data");
        if (code == PgProtocol.AUTH_MD5_PASSWORD && data.length != 4) {
            throw new PgProtocolException("target AuthenticationMD5Password carries " + data.length
                    + " salt bytes, expected 4");
        }
        return new Authentication(code, data);
    }

    /** DataRow ('D'): column values, a null element for SQL NULL. */
    public static List<byte[]> parseDataRow(BackendFrame frame) {
        return parseDataRow(payloadOf(frame, PgProtocol.BE_DATA_ROW));
    }

    /** DataRow from its payload. */
    public static List<byte[]> parseDataRow(ByteBuf payload) {
        FieldReader r = reader(payload, PgProtocol.BE_DATA_ROW);
        int count = r.count16("column count");
        List<byte[]> values = new ArrayList<>(Math.min(count, r.remaining() / 4 + 1));
        for (int i = 0; i < count; i++) {
            values.add(r.lengthPrefixedValue("column " + (i + 1)));
        }
        r.end();
        return Collections.unmodifiableList(values);
    }

    private static ByteBuf payloadOf(BackendFrame frame, byte expected) {
        if (frame.type() != expected) {
            throw new PgProtocolException("expected target message " + PgProtocol.describeType(expected)
                    + " but got " + PgProtocol.describeType(frame.type()));
        }
        return frame.payload();
    }

    private static FieldReader reader(ByteBuf payload, byte type) {
        return new FieldReader(payload.duplicate(), "target message " + PgProtocol.describeType(type));
    }
}
