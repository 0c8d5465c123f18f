package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.catalog.ResultCapture;
import dev.gatehouse.edge.mysql.codec.BinaryValue;
import dev.gatehouse.edge.mysql.codec.ColumnDefinition;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;
import dev.gatehouse.edge.session.SampleCollector;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.EventHeader;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Captures a bounded sample of one command's result from the packets relayed to the client, each
 * told apart by the {@link MySqlResponseTracker.Part} the tracker read it as; given the packets
 * after any rewriting, a masked value is only ever captured masked.
 *
 * <ul>
 *   <li>Columns: the names of the command's first result set. Rows: those of all its result sets
 *       (several statements in one COM_QUERY, a procedure's results), in order, one sample per
 *       command. A column count starts a result set: its column definitions give the types that
 *       binary rows are read by.</li>
 *   <li>Text protocol rows (COM_QUERY): each value as text in the connection's character set,
 *       {@code \x} and lowercase hex when its bytes are not valid there; SQL NULL (0xFB) as null.</li>
 *   <li>Binary protocol rows (COM_STMT_EXECUTE): each value rendered by its column's type
 *       ({@link BinaryValue#render}): numbers, dates and times as text, strings in the
 *       connection's character set; strings of the binary character set, BIT and GEOMETRY values
 *       as {@code \x} and lowercase hex. NULLs come from the row's NULL bitmap.</li>
 *   <li>Limits: at most {@link ResultCapture#rows()} rows and {@link ResultCapture#bytes()} bytes of
 *       values (a text value's bytes as the target sent them, a binary value's rendering). The row
 *       that crosses the byte limit is captured with its values cut short at the limit, then
 *       capture stops; so is a row above {@link SampleCollector#ROW_LIMIT} bytes. Whenever more
 *       rows or bytes existed, {@code truncated} is set: nothing is dropped silently.</li>
 * </ul>
 *
 * Only the sample is held (at most the byte limit plus small per-value overheads), never the
 * result: the limits, the sample and its chunks are a {@link SampleCollector}'s, this class reads
 * the packets. A packet the sampler cannot read ends the capture (marked truncated); it never
 * affects the relay. Not thread-safe: one command, one event loop.
 */
final class MySqlResultSampler {
    private static final Logger LOGGER = LoggerFactory.getLogger(MySqlResultSampler.class);

    /** MYSQL_TYPE_BIT and MYSQL_TYPE_GEOMETRY: bytes, not text, when of the binary character set. */
    private static final int TYPE_BIT = 0x10;
    private static final int TYPE_GEOMETRY = 0xFF;

    private final SampleCollector collector;
    private final boolean binary;
    private final Charset charset;
    /** The result set in flight: how many columns it has, the definitions read so far. */
    private long columnCount;
    private final List<ColumnDefinition> definitions = new ArrayList<>();
    private int resultSets;

    /**
     * @param limits  how much to capture; must be {@link ResultCapture#enabled() enabled}
     * @param binary  whether rows come in the binary protocol (the answer to COM_STMT_EXECUTE), not text
     * @param charset the character set the target sends values in ({@code character_set_results})
     */
    MySqlResultSampler(ResultCapture limits, boolean binary, Charset charset) {
        this.collector = new SampleCollector(limits);
        this.binary = binary;
        this.charset = charset;
    }

    /**
     * Looks at one packet of the answer as it is relayed to the client, {@code part} being what the
     * tracker read it as. Reads it only: indexes and reference count are left alone, so the caller
     * relays it afterwards. Never throws.
     */
    void onPacket(MySqlResponseTracker.Part part, ByteBuf payload) {
        try {
            switch (part) {
                case COLUMN_COUNT -> onColumnCount(payload);
                case COLUMN_DEFINITION -> onColumnDefinition(payload);
                case ROW -> onRow(payload);
                default -> { }
            }
        } catch (RuntimeException e) {
            // a packet the sampler cannot read ends the sample, never the relay
            LOGGER.warn("result sample ended at an unreadable {} packet: {}", part, e.toString());
            collector.abort();
        }
    }

    /** Whether the command produced a result to sample (a result set, even without rows). */
    boolean hasResult() {
        return collector.hasResult();
    }

    /**
     * The sample as {@code ResultSampled} events, in chunk order, each under
     * {@link SampleCollector#CHUNK_LIMIT} bytes serialized; empty when the command had no result.
     *
     * @param header makes each event's header
     * @param masked whether the command ran under a Mask decision
     */
    List<AuditEvent.ResultSampled> events(Supplier<EventHeader> header, CommandId commandId, long sequence,
                                          boolean masked) {
        return collector.events(header, commandId, sequence, masked);
    }

    // ------------------------------------------------------------------ packets

    private void onColumnCount(ByteBuf p) {
        collector.result();
        resultSets++;
        definitions.clear();
        columnCount = 0;
        if (collector.ended()) return;
        long count = MySqlProtocol.readLenenc(p.duplicate());
        if (count <= 0 || count > 0xFFFF) throw new IllegalStateException("a result set of " + count + " columns");
        columnCount = count;
    }

    private void onColumnDefinition(ByteBuf p) {
        collector.result();
        if (collector.ended()) return;
        if (definitions.size() >= columnCount) throw new IllegalStateException("more column definitions than columns");
        definitions.add(ColumnDefinition.read(p));
        if (definitions.size() == columnCount && resultSets == 1) {
            collector.columns(definitions.stream().map(ColumnDefinition::name).toList());
        }
    }

    private void onRow(ByteBuf p) {
        if (!collector.wantsRow()) return;
        if (columnCount == 0 || definitions.size() != columnCount) {
            throw new IllegalStateException("a row before its result set's column definitions");
        }
        ByteBuf b = p.duplicate();
        SampleCollector.Value[] values = binary ? binaryRow(b) : textRow(b);
        if (b.isReadable()) throw new IllegalStateException("a row has bytes after its last value");
        collector.row(values);
    }

    /** Text protocol: a length-encoded string per column, 0xFB for NULL. */
    private SampleCollector.Value[] textRow(ByteBuf b) {
        SampleCollector.Value[] values = new SampleCollector.Value[definitions.size()];
        for (int i = 0; i < values.length; i++) {
            long length = MySqlProtocol.readLenenc(b);
            if (length == -1) continue;
            if (length < 0 || length > b.readableBytes()) {
                throw new IllegalStateException("a row value of " + length + " bytes runs past the packet");
            }
            ColumnDefinition column = definitions.get(i);
            // binary strings as hex, as in the binary protocol (numbers and dates are charset 63 too: as text)
            boolean bytes = column.charset() == ColumnDefinition.BINARY
                    && (column.stringType() || column.type() == TYPE_BIT || column.type() == TYPE_GEOMETRY);
            values[i] = bytes ? SampleCollector.hex(b, b.readerIndex(), (int) length)
                    : SampleCollector.text(b, b.readerIndex(), (int) length, charset);
            b.skipBytes((int) length);
        }
        return values;
    }

    /** Binary protocol: 0x00, the NULL bitmap (offset 2), then each non-NULL value by its column's type. */
    private SampleCollector.Value[] binaryRow(ByteBuf b) {
        if (b.readUnsignedByte() != 0x00) throw new IllegalStateException("a binary row does not start with 0x00");
        SampleCollector.Value[] values = new SampleCollector.Value[definitions.size()];
        int bitmap = b.readerIndex();
        b.skipBytes((values.length + 7 + 2) / 8);
        for (int i = 0; i < values.length; i++) {
            int bit = i + 2;
            if ((b.getByte(bitmap + bit / 8) & (1 << (bit % 8))) != 0) continue;
            ColumnDefinition column = definitions.get(i);
            byte[] v = BinaryValue.read(b, column.type());
            boolean bytes = column.charset() == ColumnDefinition.BINARY
                    && (column.stringType() || column.type() == TYPE_BIT || column.type() == TYPE_GEOMETRY);
            values[i] = bytes ? SampleCollector.hex(v)
                    : SampleCollector.rendered(BinaryValue.render(column.type(), column.unsigned(), v, charset,
                            Integer.MAX_VALUE));
        }
        return values;
    }
}
