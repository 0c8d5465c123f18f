package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.catalog.ResultCapture;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.EventHeader;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
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
 * result. A frame the sampler cannot parse ends the capture (marked truncated); it never affects
 * the relay. Not thread-safe: one command, one event loop.
 */
public final class ResultSampler {
    private static final Logger LOGGER = LoggerFactory.getLogger(ResultSampler.class);

    /** Serialized size every {@code ResultSampled} event stays under (Kafka's default message is 1 MiB). */
    public static final int CHUNK_LIMIT = 256 * 1024;
    /** Estimated payload (columns and rows) per chunk: leaves room for the envelope and the estimate's slack. */
    static final int CHUNK_BUDGET = 192 * 1024;
    /** Value bytes of one captured row at most, so that a row always fits one chunk. */
    static final int ROW_LIMIT = 128 * 1024;

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** The sample as captured, before it is cut into chunks. */
    public record Sample(List<String> columns, List<List<String>> rows, boolean truncated, long bytes) {
    }

    private final ResultCapture limits;
    private final ArrayDeque<short[]> bindFormats;
    private short[] formats = new short[0];
    private List<String> columns;
    private final List<List<String>> rows = new ArrayList<>();
    private long bytes;
    private boolean truncated;
    private boolean full;
    private boolean copyOut;
    private boolean copyBinary;
    private boolean sawResult;

    /**
     * @param limits            how much to capture; must be {@link ResultCapture#enabled() enabled}
     * @param bindResultFormats the result format codes of the command's Binds, in order (empty for a simple query)
     */
    public ResultSampler(ResultCapture limits, List<short[]> bindResultFormats) {
        if (!limits.enabled()) throw new IllegalArgumentException("result capture is disabled: " + limits);
        this.limits = limits;
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
                    sawResult = true;
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
            truncated = true;
            full = true;
        }
    }

    /** Whether the command produced a result to sample (a RowDescription, a DataRow or COPY data). */
    public boolean hasResult() {
        return sawResult;
    }

    /** The sample so far. */
    public Sample sample() {
        return new Sample(columns == null ? List.of() : columns, List.copyOf(rows), truncated, bytes);
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
        if (!sawResult) return List.of();
        List<String> cols = columns == null ? List.of() : columns;
        List<List<List<String>>> chunks = new ArrayList<>();
        List<List<String>> current = new ArrayList<>();
        long size = 0;
        for (String c : cols) size += 5 + utf8Length(c);
        boolean hasContent = !cols.isEmpty();
        for (List<String> row : rows) {
            long rowSize = estimate(row);
            if (hasContent && size + rowSize > CHUNK_BUDGET) {
                chunks.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(row);
            size += rowSize;
            hasContent = true;
        }
        chunks.add(current);
        List<AuditEvent.ResultSampled> events = new ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
            events.add(new AuditEvent.ResultSampled(header.get(), commandId, sequence, i, i == chunks.size() - 1,
                    i == 0 ? cols : List.of(), chunks.get(i), truncated, rows.size(), bytes, masked));
        }
        return events;
    }

    // ------------------------------------------------------------------ frames

    private void onRowDescription(ByteBuf p) {
        sawResult = true;
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
        if (columns == null) columns = List.copyOf(names);
        formats = described;
    }

    private void onDataRow(ByteBuf p) {
        sawResult = true;
        if (full) {
            truncated = true;
            return;
        }
        if (rows.size() >= limits.rows()) {
            truncated = true;
            full = true;
            return;
        }
        int count = p.getUnsignedShort(0);
        int[] offsets = new int[count];
        int[] lengths = new int[count];
        boolean[] binary = new boolean[count];
        long total = 0;
        int pos = 2;
        for (int i = 0; i < count; i++) {
            int length = p.getInt(pos);
            pos += 4;
            if (length < -1 || pos + Math.max(length, 0) > p.writerIndex()) {
                throw new IllegalStateException("a DataRow value has a bad length " + length);
            }
            offsets[i] = pos;
            lengths[i] = length;
            binary[i] = isBinary(i);
            if (length > 0) {
                pos += length;
                total += binary[i] ? 2 + 2L * length : length;
            } else if (length == 0) {
                total += binary[i] ? 2 : 0;
            }
        }
        long budget = Math.min(limits.bytes() - bytes, ROW_LIMIT);
        if (budget <= 0 && total > 0) {
            truncated = true;
            full = true;
            return;
        }
        boolean cut = total > budget;
        long left = budget;
        String[] values = new String[count];
        for (int i = 0; i < count; i++) {
            if (lengths[i] < 0) continue;
            if (binary[i]) {
                values[i] = hex(p, offsets[i], lengths[i], left);
                left -= values[i].length();
            } else {
                int n = textCut(p, offsets[i], lengths[i], left);
                values[i] = p.toString(offsets[i], n, StandardCharsets.UTF_8);
                left -= n;
            }
        }
        rows.add(java.util.Collections.unmodifiableList(Arrays.asList(values)));
        bytes += budget - left;
        if (cut) {
            truncated = true;
            full = true;
        }
    }

    private void onCopyData(ByteBuf p) {
        if (full) {
            truncated = true;
            return;
        }
        if (rows.size() >= limits.rows()) {
            truncated = true;
            full = true;
            return;
        }
        int length = p.readableBytes();
        if (!copyBinary && length > 0 && p.getByte(length - 1) == '\n') length--;
        long total = copyBinary ? 2 + 2L * length : length;
        long budget = Math.min(limits.bytes() - bytes, ROW_LIMIT);
        if (budget <= 0 && total > 0) {
            truncated = true;
            full = true;
            return;
        }
        String v;
        if (copyBinary) {
            v = hex(p, 0, length, budget);
            bytes += v.length();
        } else {
            int n = textCut(p, 0, length, budget);
            v = p.toString(0, n, StandardCharsets.UTF_8);
            bytes += n;
        }
        rows.add(java.util.Collections.singletonList(v));
        if (total > budget) {
            truncated = true;
            full = true;
        }
    }

    private boolean isBinary(int column) {
        if (formats.length == 0) return false;
        if (formats.length == 1) return formats[0] == 1;
        return column < formats.length && formats[column] == 1;
    }

    // ------------------------------------------------------------------ rendering

    /** How many bytes of a text value to keep: all, or at most {@code max} cut at a character boundary. */
    private static int textCut(ByteBuf p, int offset, int length, long max) {
        int n = (int) Math.min(length, max);
        if (n < length) {
            // never split a UTF-8 sequence: back off over continuation bytes
            while (n > 0 && (p.getByte(offset + n) & 0xC0) == 0x80) n--;
        }
        return n;
    }

    /** {@code \x} and the hex of the value, cut to at most {@code max} characters. */
    private static String hex(ByteBuf p, int offset, int length, long max) {
        if (max < 2) return "";
        int n = (int) Math.min(length, (max - 2) / 2);
        StringBuilder b = new StringBuilder(2 + 2 * n).append("\\x");
        for (int i = 0; i < n; i++) {
            int v = p.getByte(offset + i) & 0xFF;
            b.append(HEX[v >>> 4]).append(HEX[v & 0xF]);
        }
        return b.toString();
    }

    /** A conservative estimate of a row's Avro size: per value a union index and a length varint. */
    private static long estimate(List<String> row) {
        long size = 12;
        for (String v : row) size += v == null ? 1 : 6 + utf8Length(v);
        return size;
    }

    private static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else n += 3;
        }
        return n;
    }
}
