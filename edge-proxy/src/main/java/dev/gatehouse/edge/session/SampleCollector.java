package dev.gatehouse.edge.session;

import dev.gatehouse.edge.catalog.ResultCapture;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.EventHeader;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;

/**
 * The protocol-neutral half of a result sample: what a protocol's sampler has read off one
 * command's answer (column names, rows of values) kept within the limits, and cut into
 * {@code ResultSampled} events. The protocol's sampler parses its messages and hands over
 * {@link Value values}; the collector decides what is kept.
 *
 * <ul>
 *   <li>Columns: the names given first ({@link #columns}); later result sets add rows, never names.</li>
 *   <li>Limits: at most {@link ResultCapture#rows()} rows and {@link ResultCapture#bytes()} bytes of
 *       values, each value counting its {@link Value#size() size} (a text value's bytes as the target
 *       sent them, a rendered value's rendering). The row that crosses the byte limit is captured
 *       with its values cut short at the limit, then capture stops; so is a row above
 *       {@link #ROW_LIMIT} bytes. Whenever more rows or bytes existed, {@code truncated} is set:
 *       nothing is dropped silently.</li>
 *   <li>Events: the sample cut into chunks that each serialize under {@link #CHUNK_LIMIT} bytes,
 *       the columns in the first.</li>
 * </ul>
 *
 * Only the sample is held (at most the byte limit plus small per-value overheads), never the
 * result; a {@link Value} is read while its row is {@linkplain #row added}, not kept. Not
 * thread-safe: one command, one event loop.
 */
public final class SampleCollector {

    /** Serialized size every {@code ResultSampled} event stays under (Kafka's default message is 1 MiB). */
    public static final int CHUNK_LIMIT = 256 * 1024;
    /** Estimated payload (columns and rows) per chunk: leaves room for the envelope and the estimate's slack. */
    static final int CHUNK_BUDGET = 192 * 1024;
    /** Value bytes of one captured row at most, so that a row always fits one chunk. */
    public static final int ROW_LIMIT = 128 * 1024;

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** The sample as captured, before it is cut into chunks. */
    public record Sample(List<String> columns, List<List<String>> rows, boolean truncated, long bytes) {
    }

    /**
     * One value of a row as a protocol's sampler hands it over (SQL NULL is a null {@code Value}).
     * Reads its source only when asked, while its row is added.
     */
    public interface Value {
        /** The bytes the value counts against the limits when captured whole. */
        long size();

        /** The value as captured when at most {@code max} bytes are left: whole when it fits, else cut short. */
        Captured capture(long max);
    }

    /**
     * A value as captured.
     *
     * @param text  the text recorded
     * @param bytes what it counts against the byte limit (at most the {@code max} it was captured under)
     */
    public record Captured(String text, long bytes) {
    }

    private final ResultCapture limits;
    private List<String> columns;
    private final List<List<String>> rows = new ArrayList<>();
    private long bytes;
    private boolean truncated;
    private boolean full;
    private boolean sawResult;

    /** @param limits how much to capture; must be {@link ResultCapture#enabled() enabled} */
    public SampleCollector(ResultCapture limits) {
        if (!limits.enabled()) throw new IllegalArgumentException("result capture is disabled: " + limits);
        this.limits = limits;
    }

    // ------------------------------------------------------------------ capture

    /** The command produced a result (a description of one, rows or copy data), even one without rows. */
    public void result() {
        sawResult = true;
    }

    /** The column names of a result: the sample's columns when they are the first given. Marks a {@link #result}. */
    public void columns(List<String> names) {
        sawResult = true;
        if (columns == null) columns = List.copyOf(names);
    }

    /**
     * Whether the next row is captured: false once capture stopped (the row limit reached, the
     * byte limit crossed, {@link #abort}), the row then recorded as {@code truncated}. Asked before
     * parsing a row, so that rows past the sample are never parsed. Marks a {@link #result}.
     */
    public boolean wantsRow() {
        sawResult = true;
        if (full) {
            truncated = true;
            return false;
        }
        if (rows.size() >= limits.rows()) {
            truncated = true;
            full = true;
            return false;
        }
        return true;
    }

