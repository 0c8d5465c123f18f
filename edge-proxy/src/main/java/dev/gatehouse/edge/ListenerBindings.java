package dev.gatehouse.edge;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The bindings of one protocol listener (a verticle and its server per event loop) and how they
 * stop: at once ({@link #stop()}), or drained ({@link #drain}): no new connection, each session
 * ends as soon as its command in flight completes.
 */
public final class ListenerBindings {
    /** How long after a drain's timeout the servers close connections still open (sessions end before). */
    private static final long DRAIN_CLOSE_MARGIN_MS = 5_000;

    private final Vertx vertx;
    private final List<String> deployments = new CopyOnWriteArrayList<>();
    private final List<NetServer> servers = new CopyOnWriteArrayList<>();

    public ListenerBindings(Vertx vertx) {
        this.vertx = vertx;
    }

    /** A deployment of the listener's verticles. */
    public void deployed(String deploymentId) {
        deployments.add(deploymentId);
    }

    /** A server one of them bound (on its event loop). */
    public void bound(NetServer server) {
        servers.add(server);
    }

    /**
     * The servers stop taking connections at once (each connection hears it through its
     * {@code shutdownHandler}) and close what is left a little after {@code timeout}; the sessions
     * drain meanwhile. Blocks; never call it on an event loop.
     *
     * @return the sessions ended with a command in flight because the timeout passed
     */
    public int drain(Duration timeout, SessionRegistry<?> sessions) {
        List<Future<Void>> closing = servers.stream()
                .map(s -> s.shutdown(timeout.toMillis() + DRAIN_CLOSE_MARGIN_MS, TimeUnit.MILLISECONDS))
                .toList();
        int cut = sessions.drain(timeout);
        Future.join(closing).await();
        return cut;
    }

    /** Undeploys the verticles (their servers close with their connections); once. Blocks. */
    public void stop() {
        for (String id : deployments) {
            if (deployments.remove(id)) vertx.undeploy(id).await();
        }
    }
}
