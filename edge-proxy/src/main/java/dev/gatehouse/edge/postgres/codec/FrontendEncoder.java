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
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

import java.util.Map;

import static dev.gatehouse.edge.postgres.codec.FieldWriter.begin;
import static dev.gatehouse.edge.postgres.codec.FieldWriter.beginUntyped;
import static dev.gatehouse.edge.postgres.codec.FieldWriter.cstring;
import static dev.gatehouse.edge.postgres.codec.FieldWriter.end;

/**
 * Client-side encoder: {@link FrontendMessage}s into protocol bytes, to forward client messages to
 * the target and to send the edge's own StartupMessage and authentication messages.
 *
 * <p>In a pipeline it releases what it writes (a {@link CopyData} included), as Netty encoders do.
 * The static {@code encode} helpers never release the message. {@link FrontendDecoder} inverts it:
 * {@code decode(encode(m)).equals(m)}.
 */
@ChannelHandler.Sharable
public final class FrontendEncoder extends MessageToByteEncoder<FrontendMessage> {

    public FrontendEncoder() {
        super(FrontendMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, FrontendMessage msg, ByteBuf out) {
        encode(msg, out);
    }

    /** Encodes {@code msg} into a new buffer from {@code alloc}; the caller owns the result. */
    public static ByteBuf encode(ByteBufAllocator alloc, FrontendMessage msg) {
        ByteBuf out = alloc.buffer(estimate(msg));
        try {
            encode(msg, out);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** Appends the bytes of {@code msg} to {@code out}. */
    public static void encode(FrontendMessage msg, ByteBuf out) {
        switch (msg) {
            case SslRequest ignored -> encodeRequestCode(out, PgProtocol.SSL_REQUEST_CODE);
            case GssEncRequest ignored -> encodeRequestCode(out, PgProtocol.GSSENC_REQUEST_CODE);
            case CancelRequest m -> encodeCancelRequest(out, m);
            case StartupMessage m -> encodeStartupMessage(out, m);
            case PasswordMessage m -> encodeRaw(out, PgProtocol.FE_PASSWORD, m.data());
            case Query m -> encodeQuery(out, m);
            case Parse m -> encodeParse(out, m);
            case Bind m -> encodeBind(out, m);
            case Describe m -> encodeTargeted(out, PgProtocol.FE_DESCRIBE, m.kind(), m.name());
            case Execute m -> encodeExecute(out, m);
            case Close m -> encodeTargeted(out, PgProtocol.FE_CLOSE, m.kind(), m.name());
            case Sync ignored -> encodeEmpty(out, PgProtocol.FE_SYNC);
            case Flush ignored -> encodeEmpty(out, PgProtocol.FE_FLUSH);
            case CopyData m -> encodeCopyData(out, m);
            case CopyDone ignored -> encodeEmpty(out, PgProtocol.FE_COPY_DONE);
            case CopyFail m -> encodeCopyFail(out, m);
            case FunctionCall m -> encodeFunctionCall(out, m);
            case Terminate ignored -> encodeEmpty(out, PgProtocol.FE_TERMINATE);
        }
    }

    private static int estimate(FrontendMessage msg) {
        return switch (msg) {
            case Query m -> m.sql().length() + 6;
            case Parse m -> m.query().length() + m.statement().length() + 9 + 4 * m.parameterTypes().length;
            case CopyData m -> m.data().readableBytes() + 5;
            default -> 64;
        };
    }

    private static void encodeRequestCode(ByteBuf out, int code) {
        out.writeInt(8);
        out.writeInt(code);
    }

    private static void encodeCancelRequest(ByteBuf out, CancelRequest m) {
        out.writeInt(16);
        out.writeInt(PgProtocol.CANCEL_REQUEST_CODE);
        out.writeInt(m.processId());
        out.writeInt(m.secretKey());
    }

    private static void encodeStartupMessage(ByteBuf out, StartupMessage m) {
        int lengthIndex = beginUntyped(out);
        out.writeInt(m.protocolVersion());
        for (Map.Entry<String, String> e : m.parameters().entrySet()) {
            cstring(out, e.getKey());
            cstring(out, e.getValue());
        }
        out.writeByte(0);
        end(out, lengthIndex);
    }

    private static void encodeRaw(ByteBuf out, byte type, byte[] body) {
        out.writeByte(type);
        out.writeInt(4 + body.length);
        out.writeBytes(body);
    }

    private static void encodeEmpty(ByteBuf out, byte type) {
        out.writeByte(type);
        out.writeInt(4);
    }

    private static void encodeQuery(ByteBuf out, Query m) {
        int lengthIndex = begin(out, PgProtocol.FE_QUERY);
        cstring(out, m.sql());
        end(out, lengthIndex);
    }

    private static void encodeParse(ByteBuf out, Parse m) {
        int lengthIndex = begin(out, PgProtocol.FE_PARSE);
        cstring(out, m.statement());
        cstring(out, m.query());
        int[] types = m.parameterTypes();
        out.writeShort(types.length);
        for (int t : types) {
            out.writeInt(t);
        }
        end(out, lengthIndex);
    }

    private static void encodeBind(ByteBuf out, Bind m) {
        int lengthIndex = begin(out, PgProtocol.FE_BIND);
        cstring(out, m.portal());
        cstring(out, m.statement());
        FieldWriter.formats(out, m.parameterFormats());
        FieldWriter.values(out, m.parameters());
        FieldWriter.formats(out, m.resultFormats());
        end(out, lengthIndex);
    }

    private static void encodeTargeted(ByteBuf out, byte type, byte kind, String name) {
        int lengthIndex = begin(out, type);
        out.writeByte(kind);
        cstring(out, name);
        end(out, lengthIndex);
    }

    private static void encodeExecute(ByteBuf out, Execute m) {
        int lengthIndex = begin(out, PgProtocol.FE_EXECUTE);
        cstring(out, m.portal());
        out.writeInt(m.maxRows());
        end(out, lengthIndex);
    }

    private static void encodeCopyData(ByteBuf out, CopyData m) {
        ByteBuf data = m.data();
        out.writeByte(PgProtocol.FE_COPY_DATA);
        out.writeInt(4 + data.readableBytes());
        out.writeBytes(data, data.readerIndex(), data.readableBytes());
    }

    private static void encodeCopyFail(ByteBuf out, CopyFail m) {
        int lengthIndex = begin(out, PgProtocol.FE_COPY_FAIL);
        cstring(out, m.message());
        end(out, lengthIndex);
    }

    private static void encodeFunctionCall(ByteBuf out, FunctionCall m) {
        int lengthIndex = begin(out, PgProtocol.FE_FUNCTION_CALL);
        out.writeInt(m.functionOid());
        FieldWriter.formats(out, m.argumentFormats());
        FieldWriter.values(out, m.arguments());
        out.writeShort(m.resultFormat());
        end(out, lengthIndex);
    }
}
