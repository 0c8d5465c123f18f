package dev.gatehouse.edge.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;

/**
 * A message from a PostgreSQL client (frontend) to a server (backend), protocol 3.0.
 *
 * <p>Records with array fields compare by content, so {@code decode(encode(m)).equals(m)}. Only
 * {@link CopyData} holds a {@link ByteBuf}: whoever receives a {@code CopyData} owns one reference
 * and must release it (writing it through {@link FrontendEncoder} in a pipeline releases it).
 * Strings are UTF-8; {@code toString} never prints passwords or bound parameter values.
 */
public sealed interface FrontendMessage {

    /** SSLRequest: the client asks to switch to TLS before the StartupMessage. */
    record SslRequest() implements FrontendMessage {
    }

    /** GSSENCRequest: the client asks for GSSAPI encryption before the StartupMessage. */
    record GssEncRequest() implements FrontendMessage {
    }

    /** CancelRequest, sent on a fresh connection to cancel the query of another session. */
    record CancelRequest(int processId, int secretKey) implements FrontendMessage {
        @Override
        public String toString() {
            return "CancelRequest[processId=" + processId + ", secretKey=<redacted>]";
        }
    }

    /**
     * StartupMessage: protocol version (major 3) and the parameters in the order sent
     * ({@code user}, {@code database}, {@code application_name}, {@code client_encoding}, ...).
     */
    record StartupMessage(int protocolVersion, LinkedHashMap<String, String> parameters) implements FrontendMessage {
        public StartupMessage {
            parameters = new LinkedHashMap<>(Objects.requireNonNull(parameters, "parameters"));
        }

        /** The {@code user} parameter, or null when absent (PostgreSQL requires it). */
        public String user() {
            return parameters.get("user");
        }

        /** The {@code database} parameter, defaulting to the user name as PostgreSQL does. */
        public String database() {
            String db = parameters.get("database");
            return db == null || db.isEmpty() ? user() : db;
        }

        public int majorVersion() {
            return protocolVersion >>> 16;
        }

        public int minorVersion() {
            return protocolVersion & 0xffff;
        }
    }

