package dev.gatehouse.edge.catalog;

import dev.gatehouse.platform.core.ConnectionRef;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * One entry of the connection catalog: what a client selects by name (the PostgreSQL
 * {@code database} startup parameter) and how the edge reaches the target. The credentials
 * never leave the edge: clients never see them, events never carry them.
 *
 * @param name     catalog name the client asks for ({@code dbname=demo})
 * @param host     target host
 * @param port     target port
 * @param database database name at the target
 * @param user     the connection's own user at the target
 * @param password the connection's own password (may be empty for trust)
 * @param tls      whether the edge speaks TLS to the target (the target's certificate is verified,
 *                 and must name {@code host})
 * @param tlsCa    PEM bundle of the CA certificates to trust for the target; null: the JDK's
 *                 default trust store. Only with {@code tls}
 * @param mode     enforce (the edge waits for each decision) or observe (records and forwards)
 * @param labels   free-form labels that policies can match on
 * @param resultCapture how much of each result is sampled into the audit log; null: {@link ResultCapture#DEFAULT}
 * @param protocol the target's protocol, {@value #POSTGRES} or {@value #MYSQL} (MySQL and MariaDB); null:
 *                 PostgreSQL. A client reaches a connection only through the listener of its protocol
 */
public record TargetConnection(String name, String host, int port, String database, String user, String password,
                               boolean tls, Path tlsCa, Mode mode, Map<String, String> labels,
                               ResultCapture resultCapture, String protocol) {

    /** The protocol of PostgreSQL targets. */
    public static final String POSTGRES = "postgres";
    /** The protocol of MySQL and MariaDB targets. */
    public static final String MYSQL = "mysql";

    public enum Mode {
        ENFORCE, OBSERVE;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Mode parse(String text) {
            return switch (text == null ? "enforce" : text.trim().toLowerCase(Locale.ROOT)) {
                case "enforce" -> ENFORCE;
                case "observe" -> OBSERVE;
                default -> throw new IllegalArgumentException("mode must be enforce or observe, not '" + text + "'");
            };
        }
    }

    public TargetConnection {
        require(name, "name");
        require(host, "host");
        require(database, "database");
        require(user, "user");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("connection '" + name + "': port must be 1..65535, not " + port);
        }
        if (tlsCa != null && !tls) {
            throw new IllegalArgumentException("connection '" + name + "': a TLS CA (" + tlsCa + ") is set but tls is off");
        }
        password = password == null ? "" : password;
        mode = mode == null ? Mode.ENFORCE : mode;
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        resultCapture = resultCapture == null ? ResultCapture.DEFAULT : resultCapture;
        protocol = protocol == null ? POSTGRES : protocol.trim().toLowerCase(Locale.ROOT);
        if (!protocol.equals(POSTGRES) && !protocol.equals(MYSQL)) {
            throw new IllegalArgumentException("connection '" + name + "': protocol must be " + POSTGRES + " or " + MYSQL
                    + ", not '" + protocol + "'");
        }
    }

    /** A PostgreSQL connection. */
    public TargetConnection(String name, String host, int port, String database, String user, String password,
                            boolean tls, Path tlsCa, Mode mode, Map<String, String> labels, ResultCapture resultCapture) {
        this(name, host, port, database, user, password, tls, tlsCa, mode, labels, resultCapture, POSTGRES);
    }


    /** A connection with the default result capture. */
    public TargetConnection(String name, String host, int port, String database, String user, String password,
                            boolean tls, Path tlsCa, Mode mode, Map<String, String> labels) {
        this(name, host, port, database, user, password, tls, tlsCa, mode, labels, null, POSTGRES);
    }

    private static void require(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("connection: '" + field + "' is required");
        }
    }

    public ConnectionRef ref() {
        return new ConnectionRef(name, protocol, host + ":" + port + "/" + database, labels);
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "TargetConnection[" + name + " -> " + user + "@" + host + ":" + port + "/" + database
                + ", tls=" + tls + (tlsCa == null ? "" : ", tls-ca=" + tlsCa) + ", mode=" + mode.label()
                + (protocol.equals(POSTGRES) ? "" : ", protocol=" + protocol) + "]";
    }
}
