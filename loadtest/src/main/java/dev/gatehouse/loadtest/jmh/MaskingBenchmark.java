package dev.gatehouse.loadtest.jmh;

import dev.gatehouse.edge.masking.ColumnName;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfile;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.postgres.ResultMasker;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Result masking on one core: DataRows of a customer table (id, name, email, ssn, city, note) go
 * through {@link ResultMasker} under a profile with two column rules (hmac, keep_last) and eight
 * detectors over the text columns. {@code bytes} (an auxiliary counter) is DataRow bytes per
 * second, the figure to read as MB/s per core; {@code rows} is rows per second.
 *
 * <ul>
 *   <li>{@code pii}: a quarter of the notes hold an email, a card, an IBAN, a phone or a token</li>
 *   <li>{@code clean}: the same shape, nothing for the detectors to find (the common case)</li>
 *   <li>{@code passthrough}: a result without text columns (only the row framing is checked)</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MaskingBenchmark {
    private static final int ROWS = 1024;
    private static final int TABLE = 40_000;

    @Param({"pii", "clean", "passthrough"})
    public String data;

    private byte[][] rows;
    private ResultMasker masker;

    /** Bytes and rows processed, reported per second by JMH. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters {
        public long bytes;
        public long rows;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
            rows = 0;
        }
    }

    @Setup
    public void setUp() {
        MaskingProfile profile = MaskingProfiles.parse("""
                profiles:
                  - name: bench
                    columns:
                      - {column: public.customers.email, method: hmac}
                      - {column: "*.ssn", method: {keep_last: 4}}
                    detectors:
                      - {detector: email, method: redact}
                      - {detector: phone, method: {keep_last: 2}}
                      - {detector: payment_card, method: {keep_last: 4}}
                      - {detector: iban, method: redact}
                      - {detector: us_ssn, method: redact}
                      - {detector: ipv4, method: redact}
                      - {detector: jwt, method: redact}
                      - {detector: aws_access_key, method: redact}
                """, () -> HmacKey.of("benchmark-hmac-key-000000")).find("bench").orElseThrow();
        Map<Integer, ColumnName> columns = Map.of(1, new ColumnName("public", "customers", "id"),
                2, new ColumnName("public", "customers", "name"), 3, new ColumnName("public", "customers", "email"),
                4, new ColumnName("public", "customers", "ssn"), 5, new ColumnName("public", "customers", "city"),
                6, new ColumnName("public", "customers", "note"));
        masker = new ResultMasker(profile, (oid, attnum) -> oid == TABLE ? Optional.ofNullable(columns.get(attnum)) : Optional.empty());
        boolean text = !data.equals("passthrough");
        ByteBuf description = rowDescription(text);
        masker.onFrame(new BackendFrame(description)).frame().release();
        Random random = new Random(42);
        rows = new byte[ROWS][];
        String[] pii = {"mail me at jane.doe%d@example.com", "card 4111 1111 1111 1111 expires 12/29",
                "IBAN GB82 WEST 1234 5698 7654 32 for refunds", "call +1 415 555 %04d after 6pm",
                "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln sent"};
        for (int i = 0; i < ROWS; i++) {
            String note = data.equals("pii") && i % 4 == 0
                    ? pii[random.nextInt(pii.length)].formatted(i % 10000)
                    : "customer since 20%02d, prefers email contact, order #%d shipped in 3 boxes".formatted(i % 25, 100000 + i);
            rows[i] = text
                    ? dataRow(int4(i), utf8("Customer " + i), utf8("c" + i + "@example.com"), utf8("123-45-" + (1000 + i)),
                    utf8("Springfield"), utf8(note))
                    : dataRow(int4(i), int4(i * 7), int4(i * 13), int4(i * 17), int4(i * 19), int4(i * 23));
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long maskRows(Counters counters) {
        long out = 0;
        for (byte[] row : rows) {
            ResultMasker.Rewrite rewrite = masker.onFrame(new BackendFrame(Unpooled.wrappedBuffer(row)));
            out += rewrite.frame().readableBytes();
            rewrite.frame().release();
            counters.bytes += row.length;
            counters.rows++;
        }
        return out;
    }

    private static ByteBuf rowDescription(boolean text) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('T').writeInt(0).writeShort(6);
        String[] names = {"id", "name", "email", "ssn", "city", "note"};
        for (int i = 0; i < names.length; i++) {
            b.writeBytes(utf8(names[i])).writeByte(0).writeInt(TABLE).writeShort(i + 1)
                    .writeInt(text && i > 0 ? 25 : 23).writeShort(-1).writeInt(-1).writeShort(text && i > 0 ? 0 : 1);
        }
        b.setInt(1, b.readableBytes() - 1);
        return b;
    }

    private static byte[] dataRow(byte[]... values) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('D').writeInt(0).writeShort(values.length);
        for (byte[] v : values) b.writeInt(v.length).writeBytes(v);
        b.setInt(1, b.readableBytes() - 1);
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

    private static byte[] int4(int v) {
        return new byte[]{(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