    /**
     * A 'p' message: PasswordMessage, SASLInitialResponse or SASLResponse. The body is kept as raw
     * bytes because its layout depends on the authentication exchange; for a password it is a
     * NUL-terminated string, see {@link #asCleartext()}.
     */
    record PasswordMessage(byte[] data) implements FrontendMessage {
        public PasswordMessage {
            data = Objects.requireNonNull(data, "data").clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        /** A PasswordMessage carrying {@code password} (cleartext or an {@code md5...} digest). */
        public static PasswordMessage cleartext(String password) {
            byte[] bytes = password.getBytes(StandardCharsets.UTF_8);
            return new PasswordMessage(Arrays.copyOf(bytes, bytes.length + 1));
        }

        /** A SASLInitialResponse: mechanism name, then the length-prefixed client-first-message. */
        public static PasswordMessage saslInitialResponse(String mechanism, byte[] initialResponse) {
            byte[] mech = mechanism.getBytes(StandardCharsets.UTF_8);
            byte[] body = new byte[mech.length + 1 + 4 + initialResponse.length];
            System.arraycopy(mech, 0, body, 0, mech.length);
            int p = mech.length + 1;
            body[p] = (byte) (initialResponse.length >>> 24);
            body[p + 1] = (byte) (initialResponse.length >>> 16);
            body[p + 2] = (byte) (initialResponse.length >>> 8);
            body[p + 3] = (byte) initialResponse.length;
            System.arraycopy(initialResponse, 0, body, p + 4, initialResponse.length);
            return new PasswordMessage(body);
        }

        /** A SASLResponse: the raw client message of the SASL exchange. */
        public static PasswordMessage saslResponse(byte[] response) {
            return new PasswordMessage(response);
        }

        /**
         * The body read as a NUL-terminated UTF-8 password.
         *
         * @throws PgProtocolException if the body is not a single NUL-terminated string
         */
        public String asCleartext() {
            if (data.length == 0 || data[data.length - 1] != 0) {
                throw new PgProtocolException("password message is not a NUL-terminated string");
            }
            for (int i = 0; i < data.length - 1; i++) {
                if (data[i] == 0) {
                    throw new PgProtocolException("password message has bytes after the NUL terminator");
                }
            }
            return new String(data, 0, data.length - 1, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PasswordMessage other && Arrays.equals(data, other.data);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "PasswordMessage[" + data.length + " bytes, redacted]";
        }
    }

    /** Simple Query. */
    record Query(String sql) implements FrontendMessage {
        public Query {
            Objects.requireNonNull(sql, "sql");
        }
    }

    /** Parse: statement name ("" = unnamed), query text and parameter type OIDs (0 = unspecified). */
    record Parse(String statement, String query, int[] parameterTypes) implements FrontendMessage {
        public Parse {
            Objects.requireNonNull(statement, "statement");
            Objects.requireNonNull(query, "query");
            parameterTypes = parameterTypes == null ? new int[0] : parameterTypes.clone();
        }

        @Override
        public int[] parameterTypes() {
            return parameterTypes.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Parse other && statement.equals(other.statement) && query.equals(other.query)
                    && Arrays.equals(parameterTypes, other.parameterTypes);
        }

        @Override
        public int hashCode() {
            return Objects.hash(statement, query, Arrays.hashCode(parameterTypes));
        }

        @Override
        public String toString() {
            return "Parse[statement=" + statement + ", query=" + query + ", parameterTypes="
                    + Arrays.toString(parameterTypes) + "]";
        }
    }

    /**
     * Bind: portal and statement names, parameter format codes (0 = text, 1 = binary; none = all
     * text, one = applies to all), parameter values (a null element is SQL NULL) and result formats.
     */
    record Bind(String portal, String statement, short[] parameterFormats, List<byte[]> parameters,
                short[] resultFormats) implements FrontendMessage {
        public Bind {
            Objects.requireNonNull(portal, "portal");
            Objects.requireNonNull(statement, "statement");
            parameterFormats = parameterFormats == null ? new short[0] : parameterFormats.clone();
            resultFormats = resultFormats == null ? new short[0] : resultFormats.clone();
            List<byte[]> copy = new ArrayList<>(parameters == null ? 0 : parameters.size());
            if (parameters != null) {
                for (byte[] p : parameters) {
                    copy.add(p == null ? null : p.clone());
                }
            }
            parameters = Collections.unmodifiableList(copy);
        }

        @Override
        public short[] parameterFormats() {
            return parameterFormats.clone();
        }

        @Override
        public short[] resultFormats() {
            return resultFormats.clone();
        }

        /** The format code of parameter {@code index} after applying the none/one/each rule. */
        public short parameterFormat(int index) {
            return switch (parameterFormats.length) {
                case 0 -> 0;
                case 1 -> parameterFormats[0];
                default -> parameterFormats[index];
            };
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Bind other && portal.equals(other.portal) && statement.equals(other.statement)
                    && Arrays.equals(parameterFormats, other.parameterFormats)
                    && Arrays.equals(resultFormats, other.resultFormats)
                    && ByteArrays.listEquals(parameters, other.parameters);
        }

        @Override
        public int hashCode() {
            return Objects.hash(portal, statement, Arrays.hashCode(parameterFormats),
                    Arrays.hashCode(resultFormats), ByteArrays.listHashCode(parameters));
        }

        @Override
        public String toString() {
            return "Bind[portal=" + portal + ", statement=" + statement + ", parameterFormats="
                    + Arrays.toString(parameterFormats) + ", parameters=" + ByteArrays.describe(parameters)
                    + ", resultFormats=" + Arrays.toString(resultFormats) + "]";
        }
    }

    /** Describe a statement ({@code 'S'}) or portal ({@code 'P'}). */
    record Describe(byte kind, String name) implements FrontendMessage {
        public Describe {
            Objects.requireNonNull(name, "name");
        }
    }

    /** Execute a portal, returning at most {@code maxRows} rows (0 = all). */
    record Execute(String portal, int maxRows) implements FrontendMessage {
        public Execute {
            Objects.requireNonNull(portal, "portal");
        }
    }

    /** Close a statement ({@code 'S'}) or portal ({@code 'P'}). */
    record Close(byte kind, String name) implements FrontendMessage {
        public Close {
            Objects.requireNonNull(name, "name");
        }
    }

    /** Sync: end of an extended-protocol batch. */
    record Sync() implements FrontendMessage {
    }

    /** Flush: ask the server to send what it has. */
    record Flush() implements FrontendMessage {
    }

    /**
     * CopyData from the client during COPY FROM STDIN. Holds a reference-counted buffer: the
     * receiver of this message owns one reference and must {@link #release()} it.
     */
    record CopyData(ByteBuf data) implements FrontendMessage, ReferenceCounted {
        public CopyData {
            Objects.requireNonNull(data, "data");
        }

        @Override
        public int refCnt() {
            return data.refCnt();
        }

        @Override
        public CopyData retain() {
            data.retain();
            return this;
        }

        @Override
        public CopyData retain(int increment) {
            data.retain(increment);
            return this;
        }

        @Override
        public CopyData touch() {
            data.touch();
            return this;
        }

        @Override
        public CopyData touch(Object hint) {
            data.touch(hint);
            return this;
        }

        @Override
        public boolean release() {
            return data.release();
        }

        @Override
        public boolean release(int decrement) {
            return data.release(decrement);
        }

        @Override
        public String toString() {
            return "CopyData[" + (data.refCnt() > 0 ? data.readableBytes() + " bytes" : "released") + "]";
        }
    }

    /** CopyDone: the client finished sending COPY data. */
    record CopyDone() implements FrontendMessage {
    }

    /** CopyFail: the client aborts COPY FROM STDIN with a reason. */
    record CopyFail(String message) implements FrontendMessage {
        public CopyFail {
            Objects.requireNonNull(message, "message");
        }
    }

    /** FunctionCall (legacy fast-path call of a function by OID). */
    record FunctionCall(int functionOid, short[] argumentFormats, List<byte[]> arguments, short resultFormat)
            implements FrontendMessage {
        public FunctionCall {
            argumentFormats = argumentFormats == null ? new short[0] : argumentFormats.clone();
            List<byte[]> copy = new ArrayList<>(arguments == null ? 0 : arguments.size());
            if (arguments != null) {
                for (byte[] a : arguments) {
                    copy.add(a == null ? null : a.clone());
                }
            }
            arguments = Collections.unmodifiableList(copy);
        }

        @Override
        public short[] argumentFormats() {
            return argumentFormats.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FunctionCall other && functionOid == other.functionOid
                    && resultFormat == other.resultFormat
                    && Arrays.equals(argumentFormats, other.argumentFormats)
                    && ByteArrays.listEquals(arguments, other.arguments);
        }

        @Override
        public int hashCode() {
            return Objects.hash(functionOid, resultFormat, Arrays.hashCode(argumentFormats),
                    ByteArrays.listHashCode(arguments));
        }

        @Override
        public String toString() {
            return "FunctionCall[functionOid=" + functionOid + ", argumentFormats=" + Arrays.toString(argumentFormats)
                    + ", arguments=" + ByteArrays.describe(arguments) + ", resultFormat=" + resultFormat + "]";
        }
    }

    /** Terminate: the client closes the session. */
    record Terminate() implements FrontendMessage {
    }
}
