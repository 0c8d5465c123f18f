package dev.gatehouse.edge.postgres.codec;

import dev.gatehouse.edge.postgres.codec.FrontendMessage.Bind;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CancelRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Close;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyData;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyDone;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyFail;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Describe;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Execute;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Flush;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.FunctionCall;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.GssEncRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Parse;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.PasswordMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Query;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.SslRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.StartupMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Sync;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Terminate;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Server-side decoder of the frontend (client) protocol: bytes from a PostgreSQL client into
 * {@link FrontendMessage}s.
 *
 * <p>Starts in the startup phase (length-prefixed packets without a type byte: SSLRequest,
 * GSSENCRequest, CancelRequest, StartupMessage). SSLRequest and GSSENCRequest keep it in that
 * phase; bytes that arrive in the same read right behind them are rejected (unencrypted data
 * smuggled ahead of the TLS handshake). After a StartupMessage it decodes regular messages (type
 * byte + Int32 length). After a CancelRequest no further input is allowed.
 *
 * <p>The declared length is checked against the limit as soon as the header is readable, before
 * the body is accumulated. Regular messages are limited by {@code maxMessageSize} (length field
 * included); CopyData by {@code maxCopyDataSize}, which the one-argument constructor sets to the
 * same value (clients chunk COPY data: libpq sends 8 KiB-ish pieces, pgjdbc its buffer size).
 * Startup packets are limited to {@link PgProtocol#MAX_STARTUP_PACKET_LENGTH} like PostgreSQL.
 *
 * <p>Any violation throws {@link PgProtocolException}; the decoder then discards all further input.
 * CopyData carries a retained slice of the input, owned by the receiver.
 */
public final class FrontendDecoder extends ByteToMessageDecoder {

    private static final Logger LOGGER = LoggerFactory.getLogger(FrontendDecoder.class);

    private enum Phase { STARTUP, REGULAR, CANCEL_SENT, FAILED }

    private final int maxMessageSize;
    private final int maxCopyDataSize;
    private Phase phase = Phase.STARTUP;

    /** A decoder with the same limit for every regular message, CopyData included. */
    public FrontendDecoder(int maxMessageSize) {
        this(maxMessageSize, maxMessageSize);
    }

    /**
     * @param maxMessageSize  largest regular message accepted, length field included (at least 5)
     * @param maxCopyDataSize largest CopyData message accepted, length field included
     */
    public FrontendDecoder(int maxMessageSize, int maxCopyDataSize) {
        if (maxMessageSize < 5 || maxCopyDataSize < 5) {
            throw new IllegalArgumentException("message size limits must be at least 5 bytes, got "
                    + maxMessageSize + " and " + maxCopyDataSize);
        }
        this.maxMessageSize = maxMessageSize;
        this.maxCopyDataSize = maxCopyDataSize;
    }

    /** True once a StartupMessage has been decoded. */
    public boolean isStartupComplete() {
        return phase == Phase.REGULAR;
    }

    /** True after a protocol violation: all further input is discarded. */
    public boolean isFailed() {
        return phase == Phase.FAILED;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            switch (phase) {
                case STARTUP -> decodeStartupPacket(in, out);
                case REGULAR -> decodeMessage(in, out);
                case CANCEL_SENT -> throw new PgProtocolException("client sent " + in.readableBytes()
                        + " bytes after a CancelRequest; a cancel connection carries nothing else");
                case FAILED -> in.skipBytes(in.readableBytes());
            }
        } catch (PgProtocolException e) {
            phase = Phase.FAILED;
            in.skipBytes(in.readableBytes());
            LOGGER.debug("frontend protocol violation: {}", e.getMessage());
            throw e;
        }
    }

    // ---------------------------------------------------------------- startup phase

    private void decodeStartupPacket(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int start = in.readerIndex();
        int length = in.getInt(start);
        if (length < 8 || length > PgProtocol.MAX_STARTUP_PACKET_LENGTH) {
            throw new PgProtocolException(describeBadStartup(in, start, length));
        }
        if (in.readableBytes() < length) {
            return;
        }
        in.skipBytes(4);
        ByteBuf body = in.readSlice(length - 4);
        int code = body.readInt();
        switch (code) {
            case PgProtocol.SSL_REQUEST_CODE -> {
                expectEnd(body, "SSLRequest");
                out.add(new SslRequest());
                rejectSmuggledBytes(in, "SSLRequest");
            }
            case PgProtocol.GSSENC_REQUEST_CODE -> {
                expectEnd(body, "GSSENCRequest");
                out.add(new GssEncRequest());
                rejectSmuggledBytes(in, "GSSENCRequest");
            }
            case PgProtocol.CANCEL_REQUEST_CODE -> {
                if (length != 16) {
                    throw new PgProtocolException("CancelRequest is " + length
                            + " bytes long, expected 16 (longer secret keys of protocol 3.2 are not supported)");
                }
                out.add(new CancelRequest(body.readInt(), body.readInt()));
                phase = Phase.CANCEL_SENT;
            }
            default -> {
                out.add(decodeStartupMessage(code, body));
                phase = Phase.REGULAR;
            }
        }
    }

    private static StartupMessage decodeStartupMessage(int version, ByteBuf body) {
        int major = version >>> 16;
        if (major != PgProtocol.PROTOCOL_MAJOR_VERSION) {
            throw new PgProtocolException("unsupported frontend protocol " + major + "." + (version & 0xffff)
                    + " (code " + version + "): the server supports protocol 3.x only");
        }
        FieldReader r = new FieldReader(body, "StartupMessage");
        LinkedHashMap<String, String> parameters = new LinkedHashMap<>();
        while (true) {
            String name = r.cstring("parameter name");
            if (name.isEmpty()) {
                break;
            }
            String value = r.cstring("value of parameter '" + name + "'");
            if (parameters.putIfAbsent(name, value) != null) {
                throw new PgProtocolException("StartupMessage repeats parameter '" + name + "'");
            }
        }
        r.end();
        return new StartupMessage(version, parameters);
    }

    private static void expectEnd(ByteBuf body, String what) {
        if (body.isReadable()) {
            throw new PgProtocolException(what + " must be exactly 8 bytes long but has "
                    + body.readableBytes() + " extra bytes");
        }
    }

    private static void rejectSmuggledBytes(ByteBuf in, String request) {
        if (in.isReadable()) {
            throw new PgProtocolException("received " + in.readableBytes() + " bytes of unencrypted data after "
                    + request + " before the answer was sent (possible man-in-the-middle injection)");
        }
    }

    private static String describeBadStartup(ByteBuf in, int start, int length) {
        int b0 = in.getUnsignedByte(start);
        int b1 = in.getUnsignedByte(start + 1);
        if (b0 == 0x16 && b1 == 0x03) {
            return "expected a PostgreSQL startup packet but got a TLS ClientHello: the client tried direct TLS "
                    + "(sslnegotiation=direct), which this endpoint does not support; use sslnegotiation=postgres";
        }
        if (isPrintable(in, start, 4)) {
            String prefix = in.toString(start, 4, java.nio.charset.StandardCharsets.US_ASCII);
            return "expected a PostgreSQL startup packet but got text starting with \"" + prefix
                    + "\" (an HTTP request or another protocol sent to the PostgreSQL port?)";
        }
        return "invalid startup packet length " + length + " (must be between 8 and "
                + PgProtocol.MAX_STARTUP_PACKET_LENGTH + "): not a PostgreSQL client?";
    }

    private static boolean isPrintable(ByteBuf in, int start, int n) {
        for (int i = start; i < start + n; i++) {
            byte b = in.getByte(i);
            if (b < 0x20 || b > 0x7e) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- regular phase

    private void decodeMessage(ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int start = in.readerIndex();
            byte type = in.getByte(start);
            if (!isKnownType(type)) {
                throw new PgProtocolException("unknown frontend message type " + PgProtocol.describeType(type)
                        + " after startup");
            }
            if (in.readableBytes() < 5) {
                return;
            }
            int length = in.getInt(start + 1);
            if (length < 4) {
                throw new PgProtocolException("message " + PgProtocol.describeType(type) + " declares length "
                        + length + ", less than the 4 bytes of the length field itself");
            }
            int limit = type == PgProtocol.FE_COPY_DATA ? maxCopyDataSize : maxMessageSize;
            if (length > limit) {
                throw new PgProtocolException("message " + PgProtocol.describeType(type) + " declares " + length
                        + " bytes, over the " + limit + "-byte limit");
            }
            if (in.readableBytes() < 1 + length) {
                return;
            }
            in.skipBytes(5);
            if (type == PgProtocol.FE_COPY_DATA) {
                out.add(new CopyData(in.readRetainedSlice(length - 4)));
                continue;
            }
            ByteBuf body = in.readSlice(length - 4);
            out.add(decodeBody(type, new FieldReader(body, "message " + PgProtocol.describeType(type)), body));
        }
    }

    private static boolean isKnownType(byte type) {
        return switch (type) {
            case PgProtocol.FE_PASSWORD, PgProtocol.FE_QUERY, PgProtocol.FE_PARSE, PgProtocol.FE_BIND,
                 PgProtocol.FE_DESCRIBE, PgProtocol.FE_EXECUTE, PgProtocol.FE_CLOSE, PgProtocol.FE_SYNC,
                 PgProtocol.FE_FLUSH, PgProtocol.FE_COPY_DATA, PgProtocol.FE_COPY_DONE, PgProtocol.FE_COPY_FAIL,
                 PgProtocol.FE_FUNCTION_CALL, PgProtocol.FE_TERMINATE -> true;
            default -> false;
        };
    }

    private static FrontendMessage decodeBody(byte type, FieldReader r, ByteBuf body) {
        FrontendMessage message = switch (type) {
            case PgProtocol.FE_PASSWORD -> decodePassword(r);
            case PgProtocol.FE_QUERY -> new Query(r.cstring("query"));
            case PgProtocol.FE_PARSE -> decodeParse(r);
            case PgProtocol.FE_BIND -> decodeBind(r);
            case PgProtocol.FE_DESCRIBE -> new Describe(target(r, "Describe"), r.cstring("name"));
            case PgProtocol.FE_EXECUTE -> new Execute(r.cstring("portal"), r.int32("max rows"));
            case PgProtocol.FE_CLOSE -> new Close(target(r, "Close"), r.cstring("name"));
            case PgProtocol.FE_SYNC -> new Sync();
            case PgProtocol.FE_FLUSH -> new Flush();
            case PgProtocol.FE_COPY_DONE -> new CopyDone();
            case PgProtocol.FE_COPY_FAIL -> new CopyFail(r.cstring("error message"));
            case PgProtocol.FE_FUNCTION_CALL -> decodeFunctionCall(r);
            case PgProtocol.FE_TERMINATE -> new Terminate();
            default -> throw new IllegalStateException("type checked before: " + type);
        };
        r.end();
        return message;
    }

    private static PasswordMessage decodePassword(FieldReader r) {
        return new PasswordMessage(r.bytes(r.remaining(), "data"));
    }

    private static byte target(FieldReader r, String message) {
        byte kind = r.int8("kind");
        if (kind != PgProtocol.TARGET_STATEMENT && kind != PgProtocol.TARGET_PORTAL) {
            throw new PgProtocolException(message + " target must be 'S' (statement) or 'P' (portal), got "
                    + PgProtocol.describeType(kind));
        }
        return kind;
    }

    private static Parse decodeParse(FieldReader r) {
        String statement = r.cstring("statement name");
        String query = r.cstring("query");
        int count = r.count16("parameter type count");
        int[] types = new int[count];
        for (int i = 0; i < count; i++) {
            types[i] = r.int32("parameter type " + i);
        }
        return new Parse(statement, query, types);
    }

    private static Bind decodeBind(FieldReader r) {
        String portal = r.cstring("portal name");
        String statement = r.cstring("statement name");
        short[] formats = formatCodes(r, "parameter format");
        int count = r.count16("parameter count");
        if (formats.length > 1 && formats.length != count) {
            throw new PgProtocolException("message 'B' has " + formats.length + " parameter formats but "
                    + count + " parameters");
        }
        List<byte[]> values = new ArrayList<>(Math.min(count, r.remaining() / 4 + 1));
        for (int i = 0; i < count; i++) {
            values.add(r.lengthPrefixedValue("parameter " + (i + 1)));
        }
        short[] resultFormats = formatCodes(r, "result format");
        return new Bind(portal, statement, formats, values, resultFormats);
    }

    private static FunctionCall decodeFunctionCall(FieldReader r) {
        int oid = r.int32("function oid");
        short[] formats = formatCodes(r, "argument format");
        int count = r.count16("argument count");
        if (formats.length > 1 && formats.length != count) {
            throw new PgProtocolException("message 'F' has " + formats.length + " argument formats but "
                    + count + " arguments");
        }
        List<byte[]> args = new ArrayList<>(Math.min(count, r.remaining() / 4 + 1));
        for (int i = 0; i < count; i++) {
            args.add(r.lengthPrefixedValue("argument " + (i + 1)));
        }
        short resultFormat = checkFormat(r.int16("result format"), "result format");
        return new FunctionCall(oid, formats, args, resultFormat);
    }

    private static short[] formatCodes(FieldReader r, String field) {
        int count = r.count16(field + " count");
        if (r.remaining() < 2 * count) {
            r.bytes(2 * count, field + " codes"); // throws the truncation error
        }
        short[] formats = new short[count];
        for (int i = 0; i < count; i++) {
            formats[i] = checkFormat(r.int16(field + " " + i), field + " " + i);
        }
        return formats;
    }

    private static short checkFormat(short format, String field) {
        if (format != 0 && format != 1) {
            throw new PgProtocolException("invalid " + field + " code " + format + " (must be 0 = text or 1 = binary)");
        }
        return format;
    }
}
