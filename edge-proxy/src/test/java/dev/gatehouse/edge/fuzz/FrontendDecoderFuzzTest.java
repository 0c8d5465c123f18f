package dev.gatehouse.edge.fuzz;

import dev.gatehouse.edge.postgres.codec.FrontendDecoder;
import dev.gatehouse.edge.postgres.codec.FrontendEncoder;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CancelRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyData;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.GssEncRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.SslRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.StartupMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.edge.postgres.codec.PgProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Fuzzes {@link FrontendDecoder}, the edge's parser of everything a client sends before it is
 * authenticated, in an {@link EmbeddedChannel} as the edge's pipeline runs it.
 *
 * <p>An input is four setting bytes, then the bytes from the client:
 * <ol>
 *   <li>mode: bit 0 set = the client has completed its startup already (decoding starts in the
 *       message phase); bit 1 set = small size limits, from the next two bytes, instead of the
 *       edge's real ones ({@link PgProtocol#DEFAULT_MAX_MESSAGE_SIZE} for both);
 *   <li>small limit of a regular message, length field included: 5 + this byte;
 *   <li>small limit of a CopyData message: 5 + this byte;
 *   <li>read size: 0 = all client bytes arrive in one read, n = in reads of n bytes.
 * </ol>
 * The seeds ({@code FrontendDecoderFuzzTestInputs/fuzz/}) are psql 15, pgjdbc 42.7 and pgbench
 * sessions captured on the wire in front of a throwaway local PostgreSQL 15 (user and password
 * "capture", SCRAM): simple queries, COPY in both directions, extended protocol with binary
 * parameters, NULLs and batches, named statements, portal suspension, fast-path function calls
 * (large objects), an SSLRequest refused, a CancelRequest. Each capture appears behind several
 * headers (one read and small reads, startup and message phase, real and small limits).
 *
 * <p>What must hold for every input:
 * <ul>
 *   <li>the decoder fails only with a {@link PgProtocolException} (no other exception, no
 *       error), with a message, once at most, and decodes nothing from later reads;
 *   <li>messages come in a possible order: SSLRequest/GSSENCRequest, then a StartupMessage and
 *       regular messages, or a CancelRequest and nothing after it;
 *   <li>no message is made out of nothing: each takes at least 5 bytes of input;
 *   <li>every decoded message re-encodes ({@link FrontendEncoder}) within the limit it was
 *       accepted under, to bytes that a decoder in the same state decodes to an equal message;
 *   <li>and to the very bytes the client sent: the re-encoded messages, one after the other, are
 *       the client's bytes up to where decoding stopped (nothing is misread into another valid
 *       message, which the round trip alone would not notice);
 *   <li>every buffer is released (the allocator's count, then Netty's paranoid leak detector);
 *   <li>no input takes longer than the timeout (no hang).
 * </ul>
 */
class FrontendDecoderFuzzTest extends FuzzTarget {

    private static final int AFTER_STARTUP = 1;
    private static final int SMALL_LIMITS = 2;

    /** What the edge's decoder has decoded before the message phase when bit 0 of the mode is set. */
    private static final StartupMessage STARTUP;
    private static final byte[] STARTUP_BYTES;

    static {
        LinkedHashMap<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", "fuzz");
        parameters.put("database", "fuzz");
        STARTUP = new StartupMessage(PgProtocol.PROTOCOL_VERSION_3_0, parameters);
        byte[] body = "user\0fuzz\0database\0fuzz\0\0".getBytes(StandardCharsets.US_ASCII);
        STARTUP_BYTES = new byte[8 + body.length];
        writeInt(STARTUP_BYTES, 0, STARTUP_BYTES.length);
        writeInt(STARTUP_BYTES, 4, PgProtocol.PROTOCOL_VERSION_3_0);
        System.arraycopy(body, 0, STARTUP_BYTES, 8, body.length);
    }

    private record Limits(int message, int copyData) {
    }

    @Override
    protected void fuzzOne(FuzzInput input, ByteBufAllocator alloc) {
        int mode = input.setting();
        int smallMessageLimit = 5 + input.setting();
        int smallCopyDataLimit = 5 + input.setting();
        int readSize = input.setting();
        byte[] payload = input.payload();
        boolean afterStartup = (mode & AFTER_STARTUP) != 0;
        Limits limits = (mode & SMALL_LIMITS) != 0
                ? new Limits(smallMessageLimit, smallCopyDataLimit)
                : new Limits(PgProtocol.DEFAULT_MAX_MESSAGE_SIZE, PgProtocol.DEFAULT_MAX_MESSAGE_SIZE);

        Client client = new Client(limits, alloc, afterStartup);
        try {
            for (byte[] read : FuzzInput.reads(payload, readSize)) {
                client.read(alloc.buffer(read.length).writeBytes(read));
            }
            client.close();

            assertPossibleOrder(client.messages, afterStartup);
            if (client.messages.size() > payload.length / 5) {
                throw new AssertionError(client.messages.size() + " messages out of " + payload.length + " bytes");
            }
            byte[] reencoded = assertRoundTrips(client.messages, limits, alloc);
            if (!Arrays.equals(reencoded, 0, reencoded.length, payload, 0, Math.min(reencoded.length, payload.length))
                    || reencoded.length > payload.length) {
                throw new AssertionError("the decoded messages re-encode to other bytes than the client sent: "
                        + client.messages);
            }
        } finally {
            client.releaseAll();
        }
    }

    /** A client connection: the decoder in a channel, what it decoded and how it failed. */
    private static final class Client {

        final FrontendDecoder decoder;
        final EmbeddedChannel channel;
        final List<FrontendMessage> messages = new ArrayList<>();
        PgProtocolException failure;

