package dev.gatehouse.loadtest;

import dev.gatehouse.dev.SelfSignedCertificate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * PgBouncer ({@code /usr/sbin/pgbouncer}, Debian's package) in front of the demo target: the bar
 * for what a proxy that records nothing costs. Configured from a generated ini in a folder of the
 * run: SCRAM towards clients and the target with the target role's password (from a mode-600
 * auth file), TLS offered to clients with the run's self-signed certificate (as the edge offers
 * it), plaintext to the target (as the edge's connection), no connection logging. PgBouncer refuses
 * to run as root: started by root, it reads its files and then becomes {@code nobody} (its
 * {@code user} setting).
 */
public final class PgBouncer implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(PgBouncer.class);
    public static final String BINARY = "/usr/sbin/pgbouncer";

    private final Process process;
    private final int port;
    private final Path log;

    private PgBouncer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts PgBouncer on a free port of 127.0.0.1 and waits until it accepts connections.
     *
     * @param poolMode   {@code session} or {@code transaction}
     * @param maxClients the most clients of any run: the pool is at least that large, so no client waits for a server
     */
    public static PgBouncer start(Path dir, String targetHost, int targetPort, String database, String user, String password,
                                  SelfSignedCertificate.PemFiles tls, String poolMode, int maxClients, Duration timeout)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path users = dir.resolve("userlist.txt");
        Files.writeString(users, "");
        Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(users, quoted(user) + " " + quoted(password) + "\n");
        int port = Ports.free();
        Path ini = dir.resolve("pgbouncer.ini");
        Files.writeString(ini, """
                ; written by the Gatehouse load harness
                [databases]
                %s = host=%s port=%d dbname=%s

                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = %d
                unix_socket_dir =
                auth_type = scram-sha-256
                auth_file = %s
                pool_mode = %s
                default_pool_size = %d
                max_client_conn = %d
                client_tls_sslmode = allow
                client_tls_cert_file = %s
                client_tls_key_file = %s
                server_tls_sslmode = disable
                ignore_startup_parameters = extra_float_digits
                log_connections = 0
                log_disconnections = 0
                log_stats = 0
                %s
                """.formatted(database, targetHost, targetPort, database, port, users, poolMode, maxClients + 2,
                maxClients + 20, tls.certificate(), tls.privateKey(),
                "root".equals(ProcessHandle.current().info().user().orElse("")) ? "user = nobody" : ""));
        // its log goes to standard error (no logfile: that would be opened after it became nobody)
        Path log = dir.resolve("pgbouncer.log");
        Process process = new ProcessBuilder(List.of(BINARY, ini.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PgBouncer bouncer = new PgBouncer(process, port, log);
        try {
            bouncer.awaitListening(timeout);
        } catch (RuntimeException | InterruptedException e) {
            bouncer.close();
            throw e;
        }
        LOGGER.debug("pgbouncer pid={} port={} pool_mode={}", process.pid(), port, poolMode);
        return bouncer;
    }

    private void awaitListening(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("pgbouncer ended at start (exit " + process.exitValue() + "):\n"
                        + ChildProcesses.tail(log, 20));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("pgbouncer does not listen on port " + port + " after "
                            + timeout.toSeconds() + " s:\n" + ChildProcesses.tail(log, 20));
                }
                Thread.sleep(100);
            }
        }
    }

    private static String quoted(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGTERM (PgBouncer's immediate shutdown), SIGKILL after 10 s. */
    @Override
    public void close() {
        ChildProcesses.stop(process, "pgbouncer", Duration.ofSeconds(10));
    }
}