    /**
     * Adds a row after {@link #wantsRow} said yes: whole while it fits the bytes left, else with
     * its values cut short at the limit (capture then stops, {@code truncated}). A row of only
     * empty values and NULLs is kept even when no bytes are left.
     *
     * @param values the row's values in column order, null for SQL NULL
     */
    public void row(Value... values) {
        long total = 0;
        for (Value v : values) {
            if (v != null) total += v.size();
        }
        long budget = Math.min(limits.bytes() - bytes, ROW_LIMIT);
        if (budget <= 0 && total > 0) {
            truncated = true;
            full = true;
            return;
        }
        long left = budget;
        String[] texts = new String[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) continue;
            Captured c = values[i].capture(left);
            texts[i] = c.text();
            left -= c.bytes();
        }
        rows.add(Collections.unmodifiableList(Arrays.asList(texts)));
        bytes += budget - left;
        if (total > budget) {
            truncated = true;
            full = true;
        }
    }

    /** Ends the capture, marked truncated: the protocol's sampler could not read a message. */
    public void abort() {
        truncated = true;
        full = true;
    }

    /** Whether capture has stopped: limits reached or {@link #abort aborted}. */
    public boolean ended() {
        return full;
    }

    /** Whether the command produced a result to sample. */
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

    // ------------------------------------------------------------------ values

    /**
     * UTF-8 text as the target sent it: counts its bytes, cut at a character boundary, malformed
     * bytes decoded as U+FFFD.
     */
    public static Value utf8(ByteBuf buf, int offset, int length) {
        return new Value() {
            @Override
            public long size() {
                return length;
            }

            @Override
            public Captured capture(long max) {
                int n = (int) Math.min(length, max);
                if (n < length) {
                    // never split a UTF-8 sequence: back off over continuation bytes
                    while (n > 0 && (buf.getByte(offset + n) & 0xC0) == 0x80) n--;
                }
                return new Captured(buf.toString(offset, n, StandardCharsets.UTF_8), n);
            }
        };
    }

    /**
     * Text in {@code charset} as the target sent it: counts its bytes, cut at a character
     * boundary; bytes not valid in {@code charset} make it {@code \x} and lowercase hex, counting
     * the hex.
     */
    public static Value text(ByteBuf buf, int offset, int length, Charset charset) {
        return new Value() {
            private String whole;    // the value decoded, once known valid
            private boolean checked;

            /** Whether the whole value decodes; asked only of a value within the row limit. */
            private boolean valid() {
                if (!checked) {
                    CharBuffer out = decode(buf.nioBuffer(offset, length), charset, true);
                    whole = out == null ? null : out.toString();
                    checked = true;
                }
                return whole != null;
            }

            @Override
            public long size() {
                // above the row limit the value is cut in any case: its validity does not matter
                if (length > ROW_LIMIT || valid()) return length;
                return 2 + 2L * length;
            }

            @Override
            public Captured capture(long max) {
                if (length <= ROW_LIMIT && !valid()) return hexOf(buf, offset, length, max);
                if (length <= max) return new Captured(whole, length);
                // cut short: decode what fits, leaving out a character the cut would split
                ByteBuffer in = buf.nioBuffer(offset, (int) Math.min(length, max));
                int start = in.position();
                CharBuffer out = decode(in, charset, false);
                if (out == null) return hexOf(buf, offset, length, max);
                return new Captured(out.toString(), in.position() - start);
            }
        };
    }

    /** Bytes as {@code \x} and lowercase hex, counting the hex; cut short to whole bytes. */
    public static Value hex(ByteBuf buf, int offset, int length) {
        return new Value() {
            @Override
            public long size() {
                return 2 + 2L * length;
            }

            @Override
            public Captured capture(long max) {
                return hexOf(buf, offset, length, max);
            }
        };
    }

    /** Bytes as {@code \x} and lowercase hex, counting the hex; cut short to whole bytes. */
    public static Value hex(byte[] value) {
        return new Value() {
            @Override
            public long size() {
                return 2 + 2L * value.length;
            }

            @Override
            public Captured capture(long max) {
                return hexOf(i -> value[i], value.length, max);
            }
        };
    }

    /** A value already rendered as text: counts the UTF-8 of the rendering, cut at a character boundary. */
    public static Value rendered(String text) {
        return new Value() {
            @Override
            public long size() {
                return utf8Length(text);
            }

            @Override
            public Captured capture(long max) {
                long n = 0;
                int end = 0;
                while (end < text.length()) {
                    // as utf8Length counts: a high surrogate and what follows it are four bytes
                    char c = text.charAt(end);
                    boolean pair = Character.isHighSurrogate(c);
                    int chars = pair ? Math.min(2, text.length() - end) : 1;
                    int b = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
                    if (n + b > max) break;
                    n += b;
                    end += chars;
                }
                return new Captured(end == text.length() ? text : text.substring(0, end), n);
            }
        };
    }

    // ------------------------------------------------------------------ rendering

    /** {@code \x} and the hex of the bytes, cut to at most {@code max} characters. */
    private static Captured hexOf(ByteBuf buf, int offset, int length, long max) {
        return hexOf(i -> buf.getByte(offset + i), length, max);
    }

    private static Captured hexOf(IntUnaryOperator byteAt, int length, long max) {
        if (max < 2) return new Captured("", 0);
        int n = (int) Math.min(length, (max - 2) / 2);
        StringBuilder b = new StringBuilder(2 + 2 * n).append("\\x");
        for (int i = 0; i < n; i++) {
            int v = byteAt.applyAsInt(i) & 0xFF;
            b.append(HEX[v >>> 4]).append(HEX[v & 0xF]);
        }
        return new Captured(b.toString(), b.length());
    }

    /**
     * Decodes {@code in} strictly; null when a byte is not valid. Unless {@code whole}, a character
     * the end of {@code in} splits is left unread ({@code in}'s position says how far it got).
     */
    private static CharBuffer decode(ByteBuffer in, Charset charset, boolean whole) {
        CharsetDecoder d = charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer out = CharBuffer.allocate((int) Math.ceil(in.remaining() * (double) d.maxCharsPerByte()) + 1);
        CoderResult r = d.decode(in, out, whole);
        if (r.isError() || r.isOverflow()) return null;
        if (whole && !d.flush(out).isUnderflow()) return null;
        return out.flip();
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
