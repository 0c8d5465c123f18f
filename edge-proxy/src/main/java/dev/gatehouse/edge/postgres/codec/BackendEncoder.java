package dev.gatehouse.edge.postgres.codec;

import dev.gatehouse.edge.postgres.codec.BackendMessage.AuthenticationCleartextPassword;
import dev.gatehouse.edge.postgres.codec.BackendMessage.AuthenticationOk;
import dev.gatehouse.edge.postgres.codec.BackendMessage.BackendKeyData;
import dev.gatehouse.edge.postgres.codec.BackendMessage.CommandComplete;
import dev.gatehouse.edge.postgres.codec.BackendMessage.EmptyQueryResponse;
import dev.gatehouse.edge.postgres.codec.BackendMessage.ErrorResponse;
import dev.gatehouse.edge.postgres.codec.BackendMessage.NoticeResponse;
import dev.gatehouse.edge.postgres.codec.BackendMessage.ParameterStatus;
import dev.gatehouse.edge.postgres.codec.BackendMessage.RawFrame;
import dev.gatehouse.edge.postgres.codec.BackendMessage.ReadyForQuery;
import dev.gatehouse.edge.postgres.codec.BackendMessage.SslResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;
import java.util.Map;

import static dev.gatehouse.edge.postgres.codec.FieldWriter.begin;
import static dev.gatehouse.edge.postgres.codec.FieldWriter.cstring;
import static dev.gatehouse.edge.postgres.codec.FieldWriter.end;

/**
 * Server-side encoder of the messages the edge sends to a client. A {@link RawFrame} passes through
 * without copying; other messages are encoded into a new buffer. Plain {@link ByteBuf}s are not
 * touched by this handler. In a pipeline the message is released after encoding.
 *
 * <p>The static helpers serve code that writes through a Vert.x socket
 * ({@code Buffer.buffer(byteBuf)}); they never release the message and the returned buffer belongs
 * to the caller.
 */
@ChannelHandler.Sharable
public final class BackendEncoder extends MessageToMessageEncoder<BackendMessage> {

    public BackendEncoder() {
        super(BackendMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, BackendMessage msg, List<Object> out) {
        if (msg instanceof RawFrame raw) {
            out.add(raw.frame().retain());
        } else {
            out.add(encode(ctx.alloc(), msg));
        }
    }

    /** Encodes {@code msg} into a new buffer (a retained duplicate for a {@link RawFrame}). */
    public static ByteBuf encode(ByteBufAllocator alloc, BackendMessage msg) {
        if (msg instanceof RawFrame raw) {
            return raw.frame().retainedDuplicate();
        }
        ByteBuf out = alloc.buffer(64);
        try {
            encode(msg, out);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** Encodes several messages into one buffer, e.g. an ErrorResponse followed by ReadyForQuery. */
    public static ByteBuf encodeAll(ByteBufAllocator alloc, BackendMessage... messages) {
        ByteBuf out = alloc.buffer(128);
        try {
            for (BackendMessage m : messages) {
                encode(m, out);
            }
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** Appends the bytes of {@code msg} to {@code out} (a RawFrame is copied). */
    public static void encode(BackendMessage msg, ByteBuf out) {
        switch (msg) {
            case AuthenticationCleartextPassword ignored -> encodeAuthentication(out, PgProtocol.AUTH_CLEARTEXT_PASSWORD);
            case AuthenticationOk ignored -> encodeAuthentication(out, PgProtocol.AUTH_OK);
            case ParameterStatus m -> encodeParameterStatus(out, m);
            case BackendKeyData m -> encodeBackendKeyData(out, m);
            case ReadyForQuery m -> encodeReadyForQuery(out, m);
            case ErrorResponse m -> encodeFields(out, PgProtocol.BE_ERROR_RESPONSE, m.fields());
            case NoticeResponse m -> encodeFields(out, PgProtocol.BE_NOTICE_RESPONSE, m.fields());
            case SslResponse m -> out.writeByte(m.answer());
            case EmptyQueryResponse ignored -> {
                out.writeByte(PgProtocol.BE_EMPTY_QUERY_RESPONSE);
                out.writeInt(4);
            }
            case CommandComplete m -> encodeCommandComplete(out, m);
            case RawFrame m -> out.writeBytes(m.frame(), m.frame().readerIndex(), m.frame().readableBytes());
        }
    }

    private static void encodeAuthentication(ByteBuf out, int code) {
        out.writeByte(PgProtocol.BE_AUTHENTICATION);
        out.writeInt(8);
        out.writeInt(code);
    }

    private static void encodeParameterStatus(ByteBuf out, ParameterStatus m) {
        int lengthIndex = begin(out, PgProtocol.BE_PARAMETER_STATUS);
        cstring(out, m.name());
        cstring(out, m.value());
        end(out, lengthIndex);
    }

    private static void encodeBackendKeyData(ByteBuf out, BackendKeyData m) {
        out.writeByte(PgProtocol.BE_BACKEND_KEY_DATA);
        out.writeInt(12);
        out.writeInt(m.processId());
        out.writeInt(m.secretKey());
    }

    private static void encodeReadyForQuery(ByteBuf out, ReadyForQuery m) {
        out.writeByte(PgProtocol.BE_READY_FOR_QUERY);
        out.writeInt(5);
        out.writeByte(m.status());
    }

    private static void encodeFields(ByteBuf out, byte type, Map<Character, String> fields) {
        int lengthIndex = begin(out, type);
        for (Map.Entry<Character, String> e : fields.entrySet()) {
            out.writeByte(e.getKey());
            cstring(out, e.getValue());
        }
        out.writeByte(0);
        end(out, lengthIndex);
    }

    private static void encodeCommandComplete(ByteBuf out, CommandComplete m) {
        int lengthIndex = begin(out, PgProtocol.BE_COMMAND_COMPLETE);
        cstring(out, m.tag());
        end(out, lengthIndex);
    }
}
