package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.masking.ColumnName;
import dev.gatehouse.edge.masking.MaskMethod;
import dev.gatehouse.edge.masking.MaskingProfile;
import dev.gatehouse.edge.masking.MaskingStats;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Rewrites the result of one masked command as it streams from the target, one frame at a time
 * (nothing is buffered beyond the frame in hand). The last RowDescription says what each DataRow
 * column is (table OID and attribute number, type OID, format); {@link Columns} names table
 * columns for the profile's column rules.
 *
 * <ul>
 *   <li>A column selected by a column rule has every non-NULL value replaced: text-like types
 *       (text, varchar, bpchar, name, json, jsonb, xml, unknown) in text or binary format get the
 *       method's text (a JSON string for json/jsonb); other types become NULL, the one value valid
 *       for every type.</li>
 *   <li>With {@code maskDerived} (the command reads a relation with a column the profile masks),
 *       every column that is not a plain table column is masked the same way, as a whole: an
 *       expression (table OID 0), a whole row (attribute 0), a column of a view or materialized
 *       view ({@link Columns#derived}), a column of the planner statistics
 *       ({@link MaskingProfile#holdsColumnValues}), a column of a table the catalog does not know.
 *       Such a value may be computed from a masked column ({@code upper(ssn)},
 *       {@code row_to_json(c)}, {@code array_agg(ssn)}, {@code ssn::bytea}), and no detector can be
 *       relied on to see through every transformation. Its method is redact, or the method of the
 *       column rule selecting the view column by name when that method shows no part of the value
 *       (hmac, replace, null). A NULL of a text-like derived column gets the text of redact or
 *       replace too, so that NULL or not does not answer a condition on a masked column.</li>
 *   <li>Other text-like columns, expression columns included (table OID 0) when
 *       {@code maskDerived} is off, are scanned by the profile's detectors. Non-text types are left
 *       alone.</li>
 *   <li>ErrorResponse and NoticeResponse keep their severity, SQLSTATE, position and source
 *       location; every other field (message, detail, hint, context, internal query, object names)
 *       is withheld, as it can echo a value ({@code invalid input syntax for type integer:
 *       "123-45-6789"}).</li>
 *   <li>Extended protocol: an Execute without a Describe of its portal gets one injected (see
 *       {@link #prepare}), so every result is described; its answer is dropped, not relayed.</li>
 *   <li>COPY TO STDOUT: refused unless the profile says {@code copy: mask} and has no column
 *       rules; then each text-format row's fields are scanned by the detectors.</li>
 * </ul>
 *
 * Frames the masker cannot interpret fail the command closed ({@link MaskingFailure}).
 * Not thread-safe: one command, one event loop. Public for benchmarks; the edge drives it from
 * {@code PgSession}.
 */
public final class ResultMasker {
    private static final Logger LOGGER = LoggerFactory.getLogger(ResultMasker.class);

    /** Names the columns of tables by OID and attribute number. */
    public interface Columns {
        /** The column, or empty if the table is not known (then it is treated like an expression). */
        Optional<ColumnName> name(int tableOid, int attnum);

        /**
         * Whether the relation's column values are computed rather than stored as they are read: a
         * view or a materialized view (whose columns may be expressions over a masked column).
         */
        default boolean derived(int tableOid) {
            return false;
        }
    }

    /** The result cannot be masked safely; the session must end rather than relay it. */
    public static final class MaskingFailure extends RuntimeException {
        MaskingFailure(String message) {
            super(message);
        }
    }

    /** What to do with a frame: relay {@code frame} (possibly a new buffer), or drop it. */
    public record Rewrite(ByteBuf frame) {
        static final Rewrite DROP = new Rewrite(null);

        public boolean dropped() {
            return frame == null;
        }
    }

    private enum Kind { TEXT, JSON, JSONB_BINARY, OTHER }

    /**
     * How one result column is treated: masked as a whole with {@code method} (counted under the
     * column {@code label}, or as a derived value when {@code derived}), scanned, or passed.
     */
    private record Plan(Kind kind, MaskMethod method, String label, boolean scan, boolean derived) {
        static final Plan PASS = new Plan(Kind.OTHER, null, null, false, false);

        boolean passes() {
            return method == null && !scan;
        }

        /**
         * Whether a NULL gets the masked text too: for a derived text-like column with a constant
         * method, so that NULL or not cannot answer a question about the value
         * ({@code CASE WHEN ssn LIKE '1%' THEN 'x' END}).
         */
        boolean masksNull() {
            return derived && kind != Kind.OTHER && (method instanceof MaskMethod.Redact || method instanceof MaskMethod.Replace);
        }
    }

    private record PendingDescribe(byte kind, boolean injected) {
    }

    /** How a derived column is masked when no column rule names a method that hides the whole value. */
    private static final MaskMethod DERIVED = new MaskMethod.Redact();

    private final MaskingProfile profile;
    private final Columns columns;
    private final boolean maskDerived;
    private final MaskingStats stats = new MaskingStats();
    private final ArrayDeque<PendingDescribe> describes = new ArrayDeque<>();
    private Plan[] plans;
    private boolean anyWork;
    private boolean copyOut;
    private int unknownTables;

    /** A masker that masks table columns by rule and scans the rest ({@code maskDerived} off). */
    public ResultMasker(MaskingProfile profile, Columns columns) {
        this(profile, columns, false);
    }

    /**
     * @param maskDerived whether every result column that is not a plain table column is masked as
     *                    a whole; the session sets it when the command reads, directly or through
     *                    views, a relation with a column the profile masks
     *                    ({@link MaskingProfile#masksAnyColumnOf})
     */
    public ResultMasker(MaskingProfile profile, Columns columns, boolean maskDerived) {
        this.profile = profile;
        this.columns = columns;
        this.maskDerived = maskDerived;
    }

    MaskingProfile profile() {
        return profile;
    }

    public MaskingStats stats() {
        return stats;
    }

    /** Columns of tables the catalog snapshot did not know (scanned by detectors only). */
    int unknownTables() {
        return unknownTables;
    }

    /**
     * The messages to forward for an extended-protocol batch: a Describe of the portal is
     * inserted before each Execute whose portal was not described since its Bind, and every
     * Describe is remembered so its answer can be matched (and dropped if injected).
     */
    List<FrontendMessage> prepare(List<FrontendMessage> messages) {
        List<FrontendMessage> out = new ArrayList<>(messages.size() + 2);
        java.util.Set<String> described = new java.util.HashSet<>();
        for (FrontendMessage m : messages) {
            switch (m) {
                case FrontendMessage.Bind b -> described.remove(b.portal());
                case FrontendMessage.Describe d -> {
                    describes.add(new PendingDescribe(d.kind(), false));
                    if (d.kind() == 'P') described.add(d.name());
                }
                case FrontendMessage.Execute e -> {
                    if (!described.contains(e.portal())) {
                        out.add(new FrontendMessage.Describe((byte) 'P', e.portal()));
                        describes.add(new PendingDescribe((byte) 'P', true));
                        described.add(e.portal());
                    }
                }
                default -> { }
            }
            out.add(m);
        }
        return out;
    }

    /**
     * Rewrites one frame from the target. The frame is consumed: either its own buffer is handed
     * back, or it is released and a new buffer (or nothing) handed back.
     *
     * @throws MaskingFailure when the result cannot be masked (the frame is released)
     */
    public Rewrite onFrame(BackendFrame frame) {
        try {
            return switch (frame.type()) {
                case PgProtocol.BE_ROW_DESCRIPTION -> onDescription(frame, true);
                case PgProtocol.BE_NO_DATA -> onDescription(frame, false);
                case PgProtocol.BE_DATA_ROW -> onDataRow(frame);
                case PgProtocol.BE_COPY_OUT_RESPONSE, PgProtocol.BE_COPY_BOTH_RESPONSE -> onCopyOut(frame);
                case PgProtocol.BE_COPY_DATA -> copyOut ? onCopyData(frame) : new Rewrite(frame.frame());
                case PgProtocol.BE_COPY_DONE -> {
                    copyOut = false;
                    yield new Rewrite(frame.frame());
                }
                case PgProtocol.BE_READY_FOR_QUERY -> {
                    describes.clear();
                    plans = null;
                    yield new Rewrite(frame.frame());
                }
                case PgProtocol.BE_ERROR_RESPONSE, PgProtocol.BE_NOTICE_RESPONSE -> withhold(frame);
                // out of band: a notification's payload, a reported setting's value (the edge refuses
                // masked commands that could cause them; this holds even if one slips by)
                case PgProtocol.BE_NOTIFICATION_RESPONSE -> withholdNotification(frame);
                case PgProtocol.BE_PARAMETER_STATUS -> {
                    stats.withheldText();
                    frame.release();
                    yield Rewrite.DROP;
                }
                case PgProtocol.BE_FUNCTION_CALL_RESPONSE -> throw new MaskingFailure(
                        "a function call result cannot be masked (its columns are not described)");
                default -> new Rewrite(frame.frame());
            };
        } catch (RuntimeException e) {
            frame.release();
            if (e instanceof MaskingFailure) throw e;
            throw new MaskingFailure("the result could not be masked: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ RowDescription

    private Rewrite onDescription(BackendFrame frame, boolean rows) {
        PendingDescribe pending = describes.poll();
        boolean ofStatement = pending != null && pending.kind() == 'S';
        if (!ofStatement) {
            // a portal's (or a simple query's) description: the rows that follow are like this
            plans = rows ? plansOf(frame.payload()) : new Plan[0];
            anyWork = false;
            for (Plan p : plans) anyWork |= !p.passes();
        }
        if (pending != null && pending.injected()) {
            frame.release();
            return Rewrite.DROP;
        }
        return new Rewrite(frame.frame());
    }

    private Plan[] plansOf(ByteBuf payload) {
        ByteBuf r = payload.duplicate();
        if (r.readableBytes() < 2) throw new MaskingFailure("a RowDescription is truncated");
        int count = r.readUnsignedShort();
        Plan[] result = new Plan[count];
        for (int i = 0; i < count; i++) {
            int nul = r.indexOf(r.readerIndex(), r.writerIndex(), (byte) 0);
            if (nul < 0 || nul + 1 + 18 > r.writerIndex()) throw new MaskingFailure("a RowDescription is truncated");
            String field = r.toString(r.readerIndex(), nul - r.readerIndex(), StandardCharsets.UTF_8);
            r.readerIndex(nul + 1);
            int tableOid = r.readInt();
            int attnum = r.readShort();
            int typeOid = r.readInt();
            r.skipBytes(2 + 4); // type size, type modifier
            int format = r.readShort();
            result[i] = plan(field, tableOid, attnum, typeOid, format);
        }
        if (r.isReadable()) throw new MaskingFailure("a RowDescription has " + r.readableBytes() + " bytes after its last field");
        return result;
    }

    private Plan plan(String field, int tableOid, int attnum, int typeOid, int format) {
        Kind kind = kindOf(typeOid, format);
        // an expression (no origin) or a whole-row value (attribute 0): not a stored column's value
        boolean derived = tableOid == 0 || attnum == 0;
        Optional<MaskingProfile.ColumnRule> rule = Optional.empty();
        String label = null;
        if (tableOid != 0 && attnum > 0) {
            derived = columns.derived(tableOid);
            Optional<ColumnName> name = columns.name(tableOid, attnum);
            if (name.isPresent()) {
                ColumnName c = name.get();
                rule = profile.columnRule(c.schema(), c.table(), c.column());
                label = c.qualified();
                derived |= MaskingProfile.holdsColumnValues(c.schema(), c.table());
            } else {
                derived = true; // a table created after the snapshot may be a view: nothing proves otherwise
                unknownTables++;
                LOGGER.debug("masking: table oid {} is not in the catalog snapshot; column {} is {}", tableOid, field,
                        maskDerived ? "masked as a whole" : "scanned by detectors only");
            }
        }
        if (maskDerived && derived) {
            MaskMethod method = rule.map(MaskingProfile.ColumnRule::method)
                    .filter(m -> !(m instanceof MaskMethod.KeepLast)) // shows part of a value it cannot see into
                    .orElse(DERIVED);
            return new Plan(kind, method, label, false, true);
        }
        if (rule.isPresent()) return new Plan(kind, rule.get().method(), label, false, false);
        boolean scan = kind != Kind.OTHER && !profile.detectors().isEmpty();
        return scan ? new Plan(kind, null, field, true, false) : Plan.PASS;
    }

    private static Kind kindOf(int typeOid, int format) {
        return switch (typeOid) {
            // text, varchar, bpchar, name, unknown, xml: the binary form is the text itself
            case 25, 1043, 1042, 19, 705, 142 -> Kind.TEXT;
            case 114 -> Kind.JSON;
            case 3802 -> format == 0 ? Kind.JSON : Kind.JSONB_BINARY;
            default -> Kind.OTHER;
        };
    }

    // ------------------------------------------------------------------ DataRow

    private Rewrite onDataRow(BackendFrame frame) {
        if (plans == null) {
            throw new MaskingFailure("the target sent rows without describing them");
        }
        if (!anyWork) return new Rewrite(frame.frame());
        ByteBuf payload = frame.payload();
        int count = payload.getUnsignedShort(payload.readerIndex());
        if (count != plans.length) {
            throw new MaskingFailure("a DataRow has " + count + " columns but its RowDescription " + plans.length);
        }
        byte[][] replaced = null;
        boolean[] nulled = null;
        int pos = payload.readerIndex() + 2;
        int end = payload.writerIndex();
        int[] offsets = new int[count];
        int[] lengths = new int[count];
        for (int i = 0; i < count; i++) {
            if (pos + 4 > end) throw new MaskingFailure("a DataRow is truncated");
            int length = payload.getInt(pos);
            pos += 4;
            if (length < -1 || (length > 0 && pos + length > end)) throw new MaskingFailure("a DataRow has a bad value length");
            offsets[i] = pos;
            lengths[i] = length;
            Plan plan = plans[i];
            if (length >= 0 && !plan.passes() || length < 0 && plan.masksNull()) {
                Outcome o;
                if (length < 0) {
                    o = maskNull(plan);
                } else {
                    byte[] value = new byte[length];
                    payload.getBytes(pos, value);
                    o = maskValue(plan, value);
                }
                if (o != UNCHANGED) {
                    if (replaced == null) {
                        replaced = new byte[count][];
                        nulled = new boolean[count];
                    }
                    if (o.bytes == null) nulled[i] = true;
                    else replaced[i] = o.bytes;
                }
            }
            if (length > 0) pos += length;
        }
        if (pos != end) throw new MaskingFailure("a DataRow has " + (end - pos) + " bytes after its last column");
        if (replaced == null) return new Rewrite(frame.frame());
        int size = 1 + 4 + 2;
        for (int i = 0; i < count; i++) {
            size += 4 + (nulled[i] ? 0 : replaced[i] != null ? replaced[i].length : Math.max(lengths[i], 0));
        }
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer(size);
        out.writeByte(PgProtocol.BE_DATA_ROW).writeInt(size - 1).writeShort(count);
        for (int i = 0; i < count; i++) {
            if (nulled[i]) {
                out.writeInt(-1);
            } else if (replaced[i] != null) {
                out.writeInt(replaced[i].length).writeBytes(replaced[i]);
            } else {
                out.writeInt(lengths[i]);
                if (lengths[i] > 0) out.writeBytes(payload, offsets[i], lengths[i]);
            }
        }
        frame.release();
        return new Rewrite(out);
    }

    /** A value's replacement: new bytes, or null bytes for SQL NULL. */
    private record Outcome(byte[] bytes) {
    }

    private static final Outcome UNCHANGED = new Outcome(new byte[0]);
    private static final Outcome NULL = new Outcome(null);

    private Outcome maskValue(Plan plan, byte[] value) {
        if (plan.method() != null) {
            if (plan.derived()) stats.derivedValue();
            else stats.column(plan.label());
            if (plan.kind() == Kind.OTHER) return NULL;
            int skip = plan.kind() == Kind.JSONB_BINARY ? 1 : 0;
            String replacement = plan.method().apply(new String(value, skip, value.length - skip, StandardCharsets.UTF_8));
            if (replacement == null) return NULL;
            if (plan.kind() != Kind.TEXT) replacement = jsonString(replacement);
            return new Outcome(withPrefix(plan.kind(), replacement.getBytes(StandardCharsets.UTF_8)));
        }
        int skip = plan.kind() == Kind.JSONB_BINARY ? 1 : 0;
        if (skip == 1 && (value.length == 0 || value[0] != 1)) {
            throw new MaskingFailure("a binary jsonb value has an unknown version");
        }
        String text = new String(value, skip, value.length - skip, StandardCharsets.UTF_8);
        String masked = profile.scan(text, stats);
        if (masked == text) return UNCHANGED;
        if (masked == null) return NULL;
        return new Outcome(withPrefix(plan.kind(), masked.getBytes(StandardCharsets.UTF_8)));
    }

    /** A NULL of a column whose NULLs are masked too ({@link Plan#masksNull}): the method's constant text. */
    private Outcome maskNull(Plan plan) {
        stats.derivedValue();
        String replacement = plan.method().apply("");
        if (plan.kind() != Kind.TEXT) replacement = jsonString(replacement);
        return new Outcome(withPrefix(plan.kind(), replacement.getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] withPrefix(Kind kind, byte[] text) {
        if (kind != Kind.JSONB_BINARY) return text;
        byte[] out = new byte[text.length + 1];
        out[0] = 1;
        System.arraycopy(text, 0, out, 1, text.length);
        return out;
    }

    /** A JSON string literal, so a replaced json/jsonb value is still valid JSON. */
    static String jsonString(String s) {
        return MaskMethod.jsonString(s);
    }

    // ------------------------------------------------------------------ ErrorResponse, NoticeResponse

    /** Fields that cannot echo a value: severity, SQLSTATE, position in the client's text, source location. */
    private static final String KEPT_FIELDS = new String(new char[]{PgProtocol.FIELD_SEVERITY,
            PgProtocol.FIELD_SEVERITY_NONLOCALIZED, PgProtocol.FIELD_CODE, PgProtocol.FIELD_POSITION,
            PgProtocol.FIELD_FILE, PgProtocol.FIELD_LINE, PgProtocol.FIELD_ROUTINE});

    /**
     * An ErrorResponse or NoticeResponse with its message replaced by a fixed text naming the
     * SQLSTATE, and the other fields that can echo a value (detail, hint, context, internal query,
     * object names, fields unknown to this version) dropped.
     */
    private Rewrite withhold(BackendFrame frame) {
        boolean error = frame.type() == PgProtocol.BE_ERROR_RESPONSE;
        Map<Character, String> fields = BackendFrames.parseErrorOrNotice(frame.payload());
        String code = fields.getOrDefault(PgProtocol.FIELD_CODE, "XX000");
        String message = "gatehouse: the " + (error ? "error" : "notice") + " text is withheld because the command's"
                + " result is masked (SQLSTATE " + code + ")";
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer(frame.size());
        out.writeByte(frame.type()).writeInt(0);
        boolean messageWritten = false;
        for (Map.Entry<Character, String> f : fields.entrySet()) {
            char field = f.getKey();
            if (field == PgProtocol.FIELD_MESSAGE) {
                writeField(out, field, message);
                messageWritten = true;
            } else if (KEPT_FIELDS.indexOf(field) >= 0) {
                writeField(out, field, f.getValue());
            }
        }
        if (!messageWritten) writeField(out, PgProtocol.FIELD_MESSAGE, message);
        out.writeByte(0);
        out.setInt(1, out.writerIndex() - 1);
        stats.withheldText();
        frame.release();
        return new Rewrite(out);
    }

    /** A NotificationResponse with its process and channel, its payload withheld. */
    private Rewrite withholdNotification(BackendFrame frame) {
        ByteBuf p = frame.payload().duplicate();
        int pid = p.readInt();
        int nul = p.indexOf(p.readerIndex(), p.writerIndex(), (byte) 0);
        if (nul < 0) throw new MaskingFailure("a NotificationResponse is truncated");
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer(frame.size());
        out.writeByte(frame.type()).writeInt(0).writeInt(pid);
        out.writeBytes(p, p.readerIndex(), nul - p.readerIndex() + 1);
        ByteBufUtil.writeUtf8(out, "gatehouse: withheld, the command's result is masked");
        out.writeByte(0);
        out.setInt(1, out.writerIndex() - 1);
        stats.withheldText();
        frame.release();
        return new Rewrite(out);
    }

    private static void writeField(ByteBuf out, char field, String value) {
        out.writeByte(field);
        ByteBufUtil.writeUtf8(out, value);
        out.writeByte(0);
    }

    // ------------------------------------------------------------------ COPY

    private Rewrite onCopyOut(BackendFrame frame) {
        if (frame.type() == PgProtocol.BE_COPY_BOTH_RESPONSE) {
            throw new MaskingFailure("COPY BOTH (replication) cannot be masked");
        }
        Optional<String> refusal = profile.copyRefusal();
        if (refusal.isPresent()) throw new MaskingFailure(refusal.get());
        ByteBuf payload = frame.payload();
        int overall = payload.getByte(payload.readerIndex());
        if (overall != 0) throw new MaskingFailure("binary COPY output cannot be masked; use the text or csv format");
        copyOut = true;
        return new Rewrite(frame.frame());
    }

    /** One text-format COPY row: each tab-separated field is scanned; a nulled value becomes \N. */
    private Rewrite onCopyData(BackendFrame frame) {
        ByteBuf payload = frame.payload();
        String line = payload.toString(StandardCharsets.UTF_8);
        boolean newline = line.endsWith("\n");
        String body = newline ? line.substring(0, line.length() - 1) : line;
        String[] fields = body.split("\t", -1);
        boolean changed = false;
        for (int i = 0; i < fields.length; i++) {
            if (fields[i].equals("\\N")) continue;
            String masked = profile.scan(fields[i], stats);
            if (masked != fields[i]) {
                fields[i] = masked == null ? "\\N" : escapeCopy(masked);
                changed = true;
            }
        }
        if (!changed) return new Rewrite(frame.frame());
        byte[] bytes = (String.join("\t", fields) + (newline ? "\n" : "")).getBytes(StandardCharsets.UTF_8);
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer(5 + bytes.length);
        out.writeByte(PgProtocol.BE_COPY_DATA).writeInt(4 + bytes.length).writeBytes(bytes);
        frame.release();
        return new Rewrite(out);
    }

    /** Replacement text must not end a COPY field or row early. */
    private static String escapeCopy(String s) {
        if (s.indexOf('\t') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return s.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }
}
