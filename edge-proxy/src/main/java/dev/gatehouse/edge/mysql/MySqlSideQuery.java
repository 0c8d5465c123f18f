package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.mysql.codec.MySqlPacket;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One query on a short-lived connection of the edge's own to a MySQL target (logged in with the
 * connection's credentials, as a session's target connection is), answered with the rows of its
 * first result set as text. Never a session's connection: what runs there is what the session's
 * client sent. Used to read the target's catalog.
 */
final class MySqlSideQuery {
    private static final int UTF8MB4_GENERAL_CI = 45;

    private MySqlSideQuery() {
    }

    /** Runs {@code sql}; fails on an ERR, a lost connection or after {@code timeout}. Call it on a Vert.x context. */
    static CompletionStage<List<String[]>> run(Vertx vertx, NetClient netClient, TargetConnection target, String sql,
                                               Duration timeout) {
        CompletableFuture<List<String[]>> result = new CompletableFuture<>();
        List<String[]> rows = new ArrayList<>();
        MySqlUpstream[] upstream = new MySqlUpstream[1];
        MySqlResponseTracker[] tracker = new MySqlResponseTracker[1];
        long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> {
            if (result.completeExceptionally(new IllegalStateException("no answer from " + target.name() + " within "
                    + timeout.toMillis() + " ms")) && upstream[0] != null) {
                upstream[0].close();
            }
        });
        result.whenComplete((r, e) -> vertx.cancelTimer(timer));
        upstream[0] = new MySqlUpstream(new MySqlUpstream.Listener() {
            @Override
            public void onTargetPacket(MySqlPacket p) {
                try {
                    tracker[0].onPacket(p);
                    if (tracker[0].lastPart() == MySqlResponseTracker.Part.ROW && tracker[0].results == 0) {
                        rows.add(textRow(p));
                    }
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                    upstream[0].close();
                    return;
                } finally {
                    p.release();
                }
                if (tracker[0].idle()) {
                    if (tracker[0].errorMessage != null) {
                        result.completeExceptionally(new IllegalStateException("the target answered (" + tracker[0].errorNumber
                                + ") " + tracker[0].errorMessage));
                    } else {
                        result.complete(rows);
                    }
                    upstream[0].close();
                }
            }

            @Override
            public void onTargetReadComplete() {
            }

            @Override
            public void onTargetClosed(Throwable cause) {
                result.completeExceptionally(new IllegalStateException("the target closed the connection"
                        + (cause == null ? "" : ": " + cause.getMessage())));
            }
        }, target, netClient, 0, UTF8MB4_GENERAL_CI);
        upstream[0].connect().whenComplete((ready, err) -> {
            if (err != null) {
                result.completeExceptionally(err);
                return;
            }
            if (result.isDone()) {
                upstream[0].close();
                return;
            }
            tracker[0] = new MySqlResponseTracker((ready.capabilities() & MySqlProtocol.CLIENT_DEPRECATE_EOF) != 0,
                    ready.status());
            tracker[0].expect(MySqlResponseTracker.Expect.RESULTS);
            upstream[0].query(sql);
        });
        return result;
    }

    /** A text-protocol row: each value a length-encoded string (UTF-8) or NULL. */
    private static String[] textRow(MySqlPacket p) {
        var b = p.payload().duplicate();
        List<String> values = new ArrayList<>();
        while (b.isReadable()) {
            byte[] v = MySqlProtocol.readLenencBytes(b);
            values.add(v == null ? null : new String(v, StandardCharsets.UTF_8));
        }
        return values.toArray(String[]::new);
    }
}
