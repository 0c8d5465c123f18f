package dev.gatehouse.edge.fuzz;

import dev.gatehouse.edge.postgres.SimulatedSession;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Fuzzes the session core and its PostgreSQL adapter: an input is a logged-in client's messages,
 * run through a {@link SimulatedSession} (the real adapter, session core, SQL analyser and
 * decision flow; a simulated PostgreSQL as the target; everything on this thread).
 *
 * <p>The messages are not decoded from bytes (the frontend decoder has its own target) but
 * generated from them, so that the fuzzer spends its inputs on the session's states rather than
 * on framing. An input is one setting byte, then one step per byte or few:
 * <ol>
 *   <li>setting: bit 0 = pipelined (every message is handed in before anything runs, as if all
 *       came in one read; otherwise the session settles before each message), bit 1 = the
 *       target's answers arrive one frame per read, bit 2 = a slow client (the edge pauses the
 *       target while the client's queue is full), bit 3 = the client leaves with a Terminate
 *       (otherwise its connection drops), bits 4 and 5 both set = the audit log is unreachable once
 *       the session is open (every command must fail closed);
 *   <li>each step: a byte choosing the message ({@link #step}) or something out of band
 *       ({@link #outOfBand}: a CancelRequest, the answer to a command held for approval), then bytes choosing its SQL text
 *       from {@link #SQL} (allowed and denied statements, transactions, PREPARE and cursors,
 *       settings the edge pins, failing ones, several in one text) or taking raw text from the
 *       input, names from {@link #NAMES}, parameters and row limits.
 * </ol>
 * What must hold (checked by {@link SimulatedSession}): no exception escapes and the edge never
 * fails internally; every Query and Execute the target receives is the edge's own or a statement
 * of a command recorded and allowed before it got there; nothing denied reaches the target; once
 * the input ends and everything queued has run, the session is open and idle or closed, and it
 * closes cleanly when the client leaves; every buffer is released.
 */
class SessionFuzzTest extends FuzzTarget {

    private static final int PIPELINED = 1;
    private static final int FRAME_PER_READ = 2;
    private static final int SLOW_CLIENT = 4;
    private static final int TERMINATE = 8;
    private static final int LOG_DOWN = 16 | 32;
    /** Steps of one input at most: enough for any sequence worth finding, short enough to stay fast. */
    private static final int MAX_STEPS = 200;

    private static final SqlAnalyzer ANALYZER = new PgQueryAnalyzer();

    /** The SQL texts a step chooses from (the policy denies those mentioning delete, drop or secret). */
    static final List<String> SQL = List.of(
            "SELECT 1",
            "SELECT $1::int",
            "SELECT * FROM t WHERE id = $1",
            "INSERT INTO t VALUES ($1)",
            "UPDATE t SET x = 1",
            "DELETE FROM t",
            "DROP TABLE t",
            "SELECT * FROM secret",
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT s",
            "ROLLBACK TO SAVEPOINT s",
            "PREPARE p AS SELECT 1",
            "PREPARE d AS DELETE FROM t",
            "EXECUTE p",
            "EXECUTE d",
            "DEALLOCATE p",
            "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
            "DECLARE c CURSOR FOR SELECT * FROM secret",
            "FETCH 1 FROM c",
            "CLOSE c",
            "SET search_path = public",
            "SET standard_conforming_strings = off",
            "SET client_encoding = 'LATIN1'",
            "SELECT fail",
            "SELECT 1; SELECT 2",
            "SELECT 1; DELETE FROM t",
            "",
            "DO $$ BEGIN PERFORM 1; END $$",
            "CREATE TABLE t (id int)",
            "SELECT masked FROM t",
            "COPY t FROM STDIN",
            "COPY t TO STDOUT",
            "SHOW search_path",
            "SELECT pg_notify('a', 'b')",
            "START TRANSACTION",
            "SELECT 'fail' FROM t",
            "DISCARD ALL",
            "SELECT f()",
            "SELECT 'approve me'",
            "UPDATE t SET x = 2 WHERE 'approve' <> ''");

    /** Statement and portal names: unnamed, two of the client's, the edge's own reserved ones. */
    static final List<String> NAMES = List.of("", "", "a", "b", "gatehouse verify names", "gatehouse rejected 1");

    @Override
    protected void fuzzOne(FuzzInput input, ByteBufAllocator alloc) {
        int mode = input.setting();
        Bytes in = new Bytes(input.payload());
        SimulatedSession session = SimulatedSession.open(alloc, ANALYZER,
                new SimulatedSession.Options((mode & FRAME_PER_READ) != 0, (mode & SLOW_CLIENT) != 0, (mode & LOG_DOWN) == LOG_DOWN));
        boolean pipelined = (mode & PIPELINED) != 0;
        for (int steps = 0; steps < MAX_STEPS && in.more() && !session.closed(); steps++) {
            int op = in.next() % 16;
            if (op == 14) {
                outOfBand(in, session, alloc, pipelined);
                continue;
            }
            for (FrontendMessage m : step(op, in, alloc)) {
                if (!pipelined) session.settle();
                session.send(m);
            }
        }
        session.assertSettled();
        session.end((mode & TERMINATE) != 0);
    }

    /**
     * Step 14: what the client sends out of turn (a second password or startup message, a
     * Terminate), its CancelRequest, or the approval service's answer to a held command.
     */
    private static void outOfBand(Bytes in, SimulatedSession session, ByteBufAllocator alloc, boolean pipelined) {
        int what = in.next() % 6;
        if (!pipelined) session.settle();
        switch (what) {
            case 0 -> session.send(FrontendMessage.PasswordMessage.cleartext("again"));
            case 1 -> {
                LinkedHashMap<String, String> startup = new LinkedHashMap<>();
                startup.put("user", "fuzz");
                session.send(new FrontendMessage.StartupMessage(PgProtocol.PROTOCOL_VERSION_3_0, startup));
            }
            case 2 -> session.send(new FrontendMessage.Terminate());
            case 3 -> session.cancel();
            default -> session.answerApproval(what == 4);
        }
    }

    /** The messages of step {@code op}. */
    private static List<FrontendMessage> step(int op, Bytes in, ByteBufAllocator alloc) {
        return switch (op) {
            case 0, 1 -> List.of(new FrontendMessage.Query(sql(in)));
            case 2 -> List.of(new FrontendMessage.Query(in.text()));
            case 3 -> List.of(new FrontendMessage.Parse(name(in), sql(in), new int[in.next() % 3]));
            case 4 -> List.of(new FrontendMessage.Parse(name(in), in.text(), new int[0]));
            case 5 -> List.of(bind(in));
            case 6 -> List.of(new FrontendMessage.Describe(kind(in), name(in)));
            case 7 -> List.of(new FrontendMessage.Execute(name(in), in.next() % 3));
            case 8 -> List.of(new FrontendMessage.Close(kind(in), name(in)));
            case 9, 10 -> List.of(new FrontendMessage.Sync());
            case 11 -> List.of(new FrontendMessage.Flush());
            case 12 -> List.of(new FrontendMessage.FunctionCall(List.of(0, 1, 2147).get(in.next() % 3), new short[0],
                    parameters(in), (short) 0));
            case 13 -> switch (in.next() % 3) {
                case 0 -> {
                    byte[] data = in.text().getBytes(StandardCharsets.UTF_8);
                    yield List.of(new FrontendMessage.CopyData(alloc.buffer(data.length).writeBytes(data)));
                }
                case 1 -> List.of(new FrontendMessage.CopyDone());
                default -> List.of(new FrontendMessage.CopyFail("stop"));
            };
            default -> {
                // a whole unnamed-statement round trip, as drivers send it
                String sql = sql(in);
                List<FrontendMessage> batch = new ArrayList<>();
                batch.add(new FrontendMessage.Parse("", sql, new int[0]));
                batch.add(new FrontendMessage.Bind("", "", new short[0], parameters(in), new short[0]));
                batch.add(new FrontendMessage.Describe(PgProtocol.TARGET_PORTAL, ""));
                batch.add(new FrontendMessage.Execute("", in.next() % 2));
                batch.add(in.next() % 4 == 0 ? new FrontendMessage.Flush() : new FrontendMessage.Sync());
                yield batch;
            }
        };
    }

    private static FrontendMessage.Bind bind(Bytes in) {
        String portal = name(in);
        String statement = name(in);
        return new FrontendMessage.Bind(portal, statement, new short[0], parameters(in), new short[0]);
    }

    private static List<byte[]> parameters(Bytes in) {
        int n = in.next() % 3;
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int v = in.next();
            values.add(v % 4 == 0 ? null : Integer.toString(v % 7).getBytes(StandardCharsets.UTF_8));
        }
        return values;
    }

    private static String sql(Bytes in) {
        return SQL.get(in.next() % SQL.size());
    }

    private static String name(Bytes in) {
        return NAMES.get(in.next() % NAMES.size());
    }

    private static byte kind(Bytes in) {
        return in.next() % 2 == 0 ? PgProtocol.TARGET_STATEMENT : PgProtocol.TARGET_PORTAL;
    }

    /** The payload read byte by byte; 0 once it is exhausted. */
    private static final class Bytes {
        private final byte[] bytes;
        private int next;

        Bytes(byte[] bytes) {
            this.bytes = bytes;
        }

        boolean more() {
            return next < bytes.length;
        }

        int next() {
            return next < bytes.length ? bytes[next++] & 0xff : 0;
        }

        /** Raw text: a length byte (0 to 47), then that many bytes as Latin-1 (a NUL becomes a space, as no message can hold one). */
        String text() {
            int n = Math.min(next() % 48, bytes.length - next);
            String s = new String(bytes, next, n, StandardCharsets.ISO_8859_1).replace('\0', ' ');
            next += n;
            return s;
        }
    }
}