        Client(Limits limits, ByteBufAllocator alloc, boolean afterStartup) {
            decoder = new FrontendDecoder(limits.message(), limits.copyData());
            channel = new EmbeddedChannel();
            channel.config().setAllocator(alloc);
            channel.pipeline().addLast(decoder);
            if (afterStartup) {
                read(alloc.buffer(STARTUP_BYTES.length).writeBytes(STARTUP_BYTES));
                if (failure != null || !messages.equals(List.of(STARTUP))) {
                    throw new AssertionError("the canonical startup packet decoded to " + messages, failure);
                }
                messages.clear();
            }
        }

        /** One read from the socket; the channel takes ownership of {@code bytes}. */
        void read(ByteBuf bytes) {
            boolean failedBefore = failure != null;
            try {
                channel.writeInbound(bytes);
            } catch (Throwable t) {
                failed(t);
            }
            take(failedBefore);
        }

        /** The client closes the connection: the decoder sees the end of input. */
        void close() {
            boolean failedBefore = failure != null;
            try {
                channel.finish();
            } catch (Throwable t) {
                failed(t);
            }
            take(failedBefore);
        }

        private void failed(Throwable t) {
            if (!(t instanceof PgProtocolException e)) {
                throw new AssertionError("the decoder failed with something other than a protocol violation", t);
            }
            if (failure != null) {
                throw new AssertionError("a second protocol violation after the first (" + failure.getMessage() + ")", t);
            }
            if (!decoder.isFailed()) {
                throw new AssertionError("a protocol violation left the decoder in a state that decodes on", t);
            }
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("a protocol violation without a message for the operator", t);
            }
            failure = e;
        }

        private void take(boolean failedBefore) {
            Object m;
            while ((m = channel.readInbound()) != null) {
                if (!(m instanceof FrontendMessage message)) {
                    ReferenceCountUtil.release(m);
                    throw new AssertionError("the decoder passed on " + m.getClass().getName());
                }
                messages.add(message);
                if (failedBefore) {
                    throw new AssertionError("decoded " + message + " after the protocol violation '"
                            + failure.getMessage() + "'");
                }
            }
        }

        /** The messages taken since the last call. */
        List<FrontendMessage> takeMessages() {
            List<FrontendMessage> taken = List.copyOf(messages);
            messages.clear();
            return taken;
        }

        void releaseAll() {
            messages.forEach(ReferenceCountUtil::release);
            messages.clear();
            channel.finishAndReleaseAll();
        }
    }

    private enum Phase { STARTUP, MESSAGES, CANCELLED }

    private static void assertPossibleOrder(List<FrontendMessage> messages, boolean afterStartup) {
        Phase phase = afterStartup ? Phase.MESSAGES : Phase.STARTUP;
        for (FrontendMessage m : messages) {
            phase = switch (phase) {
                case STARTUP -> switch (m) {
                    case SslRequest ignored -> Phase.STARTUP;
                    case GssEncRequest ignored -> Phase.STARTUP;
                    case StartupMessage ignored -> Phase.MESSAGES;
                    case CancelRequest ignored -> Phase.CANCELLED;
                    default -> throw new AssertionError(m + " decoded before the StartupMessage");
                };
                case MESSAGES -> {
                    if (isStartupPacket(m)) {
                        throw new AssertionError(m + " decoded after the StartupMessage");
                    }
                    yield Phase.MESSAGES;
                }
                case CANCELLED -> throw new AssertionError(m + " decoded after a CancelRequest");
            };
        }
    }

    /**
     * Re-encodes each message and decodes it again with the same limits, in the phase it came in;
     * returns the re-encoded bytes of all of them.
     */
    private static byte[] assertRoundTrips(List<FrontendMessage> messages, Limits limits, ByteBufAllocator alloc) {
        ByteArrayOutputStream reencoded = new ByteArrayOutputStream();
        Client afterStartup = null;
        try {
            for (FrontendMessage m : messages) {
                ByteBuf bytes = FrontendEncoder.encode(alloc, m);
                reencoded.writeBytes(ByteBufUtil.getBytes(bytes));
                int length = bytes.readableBytes();
                boolean startupPacket = isStartupPacket(m);
                int limit = startupPacket ? PgProtocol.MAX_STARTUP_PACKET_LENGTH
                        : 1 + (m instanceof CopyData ? limits.copyData() : limits.message());
                if (length > limit) {
                    bytes.release();
                    throw new AssertionError(m + " was accepted but re-encodes to " + length + " bytes, over " + limit);
                }
                Client again;
                if (startupPacket) {
                    again = new Client(limits, alloc, false);
                } else {
                    if (afterStartup == null) {
                        afterStartup = new Client(limits, alloc, true);
                    }
                    again = afterStartup;
                }
                try {
                    again.read(bytes);
                    if (again.failure != null) {
                        throw new AssertionError(m + " re-encoded is rejected: " + again.failure.getMessage());
                    }
                    List<FrontendMessage> decoded = again.takeMessages();
                    try {
                        if (!decoded.equals(List.of(m))) {
                            throw new AssertionError(m + " re-encoded decodes to " + decoded);
                        }
                    } finally {
                        decoded.forEach(ReferenceCountUtil::release);
                    }
                } finally {
                    if (startupPacket) {
                        again.releaseAll();
                    }
                }
            }
        } finally {
            if (afterStartup != null) {
                afterStartup.releaseAll();
            }
        }
        return reencoded.toByteArray();
    }

    private static boolean isStartupPacket(FrontendMessage m) {
        return m instanceof SslRequest || m instanceof GssEncRequest || m instanceof CancelRequest
                || m instanceof StartupMessage;
    }

    private static void writeInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
