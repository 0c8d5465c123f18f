package dev.gatehouse.edge.postgres;

import io.vertx.core.net.NetServer;

import java.lang.reflect.Field;

/**
 * Lets a listener binding that joins another's port upgrade its sockets to TLS.
 *
 * <p>Vert.x (5.0.7, and 5.1.6 still) gives the sockets of a server that joins a port another server
 * of the process already listens on the joining server's own SSL context manager, which only the
 * server that opened the port ever creates: {@code upgradeToSsl} on those sockets then fails with
 * a {@code NullPointerException} and the client's TLS handshake never starts. The edge upgrades
 * after PostgreSQL's SSLRequest, so every binding but the first would refuse TLS. Before a joining
 * binding listens, this gives it the manager of the binding that opened the port (the field is
 * otherwise never set on a joining server). When that cannot be done (another Vert.x), the edge
 * stays on one binding rather than run bindings that cannot speak TLS.
 */
final class SharedPortTls {

    private static final Field MANAGER = managerField();

    private SharedPortTls() {
    }

    private static Field managerField() {
        try {
            Field f = Class.forName("io.vertx.core.net.impl.NetServerImpl").getDeclaredField("sslContextManager");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** Whether {@link #adopt} works with this Vert.x. */
    static boolean available(NetServer opener) {
        try {
            return MANAGER != null && MANAGER.getDeclaringClass().isInstance(opener) && MANAGER.get(opener) != null;
        } catch (IllegalAccessException e) {
            return false;
        }
    }

    /** Gives {@code joining}, not listening yet, the SSL context manager of {@code opener}, which listens. */
    static void adopt(NetServer joining, NetServer opener) {
        try {
            MANAGER.set(joining, MANAGER.get(opener));
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot share the listener's TLS context: " + e.getMessage(), e);
        }
    }
}
