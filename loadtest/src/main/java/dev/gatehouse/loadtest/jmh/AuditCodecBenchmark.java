package dev.gatehouse.loadtest.jmh;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link AuditEventCodec} on a {@code CommandReceived} as the edge writes one for a pgbench
 * UPDATE (extended protocol, two parameters, a real analysis): the write-ahead record of every command;
 * and the same without its identity, which is what carrying the identity once per session would save.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AuditCodecBenchmark {

    private AuditEventCodec codec;
    private AuditEvent.CommandReceived event;
    private byte[] encoded;
    /** The same command as it would be with the identity carried once per session (on SessionOpened) only. */
    private AuditEvent.CommandReceived withoutIdentity;
    private byte[] encodedWithoutIdentity;

    @Setup
    public void setUp() {
        codec = new AuditEventCodec();
        String sql = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2";
        SqlCommand command = Samples.command(sql, SqlCommand.Form.EXTENDED, List.of("-3312", "48213"),
                new PgQueryAnalyzer().analyze(sql));
        EventHeader header = new EventHeader("0b9f1c2e-7a3d-4e6f-8c5b-2d1a9e7f3c40",
                new SessionId("8d2f6a1c-4e3b-4f7a-a2d9-1c5e7b3f9a20"), Instant.parse("2026-03-01T12:34:56.123456Z"),
                "edge", "dev-edge");
        event = new AuditEvent.CommandReceived(header, command, Samples.dba(), Samples.demo(), "dev-edge", 0, "enforce");
        encoded = codec.encode(event);
        withoutIdentity = new AuditEvent.CommandReceived(header, command, null, Samples.demo(), "dev-edge", 0, "enforce");
        encodedWithoutIdentity = codec.encode(withoutIdentity);
        System.err.println("CommandReceived: " + encoded.length + " bytes, " + encodedWithoutIdentity.length + " without its identity");
        // Not equals() on the whole event: token claims come back in JSON's number types (a long
        // that fits an int decodes as Integer), so compare what the benchmark is about.
        AuditEvent.CommandReceived decoded = (AuditEvent.CommandReceived) codec.decode(encoded);
        if (!decoded.command().equals(event.command()) || !decoded.connection().equals(event.connection())
                || !decoded.identity().subject().equals(event.identity().subject())) {
            throw new IllegalStateException("CommandReceived does not round-trip: " + decoded.command());
        }
    }

    @Benchmark
    public byte[] encodeCommandReceived() {
        return codec.encode(event);
    }

    @Benchmark
    public AuditEvent decodeCommandReceived() {
        return codec.decode(encoded);
    }

    @Benchmark
    public byte[] encodeCommandReceivedWithoutIdentity() {
        return codec.encode(withoutIdentity);
    }

    @Benchmark
    public AuditEvent decodeCommandReceivedWithoutIdentity() {
        return codec.decode(encodedWithoutIdentity);
    }
}
