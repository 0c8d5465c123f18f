package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.masking.MaskMethod;
import dev.gatehouse.edge.masking.MaskingProfile;
import dev.gatehouse.edge.masking.MaskingStats;
import dev.gatehouse.edge.mysql.codec.BinaryValue;
import dev.gatehouse.edge.mysql.codec.ColumnDefinition;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rewrites the answer to one masked MySQL command as it streams from the target, one packet at a
 * time: the MySQL counterpart of the PostgreSQL edge's {@code ResultMasker}, under the same
 * masking profiles and with the same rules.
 *
 * <ul>
 *   <li>Each result set's column definitions say where a column's values come from: its database,
 *       its original table ({@code org_table}) and column ({@code org_name}). A column of a base
 *       table the catalog knows, selected by a column rule, has every non-NULL value replaced:
 *       character strings (CHAR, VARCHAR, TEXT, ENUM, SET, JSON) and binary strings get the method's
 *       text (a JSON string for MySQL's JSON type), in both the text protocol (COM_QUERY) and the
 *       binary protocol (COM_STMT_EXECUTE); other types (numbers, dates, bits, geometry) become
 *       NULL, the one value valid for every type.</li>
 *   <li>With {@code maskDerived} (the command reads a relation with a column the profile masks, or a
 *       view or a relation the catalog does not know), every column that is not a plain column of a
 *       known base table is masked as a whole: an expression (no {@code org_table}), a column of a
 *       view or system view (MySQL names the view as a view column's table even when the column is
 *       {@code upper(ssn)}), a column of a table the catalog does not know, a column of
 *       {@code mysql.column_stats} (which holds other columns' minimum and maximum values). Method:
 *       redact, or the rule's when it shows no part of the value; a NULL of such a text column gets
 *       the text too, so that NULL or not answers nothing.</li>
 *   <li>Other character-string columns are scanned by the profile's detectors.</li>
 *   <li>An ERR keeps its number and SQLSTATE; its message, which can echo a value ({@code Truncated
 *       incorrect DOUBLE value: '123-45-6789'}), is withheld. (The warnings a masked command leaves
 *       in the target's diagnostics area are cleared by the session before the next command.)</li>
 * </ul>
 *
 * A packet the masker cannot interpret fails the command closed ({@link MaskingFailure}).
 * Not thread-safe: one command, one event loop.
 */
final class MySqlResultMasker {
    private static final Logger LOGGER = LoggerFactory.getLogger(MySqlResultMasker.class);
    /** How a derived column is masked when no column rule names a method that hides the whole value. */
    private static final MaskMethod DERIVED = new MaskMethod.Redact();
    private static final int TYPE_JSON = 0xF5;

    /** The result cannot be masked safely; the session must end rather than relay it. */
    static final class MaskingFailure extends RuntimeException {
        MaskingFailure(String message) {
            super(message);
        }
    }

    private enum Kind { TEXT, BYTES, OTHER }

    /** How one result column is treated: masked as a whole with {@code method}, scanned, or passed. */
    private record Plan(Kind kind, int type, boolean unsigned, MaskMethod method, String label, boolean scan,
                        boolean derived, Charset charset) {
        boolean passes() {
            return method == null && !scan;
        }

        boolean masksNull() {
            return derived && kind == Kind.TEXT
                    && (method instanceof MaskMethod.Redact || method instanceof MaskMethod.Replace);
        }
    }

    private final MaskingProfile profile;
    private final MySqlCatalog.Snapshot catalog;
    private final boolean maskDerived;
    private final boolean binary;
    private final MaskingStats stats = new MaskingStats();
    private final List<Plan> plans = new ArrayList<>();
    private long columns;
    private boolean anyWork;
    private int unknownTables;

    /**
     * @param binary  whether rows come in the binary protocol (the answer to COM_STMT_EXECUTE)
     */
    MySqlResultMasker(MaskingProfile profile, MySqlCatalog.Snapshot catalog, boolean maskDerived, boolean binary) {
        this.profile = profile;
        this.catalog = catalog;
        this.maskDerived = maskDerived;
        this.binary = binary;
    }

    MaskingProfile profile() {
        return profile;
    }

    MaskingStats stats() {
        return stats;
    }

    /** Columns of tables the catalog did not know (masked as a whole, or scanned). */
    int unknownTables() {
        return unknownTables;
    }

    /**
     * The payload to relay for one packet of the answer: {@code payload} itself when nothing
     * changes (untouched), else a new buffer (the caller releases {@code payload}).
     *
     * @throws MaskingFailure when the packet cannot be masked
     */
    ByteBuf rewrite(MySqlResponseTracker.Part part, ByteBuf payload) {
        try {
            return switch (part) {
                case COLUMN_COUNT -> {
                    columns = MySqlProtocol.readLenenc(payload.duplicate());
                    plans.clear();
                    anyWork = false;
                    yield payload;
                }
                case COLUMN_DEFINITION -> {
                    Plan plan = plan(ColumnDefinition.read(payload));
                    plans.add(plan);
                    anyWork |= !plan.passes();
                    yield payload;
                }
                case ROW -> {
                    if (plans.size() != columns) {
                        throw new MaskingFailure("rows came with " + plans.size() + " of " + columns + " column definitions");
                    }
                    yield anyWork ? (binary ? binaryRow(payload) : textRow(payload)) : payload;
                }
                case ERROR -> withhold(payload);
                case OTHER -> payload;
            };
        } catch (MaskingFailure e) {
            throw e;
        } catch (RuntimeException e) {
            throw new MaskingFailure("the result could not be masked: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- column definitions

    private Plan plan(ColumnDefinition c) {
        Kind kind = c.textual() ? Kind.TEXT : c.stringType() ? Kind.BYTES : Kind.OTHER;
        Plan plan = planFor(c, kind);
        if (kind == Kind.TEXT && !plan.passes() && plan.charset() == null) {
            // values in a character set the edge cannot read the same way (utf16, ...) could hide from the detectors
            throw new MaskingFailure("column " + c.name() + " comes in character set id " + c.charset() + ", which Gatehouse"
                    + " cannot mask (results must be in utf8mb4, utf8mb3, latin1 or ascii)");
        }
        return plan;
    }

    private Plan planFor(ColumnDefinition c, Kind kind) {
        String name = MySqlSession.charsetOf(c.charset());
        Charset values = name == null ? null : MySqlSession.javaCharset(name);
        boolean derived;
        Optional<MaskingProfile.ColumnRule> rule = Optional.empty();
        String label = null;
        if (c.orgTable().isEmpty() || c.orgName().isEmpty() || c.schema().isEmpty()) {
            derived = true; // an expression, or a view's expression column (MariaDB leaves its database empty)
        } else {
            Optional<MySqlCatalog.Table> table = catalog.table(c.schema(), c.orgTable());
            if (table.isEmpty()) {
                unknownTables++;
                LOGGER.debug("masking: table {}.{} is not in the catalog; column {} is {}", c.schema(), c.orgTable(), c.name(),
                        maskDerived ? "masked as a whole" : "scanned by detectors only");
            }
            derived = table.isEmpty() || !table.get().baseTable() || holdsColumnValues(c.schema(), c.orgTable());
            rule = profile.columnRule(c.schema(), c.orgTable(), c.orgName());
            label = c.schema() + "." + c.orgTable() + "." + c.orgName();
        }
        if (maskDerived && derived) {
            MaskMethod method = rule.map(MaskingProfile.ColumnRule::method)
                    .filter(m -> !(m instanceof MaskMethod.KeepLast)) // shows part of a value it cannot see into
                    .orElse(DERIVED);
            return new Plan(kind, c.type(), c.unsigned(), method, label, false, true, values);
        }
        if (rule.isPresent()) return new Plan(kind, c.type(), c.unsigned(), rule.get().method(), label, false, false, values);
        boolean scan = kind == Kind.TEXT && !profile.detectors().isEmpty();
        return new Plan(kind, c.type(), c.unsigned(), null, c.name(), scan, false, values);
    }

    /** MariaDB's engine-independent statistics keep the minimum and maximum value of any column. */
    static boolean holdsColumnValues(String schema, String table) {
        return schema.equalsIgnoreCase("mysql") && table.equalsIgnoreCase("column_stats");
    }

    // ---------------------------------------------------------------- rows

    /** A value's replacement: new bytes, or null bytes for SQL NULL. */
    private record Outcome(byte[] bytes) {
    }

    private static final Outcome UNCHANGED = new Outcome(new byte[0]);
    private static final Outcome NULL = new Outcome(null);

    /** A text-protocol row: each value a length-encoded string, or 0xFB for NULL. */
    private ByteBuf textRow(ByteBuf payload) {
        ByteBuf r = payload.duplicate();
        int n = plans.size();
        byte[][] values = new byte[n][];
        boolean changed = false;
        for (int i = 0; i < n; i++) {
            if (!r.isReadable()) throw new MaskingFailure("a row has fewer values than columns");
            byte[] value = MySqlProtocol.readLenencBytes(r);
            Plan plan = plans.get(i);
            Outcome o = value == null ? (plan.masksNull() ? maskNull(plan) : UNCHANGED)
                    : plan.passes() ? UNCHANGED : maskValue(plan, value);
            if (o == UNCHANGED) {
                values[i] = value;
            } else {
                values[i] = o.bytes();
                changed = true;
            }
        }
        if (r.isReadable()) throw new MaskingFailure("a row has " + r.readableBytes() + " bytes after its last value");
        if (!changed) return payload;
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer(payload.readableBytes() + 16 * n);
        for (byte[] v : values) {
            if (v == null) out.writeByte(0xFB);
            else MySqlProtocol.writeLenencBytes(out, v);
        }
        return out;
    }

    /** A binary-protocol row: 0x00, a NULL bitmap (offset 2), then each non-NULL value in its type's encoding. */
    private ByteBuf binaryRow(ByteBuf payload) {
        ByteBuf r = payload.duplicate();
        int n = plans.size();
        int bitmapLength = (n + 7 + 2) / 8;
        if (r.readableBytes() < 1 + bitmapLength || r.readUnsignedByte() != 0) {
            throw new MaskingFailure("a binary row has no header or NULL bitmap");
        }
        byte[] bitmap = new byte[bitmapLength];
        r.readBytes(bitmap);
        byte[][] raw = new byte[n][];
        Outcome[] outcomes = new Outcome[n];
        boolean changed = false;
        for (int i = 0; i < n; i++) {
            Plan plan = plans.get(i);
            boolean isNull = (bitmap[(i + 2) / 8] & (1 << ((i + 2) % 8))) != 0;
            if (!isNull) raw[i] = BinaryValue.read(r, plan.type());
            Outcome o = isNull ? (plan.masksNull() ? maskNull(plan) : UNCHANGED)
                    : plan.passes() ? UNCHANGED : maskValue(plan, raw[i]);
            outcomes[i] = o;
            changed |= o != UNCHANGED;
        }
        if (r.isReadable()) throw new MaskingFailure("a binary row has " + r.readableBytes() + " bytes after its last value");
        if (!changed) return payload;
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer(payload.readableBytes() + 16 * n);
        out.writeByte(0);
        int bitmapAt = out.writerIndex();
        out.writeZero(bitmapLength);
        for (int i = 0; i < n; i++) {
            Outcome o = outcomes[i];
            boolean nowNull = o == UNCHANGED ? raw[i] == null : o.bytes() == null;
            if (nowNull) {
                int bit = i + 2;
                out.setByte(bitmapAt + bit / 8, out.getByte(bitmapAt + bit / 8) | (1 << (bit % 8)));
            } else if (o == UNCHANGED) {
                writeBinary(out, plans.get(i).type(), raw[i]);
            } else {
                MySqlProtocol.writeLenencBytes(out, o.bytes()); // only string types get replacement bytes
            }
        }
        return out;
    }

    /** A value as the binary protocol encodes its type: fixed width, length byte first, or length-encoded. */
    private static void writeBinary(ByteBuf out, int type, byte[] value) {
        switch (type) {
            case 0x01, 0x02, 0x0D, 0x03, 0x09, 0x04, 0x08, 0x05, BinaryValue.TYPE_NULL -> out.writeBytes(value);
            case 0x07, 0x0A, 0x0C, 0x0B -> out.writeByte(value.length).writeBytes(value);
            default -> MySqlProtocol.writeLenencBytes(out, value);
        }
    }

    private Outcome maskValue(Plan plan, byte[] value) {
        if (plan.method() != null) {
            if (plan.derived()) stats.derivedValue();
            else stats.column(plan.label());
            if (plan.kind() == Kind.OTHER) return NULL;
            String replacement = plan.method().apply(plan.kind() == Kind.TEXT ? decode(plan, value)
                    : new String(value, java.nio.charset.StandardCharsets.ISO_8859_1)); // bytes as they are, for hmac
            if (replacement == null) return NULL;
            return new Outcome(encode(plan, replacement));
        }
        String text = decode(plan, value);
        String masked = profile.scan(text, stats);
        if (masked == text) return UNCHANGED;
        if (masked == null) return NULL;
        return new Outcome(encode(plan, masked));
    }

    /** A NULL of a column whose NULLs are masked too ({@link Plan#masksNull}): the method's constant text. */
    private Outcome maskNull(Plan plan) {
        stats.derivedValue();
        return new Outcome(encode(plan, plan.method().apply("")));
    }

    private byte[] encode(Plan plan, String text) {
        String value = plan.type() == TYPE_JSON ? MaskMethod.jsonString(text) : text;
        return value.getBytes(plan.kind() == Kind.TEXT ? plan.charset() : java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A character-string value in its column's character set; one that is not valid there cannot be scanned. */
    private String decode(Plan plan, byte[] value) {
        Charset charset = plan.charset();
        try {
            return charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(value)).toString();
        } catch (CharacterCodingException e) {
            throw new MaskingFailure("a value is not valid " + charset.name() + " and cannot be scanned");
        }
    }

    // ---------------------------------------------------------------- ERR

    /** An ERR with its number and SQLSTATE, its message (which can echo a value) withheld. */
    private ByteBuf withhold(ByteBuf payload) {
        MySqlProtocol.Error e = MySqlProtocol.Error.read(payload.duplicate());
        stats.withheldText();
        return MySqlProtocol.errPacket(ByteBufAllocator.DEFAULT, e.number(), e.sqlState(), "gatehouse: the error text is"
                + " withheld because the command's result is masked (error " + e.number() + ", SQLSTATE " + e.sqlState() + ")");
    }
}
