package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.catalog.ResultCapture;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.edge.session.SampleCollector;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.EventHeader;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Captures a bounded sample of one command's result from the frames relayed to the client, that
 * is after {@link ResultMasker} rewrote them: a masked value is only ever captured masked.
 *
 * <ul>
 *   <li>Columns: the names of the command's first RowDescription. Rows: the DataRows of all the
 *       command's statements (several in one simple query, several Executes in one batch), in
 *       order, one sample per command.</li>
 *   <li>Values: text-format values as text (UTF-8), binary-format values as {@code \x} and lowercase
 *       hex, SQL NULL as null. The format of each column comes from the RowDescription of a
 *       portal, or from the result formats of the Bind its BindComplete answers.</li>
 *   <li>Limits: at most {@link ResultCapture#rows()} rows and {@link ResultCapture#bytes()} bytes of
 *       values (a text value's bytes as the target sent them, a binary value's hex rendering).
 *       The row that crosses the byte limit is captured with its values cut short at the limit,
 *       then capture stops; so is a row above {@link #ROW_LIMIT} bytes. Whenever more rows or bytes
 *       existed, {@code truncated} is set: nothing is dropped silently.</li>
 *   <li>COPY TO STDOUT: every CopyData message is a row of one value, its text without the
 *       trailing newline (binary COPY as hex); there are no columns.</li>
 * </ul>
 *
 * Only the sample is held (at most the byte limit plus small per-value overheads), never the
 * result: the limits, the sample and its chunks are a {@link SampleCollector}'s, this class reads
 * the frames. A frame the sampler cannot parse ends the capture (marked truncated); it never
 * affects the relay. Not thread-safe: one command, one event loop.
 */
public final class ResultSampler {
    private static final Logger LOGGER = LoggerFactory.getLogger(ResultSampler.class);

    /** Serialized size every {@code ResultSampled} event stays under (Kafka's default message is 1 MiB). */
    public static final int CHUNK_LIMIT = SampleCollector.CHUNK_LIMIT;
    /** Value bytes of one captured row at most, so that a row always fits one chunk. */
    static final int ROW_LIMIT = SampleCollector.ROW_LIMIT;

    /** The sample as captured, before it is cut into chunks. */
    public record Sample(List<String> columns, List<List<String>> rows, boolean truncated, long bytes) {
    }

    private final SampleCollector collector;
    private final ArrayDeque<short[]> bindFormats;
    private short[] formats = new short[0];
    private boolean copyOut;
    private boolean copyBinary;

    /**
     * @param limits            how much to capture; must be {@link ResultCapture#enabled() enabled}
     * @param bindResultFormats the result format codes of the command's Binds, in order (empty for a simple query)
     */
    public ResultSampler(ResultCapture limits, List<short[]> bindResultFormats) {
        this.collector = new SampleCollector(limits);
        this.bindFormats = new ArrayDeque<>(bindResultFormats);
    }

    /** The result format codes of each Bind among an extended batch's messages, in order. */
    public static List<short[]> resultFormatsOf(List<FrontendMessage> messages) {
        List<short[]> out = new ArrayList<>();
        for (FrontendMessage m : messages) {
            if (m instanceof FrontendMessage.Bind b) out.add(b.resultFormats());
        }
        return out;
    }

    /**
     * Looks at one frame as it is relayed to the client. Reads it only: indexes and reference
     * count are left alone, so the caller relays it afterwards.
     */
    public void onFrame(BackendFrame frame) {
        byte type = frame.type();
        try {
            switch (type) {
                case PgProtocol.BE_ROW_DESCRIPTION -> onRowDescription(frame.payload());
                case PgProtocol.BE_BIND_COMPLETE -> formats = bindFormats.isEmpty() ? new short[0] : bindFormats.poll();
                case PgProtocol.BE_DATA_ROW -> onDataRow(frame.payload());
                case PgProtocol.BE_COPY_OUT_RESPONSE -> {
                    collector.result();
                    copyOut = true;
                    copyBinary = frame.payload().getByte(0) != 0;
                }
                case PgProtocol.BE_COPY_DATA -> {
                    if (copyOut) onCopyData(frame.payload());
                }
                case PgProtocol.BE_COPY_DONE -> copyOut = false;
                default -> { }
            }
        } catch (RuntimeException e) {
            // a frame the sampler cannot read ends the sample, never the relay
            LOGGER.warn("result sample ended at an unreadable {} frame: {}", "'" + (char) type + "'", e.toString());
            collector.abort();
        }
    }

    /** Whether the command produced a result to sample (a RowDescription, a DataRow or COPY data). */
    public boolean hasResult() {
        return collector.hasResult();
    }

    /** The sample so far. */
    public Sample sample() {
        SampleCollector.Sample s = collector.sample();
        return new Sample(s.columns(), s.rows(), s.truncated(), s.bytes());
    }

    /**
     * The sample as {@code ResultSampled} events, in chunk order, each under {@link #CHUNK_LIMIT}
     * bytes serialized; empty when the command had no result.
     *
     * @param header makes each event's header
     * @param masked whether the command ran under a Mask decision
     */
    public List<AuditEvent.ResultSampled> events(Supplier<EventHeader> header, CommandId commandId, long sequence,
                                                 boolean masked) {
        return collector.events(header, commandId, sequence, masked);
    }

    // ------------------------------------------------------------------ frames

    private void onRowDescription(ByteBuf p) {
        collector.result();
        int count = p.getUnsignedShort(0);
        int pos = 2;
        List<String> names = new ArrayList<>(count);
        short[] described = new short[count];
        for (int i = 0; i < count; i++) {
            int nul = p.indexOf(pos, p.writerIndex(), (byte) 0);
            if (nul < 0) throw new IllegalStateException("a RowDescription field name is not terminated");
            names.add(p.toString(pos, nul - pos, StandardCharsets.UTF_8));
            pos = nul + 1 + 16;
            described[i] = p.getShort(pos);
            pos += 2;
        }
        if (pos != p.writerIndex()) throw new IllegalStateException("a RowDescription has bytes after its last field");
        collector.columns(names);
        formats = described;
    }

    private void onDataRow(ByteBuf p) {
        if (!collector.wantsRow()) return;
        int count = p.getUnsignedShort(0);
        SampleCollector.Value[] values = new SampleCollector.Value[count];
        int pos = 2;
        for (int i = 0; i < count; i++) {
            int length = p.getInt(pos);
            pos += 4;
            if (length < -1 || pos + Math.max(length, 0) > p.writerIndex()) {
                throw new IllegalStateException("a DataRow value has a bad length " + length);
            }
            if (length >= 0) {
                values[i] = isBinary(i) ? SampleCollector.hex(p, pos, length) : SampleCollector.utf8(p, pos, length);
                pos += length;
            }
        }
        collector.row(values);
    }

    private void onCopyData(ByteBuf p) {
        if (!collector.wantsRow()) return;
        int length = p.readableBytes();
        if (!copyBinary && length > 0 && p.getByte(length - 1) == '\n') length--;
        collector.row(copyBinary ? SampleCollector.hex(p, 0, length) : SampleCollector.utf8(p, 0, length));
    }

    private boolean isBinary(int column) {
        if (formats.length == 0) return false;
        if (formats.length == 1) return formats[0] == 1;
        return column < formats.length && formats[column] == 1;
    }
}
