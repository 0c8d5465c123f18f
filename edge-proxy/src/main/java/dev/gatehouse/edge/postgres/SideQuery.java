package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import io.vertx.core.net.NetClient;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Runs one simple-protocol query text (one or several statements) on a short-lived side
 * connection to a target and returns the rows of each of its results, as text.
 *
 * <p>The connection logs in like a session does ({@link Upstream}: the connection's own
 * credentials, TLS as configured, client encoding UTF-8), sends the text, reads until the target
 * is ready again, and closes: no idle connection is held, and a session's own connection is never
 * used (a query there would interleave with the client's protocol state). A statement that fails,
 * a target that closes the connection, or an answer slower than {@code timeout} fails the result
 * (and closes the connection). Public for the catalog readers of other packages
 * ({@code postgres.catalog}), which cannot see {@link Upstream}.
 */
public final class SideQuery {
    private SideQuery() {
    }

    /**
     * The rows of each result of {@code sql}, in order: one list per statement that returns rows
     * (a RowDescription), each row its columns as text (null for NULL).
     */
    public static CompletionStage<List<List<String[]>>> run(NetClient netClient, TargetConnection target,
                                                            String applicationName, String sql, Duration timeout) {
        CompletableFuture<List<List<String[]>>> result = new CompletableFuture<>();
        List<List<String[]>> results = new ArrayList<>();
        String[] error = new String[1];
        Upstream[] connection = new Upstream[1];
        Upstream upstream = new Upstream(new Upstream.Listener() {
            @Override
            public void onUpstreamFrame(BackendFrame frame) {
                try {
                    switch (frame.type()) {
                        case 'T' -> results.add(new ArrayList<>());
                        case 'D' -> results.getLast().add(row(BackendFrames.parseDataRow(frame)));
                        case 'E' -> {
                            if (error[0] == null) {
                                error[0] = BackendFrames.parseErrorOrNotice(frame).getOrDefault('M', "unknown error");
                            }
                        }
                        case 'Z' -> {
                            connection[0].write(new FrontendMessage.Terminate());
                            connection[0].close();
                            if (error[0] != null) {
                                result.completeExceptionally(new IllegalStateException("the query failed: " + error[0]));
                            } else {
                                result.complete(results);
                            }
                        }
                        default -> { }
                    }
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                    connection[0].close();
                } finally {
                    frame.release();
                }
            }

            @Override
            public void onUpstreamReadComplete() {
            }

            @Override
            public void onUpstreamClosed(Throwable cause) {
                result.completeExceptionally(new IllegalStateException("the target closed the connection"
                        + (cause == null ? "" : ": " + cause.getMessage())));
            }
        }, target, Map.of("application_name", applicationName, "client_encoding", "UTF8"));
        connection[0] = upstream;
        upstream.connect(netClient).whenComplete((ready, err) -> {
            if (err != null) {
                result.completeExceptionally(err);
            } else if (result.isDone()) {
                upstream.close(); // timed out while logging in
            } else {
                upstream.write(new FrontendMessage.Query(sql));
            }
        });
        return result.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((rows, err) -> {
            if (err != null) upstream.close();
        });
    }

    private static String[] row(List<byte[]> values) {
        String[] row = new String[values.size()];
        for (int i = 0; i < row.length; i++) {
            byte[] value = values.get(i);
            row[i] = value == null ? null : new String(value, StandardCharsets.UTF_8);
        }
        return row;
    }
}
