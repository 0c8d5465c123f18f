package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.NettySockets;
import dev.gatehouse.edge.SessionRegistry;
import dev.gatehouse.edge.VertxScheduler;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.mysql.codec.Handshake;
import dev.gatehouse.edge.mysql.codec.MySqlPacket;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;
import dev.gatehouse.edge.mysql.codec.PacketDecoder;
import dev.gatehouse.edge.mysql.codec.StmtExecute;
import dev.gatehouse.edge.mysql.codec.TlsSwitch;
import dev.gatehouse.edge.session.CommandDraft;
import dev.gatehouse.edge.session.CommandResult;
import dev.gatehouse.edge.session.ClientIntent;
import dev.gatehouse.edge.session.ConnectRequest;
import dev.gatehouse.edge.session.PendingCommand;
import dev.gatehouse.edge.session.Refusal;
import dev.gatehouse.edge.session.SessionCore;
import dev.gatehouse.edge.session.SessionProtocol;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.ParsedStatement;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.revocation.SessionInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.DecoderException;
import io.vertx.core.Context;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/**
 * One client connection of the MySQL listener: the MySQL protocol adapter of the shared
 * {@link SessionCore}. It owns the bytes: the greeting, TLS, the token as a password
 * ({@code mysql_clear_password}, switched to with an AuthSwitchRequest), the login to the target,
 * each command's SQL as the target will read it, relaying answers, and refusals as ERR packets.
 *
 * <p>How the edge reads SQL exactly as the target does:
 * <ul>
 *   <li>Character sets: the client's collation must be of an ASCII-compatible character set
 *       (utf8mb3, utf8mb4, latin1, ascii, binary), where a quote or backslash byte is never part of
 *       another character; a query whose bytes are not valid in it is refused; a statement that
 *       changes the client character set is accepted only when it names one of those sets
 *       literally.</li>
 *   <li>{@code NO_BACKSLASH_ESCAPES} is tracked exactly: the target reports it in the status flags
 *       of every answer. {@code ANSI_QUOTES} is not reported: a query containing a double quote must
 *       read the same (statements, kinds, objects) with and without it, or it is refused.</li>
 *   <li>A statement that changes {@code sql_mode} or the character set must be the last of its
 *       query (the target reads the statements after it under the new setting).</li>
 *   <li>Executable comments ({@code /*! ... *}{@code /}, {@code /*M! ... *}{@code /}) are code: the
 *       analyser expands them for the target's version.</li>
 * </ul>
 *
 * <p>One deviation from MySQL: after a command is refused inside a transaction, the edge rolls the
 * target's transaction back and refuses everything but ROLLBACK until the client ends it (MySQL
 * itself would keep the transaction open after an error, and a client that does not check errors
 * would commit the rest of it).
 *
 * <p>Server-side prepared statements: a prepare runs nothing and is passed on, its text analysed
 * then; each execute is decided with its parameters as that analysis; statement id -1 is resolved
 * to the last prepare the edge saw; long data is followed as the target holds it and recorded with
 * the execute that uses it; COM_RESET_CONNECTION is a command of its own, and the edge's state follows
 * the target's reset. Not supported yet, refused with a clear ERR: cursors of prepared statements,
 * COM_CHANGE_USER, COM_FIELD_LIST, replication and binlog commands, XA. The compressed protocol and local files are never offered.
 *
 * <p>A Mask decision runs a command that only reads ({@link #notMaskable}) and rewrites its answer
 * as it streams ({@link MySqlResultMasker}, text and binary rows, with the target's tables read on
 * a side connection to tell base tables from views); afterwards the edge clears the target's
 * diagnostics area ({@link #CLEAR_DIAGNOSTICS}) before the next command, so SHOW WARNINGS cannot
 * quote a masked value. Result samples are taken after masking ({@link MySqlResultSampler}).
 */
final class MySqlSession implements SessionRegistry.LiveSession, SessionProtocol {
    private static final Logger LOGGER = LoggerFactory.getLogger(MySqlSession.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What the edge's greeting offers a client. */
    static final int OFFERED = MySqlProtocol.CLIENT_LONG_PASSWORD | MySqlProtocol.CLIENT_FOUND_ROWS
            | MySqlProtocol.CLIENT_LONG_FLAG | MySqlProtocol.CLIENT_CONNECT_WITH_DB | MySqlProtocol.CLIENT_PROTOCOL_41
            | MySqlProtocol.CLIENT_INTERACTIVE | MySqlProtocol.CLIENT_IGNORE_SIGPIPE | MySqlProtocol.CLIENT_TRANSACTIONS
            | MySqlProtocol.CLIENT_RESERVED | MySqlProtocol.CLIENT_SECURE_CONNECTION | MySqlProtocol.CLIENT_MULTI_STATEMENTS
            | MySqlProtocol.CLIENT_MULTI_RESULTS | MySqlProtocol.CLIENT_PS_MULTI_RESULTS | MySqlProtocol.CLIENT_PLUGIN_AUTH
            | MySqlProtocol.CLIENT_CONNECT_ATTRS | MySqlProtocol.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | MySqlProtocol.CLIENT_DEPRECATE_EOF;
    /** utf8mb4_general_ci: the collation the greeting announces. */
    private static final int DEFAULT_COLLATION = 45;
    /** SERVER_STATUS_NO_BACKSLASH_ESCAPES: the target reports the sql_mode flag in every answer. */
    static final int STATUS_NO_BACKSLASH_ESCAPES = 1 << 9;
    /** Character sets whose bytes 0x22, 0x27, 0x5C and 0x60 are never part of another character. */
    private static final Set<String> SAFE_CHARSETS = Set.of("utf8mb4", "utf8mb3", "utf8", "latin1", "ascii", "binary");
    /** Where a SET names the client character set: NAMES x, CHARACTER SET x, CHARSET x, character_set_client = x. */
    private static final Pattern CHARSET_ASSIGNMENT = Pattern.compile(
            "(?i)(?:\\bNAMES\\b|\\bCHARACTER\\s+SET\\b|\\bCHARSET\\b|\\bcharacter_set_client\\b\\s*:?=)\\s*");
    private static final Pattern SAFE_CHARSET_NAME = Pattern.compile(
            "(?i)(['\"`]?)(utf8mb4|utf8mb3|utf8|latin1|ascii|binary)\\1(?![a-z0-9_$])");
    /** KILL [HARD | SOFT] [QUERY | CONNECTION] id: the forms whose id is a connection's. */
    private static final Pattern KILL = Pattern.compile(
            "(?is)\\s*KILL\\s+(?:(?:HARD|SOFT)\\s+)?(?:(QUERY|CONNECTION)\\s+)?([0-9]+)\\s*");
    private static final Set<String> CHARSET_SETTINGS = Set.of("names", "character_set_client", "character set", "charset",
            "character_set_connection", "*");

    private enum Phase { GREETING, SWITCHING, CONNECTING, OPEN, CLOSED }

    /** One command between its arrival and its completion. */
    private static final class Unit {
        ByteBuf packet;            // the command packet's payload, forwarded as it came
        PendingCommand pending;    // null for commands the edge passes on without recording (COM_SET_OPTION)
        boolean silent;            // the command has no answer (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA)
        boolean forwarded;
        boolean rollingBack;       // the edge's own ROLLBACK after a refusal in a transaction is in flight
        boolean localInfile;       // the target asked for a local file: refused, its answer is not relayed
        Refusal refusal;           // the refusal the client gets once the ROLLBACK is done
        int nextSequence = 1;      // the sequence id of the next packet to the client
        long bytesToClient;
        boolean endsAbortedTransaction;
        List<String> tags = List.of();
        Prepared preparing;        // a COM_STMT_PREPARE in flight: what it prepares
        Prepared executing;        // a COM_STMT_EXECUTE: the statement, whose long data the target consumes
        Charset newCharset;        // the client character set its last statement sets, once it succeeded
        boolean resetsConnection;  // COM_RESET_CONNECTION: the target's session state starts afresh
        Prepared fetching;         // a COM_STMT_FETCH: the statement whose cursor it reads
        dev.gatehouse.platform.core.ControlMessage.KillConnection routedKill; // a KILL for another edge's session
        boolean binaryRows;        // its rows come in the binary protocol (COM_STMT_EXECUTE)
        MySqlResultMasker masker;  // a Mask decision's rewriter of the answer, or null
        MySqlResultSampler sampler; // the result sample of a recorded command, when the connection captures results
        int sequenceShift;         // packets the masker's rewrites added (or removed) before this point
        boolean clearingDiagnostics; // the edge's own statement that clears a masked command's warnings is in flight
        boolean recorded;          // its answer is complete and recorded (the edge's own statement may still follow)

        Unit(ByteBuf packet) {
            this.packet = packet;
        }
    }

    /** What the target answered to a command, as its record needs it. */
    private record Answer(int results, long rows, int errorNumber, String errorState, String errorMessage,
                          boolean cursorOpen) {
        static Answer of(MySqlResponseTracker t) {
            return new Answer(t.results, t.rows, t.errorNumber, t.errorState, t.errorMessage, t.cursorOpen());
        }
    }

    /**
     * A statement the target prepared for this session (COM_STMT_PREPARE), as analysed when it was
     * prepared (the target reads it under the settings of that moment).
     */
    private static final class Prepared {
        final String sql;
        final ParsedSql parsed;
        final Refusal refusal;
        int id;
        int params;
        int[] types;
        /** The masker of the execute that opened the statement's cursor (its fetched rows are masked alike), or null. */
        MySqlResultMasker cursorMasker;
        /** Whether the statement has an open cursor at the target (COM_STMT_FETCH reads it). */
        boolean cursorOpen;
        /** Parameters the target holds long data for (COM_STMT_SEND_LONG_DATA since the last execute or reset). */
        final Map<Integer, dev.gatehouse.edge.mysql.codec.LongData> longData = new java.util.HashMap<>();

        Prepared(String sql, ParsedSql parsed, Refusal refusal) {
            this.sql = sql;
            this.parsed = parsed;
            this.refusal = refusal;
        }
    }

    private final MySqlEdge edge;
    private final NetSocket socket;
    private final Context context;
    private final ByteBufAllocator alloc;
    private final String address;
    private final int connectionId;
    private final SessionCore core;
    private final VertxScheduler scheduler;
    private final byte[] scramble = new byte[Handshake.SCRAMBLE_LENGTH];

    private Phase phase = Phase.GREETING;
    private int sequence;
    private boolean tls;
    private int capabilities;
    private int collation;
    private Charset charset = StandardCharsets.UTF_8;
    /** The character set the client connected with (COM_RESET_CONNECTION goes back to it). */
    private Charset connectCharset = StandardCharsets.UTF_8;
    private Handshake.Response response;
    private TargetConnection target;
    private MySqlUpstream upstream;
    private MySqlUpstream.Ready ready;
    private MySqlResponseTracker tracker;
    private CompletableFuture<TargetLogin> login;
    private Unit unit;
    private final ArrayDeque<MySqlPacket> queued = new ArrayDeque<>();
    private boolean abortedTransaction;
    /** The statements the target prepared for this session, by the target's statement id. */
    private final Map<Integer, Prepared> prepared = new java.util.HashMap<>();
    /** The target's analysers by lexing flags (bit 0: NO_BACKSLASH_ESCAPES, bit 1: ANSI_QUOTES). */
    private final SqlAnalyzer[] analyzers = new SqlAnalyzer[4];
    /** The id of the last successful prepare (MariaDB's statement id -1), or 0 when the last prepare failed. */
    private int lastPrepared;
    private boolean upstreamPaused;
    private boolean unflushed;
    private boolean clientClosed;

    MySqlSession(MySqlEdge edge, NetSocket socket, Context context) {
        this.edge = edge;
        this.socket = socket;
        this.context = context;
        this.alloc = NettySockets.alloc(socket);
        this.address = String.valueOf(socket.remoteAddress());
        this.connectionId = edge.registry().newProcessId();
        this.scheduler = new VertxScheduler(context);
        var remote = socket.remoteAddress();
        this.core = new SessionCore(edge.sessionPorts(), scheduler, this, SessionId.random(), address,
                remote == null ? null : remote.hostAddress());
        for (int i = 0; i < scramble.length; i++) scramble[i] = (byte) (1 + RANDOM.nextInt(127));
    }

    void start() {
        NettySockets.install(socket, "mysql-decoder", new PacketDecoder(edge.config().maxMessageSize()), this::onObject);
        NettySockets.installBefore(socket, "mysql-decoder", "mysql-tls-switch", new TlsSwitch(edge.sslContext()));
        NettySockets.onWritable(socket, this::onClientWritable);
        socket.exceptionHandler(this::onError);
        socket.closeHandler(v -> {
            clientClosed = true;
            edge.connectionClosed();
            if (phase != Phase.CLOSED) core.close(phase == Phase.GREETING || phase == Phase.SWITCHING ? null : "client disconnected");
        });
        core.start();
        int offered = OFFERED | (edge.sslContext() != null ? MySqlProtocol.CLIENT_SSL : 0);
        var greeting = new Handshake.Greeting(edge.serverVersion(), connectionId, scramble, offered, DEFAULT_COLLATION,
                MySqlProtocol.SERVER_STATUS_AUTOCOMMIT, Handshake.NATIVE_PASSWORD);
        send(0, greeting.encode(alloc));
        sequence = 1;
        flush();
    }

    // ---------------------------------------------------------------- LiveSession

    @Override
    public SessionId sessionId() {
        return core.sessionId();
    }

    /** The connection id the client sees (and would name in KILL). */
    @Override
    public int processId() {
        return connectionId;
    }

    @Override
    public int secretKey() {
        return 0;
    }

    @Override
    public void cancel() {
        context.runOnContext(v -> core.cancel());
    }

    @Override
    public void kill(String reason) {
        context.runOnContext(v -> core.kill(reason));
    }

    @Override
    public void drain(boolean now) {
        context.runOnContext(v -> core.drain(now));
    }

    Identity identity() {
        return core.identity();
    }

    SessionInfo info() {
        return core.info();
    }

    // ---------------------------------------------------------------- client input

    private void onObject(Object o) {
        if (!(o instanceof MySqlPacket p)) return;
        try {
            switch (phase) {
                case GREETING -> onHandshakeResponse(p);
                case SWITCHING -> onAuthSwitchResponse(p);
                case CONNECTING -> queue(p);
                case OPEN -> {
                    if (unit != null) queue(p);
                    else onCommand(p);
                }
                case CLOSED -> p.release();
            }
        } catch (RuntimeException e) {
            LOGGER.error("session={} internal error on a client packet", core.sessionId(), e);
            core.fatal(new Refusal(Refusal.Kind.INTERNAL, "gatehouse internal error; the session is closed", null, null),
                    "session-error: " + e);
        }
    }

    private void queue(MySqlPacket p) {
        queued.add(p);
        socket.pause();
    }

    private void onHandshakeResponse(MySqlPacket p) {
        try {
            if (p.sequence() != sequence) {
                core.violation(name(), "handshake packet with sequence id " + p.sequence() + ", expected " + sequence);
                return;
            }
            sequence = p.nextSequence() ;
            if (Handshake.Response.isSslRequest(p.payload())) {
                if (edge.sslContext() == null || tls) {
                    core.violation(name(), "SSLRequest on a connection that was not offered TLS");
                    return;
                }
                tls = true; // the TLS switch already put TLS in place right after this packet
                return;
            }
            try {
                response = Handshake.Response.read(p.payload());
            } catch (RuntimeException e) {
                core.violation(name(), "malformed handshake response: " + e.getMessage());
                return;
            }
        } finally {
            p.release();
        }
        capabilities = response.capabilities() & (OFFERED | MySqlProtocol.CLIENT_SSL);
        collation = response.collation();
        String user = response.user();
        String database = connectionNamed(response.database(), user);
        Refusal refusal = connectionRefusal(database);
        if (refusal != null) {
            core.refuseConnection(refusal, database, user);
            return;
        }
        target = database == null || database.isBlank()
                ? edge.catalog().find(edge.catalog().names(TargetConnection.MYSQL).getFirst(), TargetConnection.MYSQL).orElseThrow()
                : edge.catalog().find(database, TargetConnection.MYSQL).orElseThrow();
        if (Handshake.CLEAR_PASSWORD.equals(response.authPlugin())) {
            connect(tokenOf(response.authResponse()));
            return;
        }
        // every client starts with its own method (MariaDB's: mysql_native_password); the token is a password
        // in clear, over TLS unless plaintext is allowed
        phase = Phase.SWITCHING;
        send(sequence, Handshake.authSwitch(alloc, Handshake.CLEAR_PASSWORD, new byte[0]));
        sequence = (sequence + 1) & 0xFF;
        flush();
    }

    /** Why a handshake response is refused, or null. */
    /**
     * The connection a client names: its database, or, for clients that connect without one (such
     * as mysqldump, which selects databases later), the part of its user name after the last
     * {@code @} when that is a MySQL connection's name ({@code -u alice@shop-mysql}). The identity
     * always comes from the token, never from the user name.
     */
    private String connectionNamed(String database, String user) {
        if ((database == null || database.isBlank()) && user != null && user.lastIndexOf('@') >= 0) {
            String suffix = user.substring(user.lastIndexOf('@') + 1);
            if (edge.catalog().find(suffix, TargetConnection.MYSQL).isPresent()) return suffix;
        }
        return database;
    }

    /** What the client declared it is doing ({@link ClientIntent}), read once when its startup is checked; null: nothing. */
    private DeclaredIntent declaredIntent;

    private Refusal connectionRefusal(String database) {
        if (!tls && !edge.config().allowPlaintext()) {
            return code(Refusal.Kind.AUTHENTICATION, "Gatehouse requires TLS: connect with --ssl (mysql) or"
                    + " sslMode=verify-full / useSSL=true (Connector/J)", MySqlProtocol.ER_ACCESS_DENIED_ERROR);
        }
        if ((response.capabilities() & MySqlProtocol.CLIENT_PLUGIN_AUTH) == 0) {
            return code(Refusal.Kind.AUTHENTICATION, "the client does not support authentication plugins; Gatehouse needs"
                    + " mysql_clear_password to receive the token", MySqlProtocol.ER_ACCESS_DENIED_ERROR);
        }
        try {
            declaredIntent = readDeclaredIntent();
        } catch (IllegalArgumentException e) {
            return code(Refusal.Kind.EDGE, e.getMessage(), MySqlProtocol.ER_WRONG_VALUE_FOR_VAR);
        }
        String charsetName = charsetOf(collation);
        if (charsetName == null) {
            return code(Refusal.Kind.EDGE, "Gatehouse accepts the character sets " + String.join(", ", new java.util.TreeSet<>(SAFE_CHARSETS))
                    + " only (collation id " + collation + " is not one of them): connect with --default-character-set=utf8mb4",
                    MySqlProtocol.ER_NOT_SUPPORTED_YET);
        }
        charset = javaCharset(charsetName);
        connectCharset = charset;
        List<String> names = edge.catalog().names(TargetConnection.MYSQL);
        if ((database == null || database.isBlank()) && names.size() != 1) {
            return code(Refusal.Kind.EDGE, "no Gatehouse connection selected: name one as the database (mysql -D <connection>)"
                    + " or after the user name (mysqldump -u you@<connection>); one of: " + String.join(", ", names),
                    MySqlProtocol.ER_NO_DB_ERROR);
        }
        if (database == null || database.isBlank()) return null; // the listener's only connection
        if (edge.catalog().find(database, TargetConnection.MYSQL).isEmpty()) {
            boolean postgres = edge.catalog().find(database).isPresent();
            return code(Refusal.Kind.EDGE, "connection \"" + database + "\" is " + (postgres
                    ? "a PostgreSQL connection: reach it through the edge's PostgreSQL listener"
                    : "not configured in Gatehouse") + " (the database selects one of: " + String.join(", ", names) + ")",
                    MySqlProtocol.ER_BAD_DB_ERROR);
        }
        return null;
    }

    /** The character set of a collation id, when it is one the edge reads SQL in; else null. */
    /** The Java character set that reads a safe MySQL character set's bytes as the target does. */
    static Charset javaCharset(String mysqlCharset) {
        return switch (mysqlCharset.toLowerCase(Locale.ROOT)) {
            case "latin1" -> Charset.forName("windows-1252"); // MySQL's latin1 is cp1252
            case "ascii" -> StandardCharsets.US_ASCII;
            case "binary" -> StandardCharsets.ISO_8859_1;
            default -> StandardCharsets.UTF_8;
        };
    }

    static String charsetOf(int collation) {
        return switch (collation) {
            case 5, 8, 15, 31, 47, 48, 49, 94 -> "latin1";
            case 11, 65 -> "ascii";
            case 63 -> "binary";
            case 33, 83 -> "utf8mb3";
            case 45, 46 -> "utf8mb4";
            default -> {
                if (collation >= 192 && collation <= 215) yield "utf8mb3";
                if ((collation >= 224 && collation <= 247) || (collation >= 255 && collation <= 309)) yield "utf8mb4";
                yield null;
            }
        };
    }

    private void onAuthSwitchResponse(MySqlPacket p) {
        try {
            if (p.sequence() != sequence) {
                core.violation(name(), "authentication packet with sequence id " + p.sequence() + ", expected " + sequence);
                return;
            }
            sequence = p.nextSequence();
            byte[] bytes = new byte[p.size()];
            p.payload().getBytes(p.payload().readerIndex(), bytes);
            connect(tokenOf(bytes));
        } finally {
            p.release();
        }
    }

    /** mysql_clear_password sends the password NUL-terminated. */
    private static String tokenOf(byte[] bytes) {
        int n = bytes.length;
        while (n > 0 && bytes[n - 1] == 0) n--;
        return new String(bytes, 0, n, StandardCharsets.UTF_8).trim();
    }

    private void connect(String token) {
        phase = Phase.CONNECTING;
        socket.pause();
        Map<String, String> parameters = new LinkedHashMap<>();
        response.attributes().forEach((k, v) -> {
            if (k != null && v != null) parameters.put(k, v);
        });
        parameters.put("collation", Integer.toString(collation));
        core.connect(new ConnectRequest(token, target, response.user(), response.attributes().get("program_name"),
                parameters, tls, declaredIntent));
    }

    /** The run and step the client declared in its connection attributes ({@link ClientIntent}), or null. */
    private DeclaredIntent readDeclaredIntent() {
        Map<String, String> a = response.attributes();
        return ClientIntent.of(ClientIntent.MYSQL_RUN, a.get(ClientIntent.MYSQL_RUN), ClientIntent.MYSQL_STEP,
                a.get(ClientIntent.MYSQL_STEP));
    }

    // ---------------------------------------------------------------- commands

    private void onCommand(MySqlPacket p) {
        if (p.sequence() != 0) {
            p.release();
            core.violation(name(), "command packet with sequence id " + p.sequence() + ", expected 0");
            return;
        }
        if (p.size() == 0) {
            p.release();
            core.violation(name(), "empty command packet");
            return;
        }
        int command = p.header();
        switch (command) {
            case MySqlProtocol.COM_QUIT -> {
                p.release();
                core.close("client quit");
            }
            case MySqlProtocol.COM_PING -> {
                p.release();
                send(1, MySqlProtocol.okPacket(alloc, 0, 0, tracker.status(), 0, false));
                flush();
            }
            case MySqlProtocol.COM_QUERY -> startQuery(p);
            case MySqlProtocol.COM_INIT_DB -> startInitDb(p);
            case MySqlProtocol.COM_SET_OPTION -> setOption(p);
            case MySqlProtocol.COM_STMT_PREPARE -> prepare(p);
            case MySqlProtocol.COM_STMT_EXECUTE -> execute(p);
            case MySqlProtocol.COM_STMT_CLOSE -> closeStatement(p);
            case MySqlProtocol.COM_STMT_SEND_LONG_DATA -> longData(p);
            case MySqlProtocol.COM_RESET_CONNECTION -> resetConnection(p);
            case MySqlProtocol.COM_STMT_FETCH -> fetch(p);
            case MySqlProtocol.COM_STMT_RESET -> resetStatement(p);
            default -> refuseCommand(p, command);
        }
    }

    /** The text after a command byte, in the connection's character set; null when its bytes are not valid there. */
    private String commandText(MySqlPacket p) {
        ByteBuf text = p.payload().slice(p.payload().readerIndex() + 1, p.size() - 1);
        try {
            return charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(text.nioBuffer()).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private void startQuery(MySqlPacket p) {
        Unit u = new Unit(p.payload());
        String sql = commandText(p);
        if (sql == null) {
            String shown = p.payload().toString(p.payload().readerIndex() + 1, p.size() - 1, StandardCharsets.ISO_8859_1);
            submit(u, new CommandDraft(SqlCommand.Form.SIMPLE_QUERY,
                    List.of(CommandStatement.query(shown, StatementAnalysis.unknown("UNKNOWN", "not valid " + charset.name()))),
                    shown, false, "the query is not valid " + charset.name(), null,
                    code(Refusal.Kind.EDGE, "gatehouse: the query's bytes are not valid in the connection's character set ("
                            + charset.name() + "); the command was not executed", MySqlProtocol.ER_NOT_SUPPORTED_YET), u));
            return;
        }
        submit(u, draft(u, sql));
    }

    /**
     * COM_INIT_DB: the same as {@code USE `db`}. The connection's own name (what clients such as
     * mysqldump select after connecting) means the connection's database at the target: the packet
     * is forwarded with that name, and recorded so.
     */
    private void startInitDb(MySqlPacket p) {
        String db = p.payload().toString(p.payload().readerIndex() + 1, p.size() - 1, charset);
        ByteBuf packet = p.payload();
        if (db.equals(target.name()) && !db.equals(target.database())) {
            db = target.database();
            byte[] name = db.getBytes(charset);
            packet = alloc.buffer(1 + name.length).writeByte(MySqlProtocol.COM_INIT_DB).writeBytes(name);
            p.release();
        }
        Unit u = new Unit(packet);
        submit(u, draft(u, "USE `" + db.replace("`", "``") + "`"));
    }

    /** The draft of a query: its statements as the target reads them, or the edge's refusal. */
    private CommandDraft draft(Unit u, String sql) {
        Set<String> modes = lexingModes();
        ParsedSql parsed = analyzer(modes).parse(sql);
        List<CommandStatement> statements = new ArrayList<>();
        if (parsed.analysis().parseable() && !parsed.statements().isEmpty()) {
            for (ParsedStatement s : parsed.statements()) statements.add(CommandStatement.query(s.text(sql), s.analysis()));
        } else {
            statements.add(CommandStatement.query(sql, StatementAnalysis.unknown("UNKNOWN",
                    parsed.analysis().parseError() == null ? "not parseable" : parsed.analysis().parseError())));
        }
        u.tags = statements.stream().map(s -> s.analysis().tag()).toList();
        u.newCharset = charsetSet(sql, parsed);
        if (statements.stream().anyMatch(s -> "KILL".equals(s.analysis().tag()))) return killDraft(u, sql, statements, parsed);
        CommandDraft draft = new CommandDraft(SqlCommand.Form.SIMPLE_QUERY, statements, sql, parsed.analysis().parseable(),
                parsed.analysis().parseError(), parsed.analysis().fingerprint(), null, u);
        Refusal refusal = readingRefusal(sql, parsed, modes);
        if (refusal == null) refusal = transactionRefusal(u, statements);
        return refusal == null ? draft : draft.refused(refusal);
    }

    /**
     * KILL names a connection id, and the ids a client knows are the edge's (its greeting's), not
     * the target's; every session of a connection shares one target user, so a KILL passed on as
     * it came would end whatever target thread has that number, another identity's included. So a
     * KILL [QUERY | CONNECTION] of a session of this edge opened by the same identity is translated
     * to the target's id of that session and forwarded (recorded as the target runs it, the client's
     * text as {@code via}); a KILL of anything else is refused as the server refuses an unknown
     * thread. A held command of the victim is abandoned as by a cancel.
     */
    private CommandDraft killDraft(Unit u, String sql, List<CommandStatement> statements, ParsedSql parsed) {
        CommandDraft draft = new CommandDraft(SqlCommand.Form.SIMPLE_QUERY, statements, sql, parsed.analysis().parseable(),
                parsed.analysis().parseError(), parsed.analysis().fingerprint(), null, u);
        var m = statements.size() == 1 ? KILL.matcher(statements.getFirst().sql()) : null;
        if (m == null || !m.matches()) {
            return draft.refused(code(Refusal.Kind.EDGE, "gatehouse: KILL is accepted on its own, as KILL [QUERY |"
                    + " CONNECTION] <connection id> of a session of yours", MySqlProtocol.ER_NOT_SUPPORTED_YET));
        }
        boolean query = m.group(1) != null && m.group(1).equalsIgnoreCase("QUERY");
        long id;
        try {
            id = Long.parseLong(m.group(2));
        } catch (NumberFormatException e) {
            id = -1;
        }
        MySqlSession victim = id > 0 && id <= Integer.MAX_VALUE ? edge.registry().forCancel((int) id, 0).orElse(null) : null;
        Identity me = core.identity();
        if (victim == null && id > 0 && id <= Integer.MAX_VALUE && edge.control() != dev.gatehouse.edge.ControlPort.NONE) {
            // not a session of this edge: once allowed, the fleet's edge holding it (if any) acts, for the same identity only
            u.routedKill = new dev.gatehouse.platform.core.ControlMessage.KillConnection((int) id, query, me.subject(),
                    me.issuer(), core.sessionId().value(), edge.config().edgeId());
            return draft;
        }
        if (victim == null || victim.ready == null || victim.identity() == null
                || !victim.identity().subject().equals(me.subject()) || !victim.identity().issuer().equals(me.issuer())) {
            return draft.refused(code(Refusal.Kind.EDGE, "Unknown thread id: " + m.group(2) + " (Gatehouse: not a session of"
                    + " yours on this edge)", MySqlProtocol.ER_NO_SUCH_THREAD));
        }
        if (query) victim.cancel();
        String forwarded = "KILL " + (query ? "QUERY " : "CONNECTION ") + victim.ready.greeting().connectionId();
        CommandStatement original = statements.getFirst();
        CommandStatement translated = new CommandStatement(original.step(), forwarded, null, null, List.of(), null, 0, false,
                original.sql(), original.analysis());
        u.packet.release();
        byte[] text = forwarded.getBytes(StandardCharsets.US_ASCII);
        u.packet = alloc.buffer(1 + text.length).writeByte(MySqlProtocol.COM_QUERY).writeBytes(text);
        return new CommandDraft(SqlCommand.Form.SIMPLE_QUERY, List.of(translated), forwarded, true, null,
                parsed.analysis().fingerprint(), null, u);
    }

    /**
     * The client character set the query's last statement sets ({@code SET NAMES x},
     * {@code SET character_set_client = x}), or null. Only safe sets named literally pass
     * {@link #readingRefusal}; once the statement succeeded the edge reads the next queries in it.
     */
    private static Charset charsetSet(String sql, ParsedSql parsed) {
        if (!parsed.analysis().parseable() || parsed.statements().isEmpty()) return null;
        ParsedStatement last = parsed.statements().getLast();
        if (last.analysis().settings().stream().noneMatch(CHARSET_SETTINGS::contains)) return null;
        String text = last.text(sql);
        var m = CHARSET_ASSIGNMENT.matcher(text);
        String named = null;
        while (m.find()) {
            var value = SAFE_CHARSET_NAME.matcher(text).region(m.end(), text.length());
            if (value.lookingAt()) named = value.group(2);
        }
        return named == null ? null : javaCharset(named);
    }

    /** Why the edge cannot be sure it reads {@code sql} as the target does, or null. */
    private Refusal readingRefusal(String sql, ParsedSql parsed, Set<String> modes) {
        if (sql.indexOf('"') >= 0) {
            Set<String> ansi = new java.util.HashSet<>(modes);
            ansi.add("ANSI_QUOTES");
            ParsedSql other = analyzer(ansi).parse(sql);
            if (!sameReading(parsed, other)) {
                return code(Refusal.Kind.EDGE, "gatehouse: the query reads differently with and without sql_mode ANSI_QUOTES,"
                        + " which Gatehouse cannot see on the connection; write strings in single quotes (the command was not"
                        + " executed)", MySqlProtocol.ER_NOT_SUPPORTED_YET);
            }
        }
        List<ParsedStatement> statements = parsed.statements();
        for (int i = 0; i < statements.size(); i++) {
            StatementAnalysis a = statements.get(i).analysis();
            boolean changesMode = a.settings().contains("sql_mode") || a.settings().contains("*");
            boolean changesCharset = a.settings().stream().anyMatch(CHARSET_SETTINGS::contains);
            if ((changesMode || changesCharset) && i < statements.size() - 1) {
                return code(Refusal.Kind.EDGE, "gatehouse: a statement that changes sql_mode or the character set must be the"
                        + " last of its query (the target reads what follows it under the new setting); send it on its own",
                        MySqlProtocol.ER_NOT_SUPPORTED_YET);
            }
            if (changesCharset && !namesSafeCharsets(statements.get(i).text(sql))) {
                return code(Refusal.Kind.EDGE, "gatehouse: the connection's character set may only be set to one of "
                        + String.join(", ", new java.util.TreeSet<>(SAFE_CHARSETS)) + ", named literally (SET NAMES utf8mb4)",
                        MySqlProtocol.ER_NOT_SUPPORTED_YET);
            }
            if (a.tag() != null && a.tag().toUpperCase(Locale.ROOT).startsWith("XA")) {
                return code(Refusal.Kind.EDGE, "gatehouse: XA transactions are not supported through Gatehouse",
                        MySqlProtocol.ER_NOT_SUPPORTED_YET);
            }
        }
        return null;
    }

    /**
     * Whether every place a SET statement names the client character set names an ASCII-compatible
     * one literally (at least one such place: a change the edge cannot see is refused).
     */
    static boolean namesSafeCharsets(String statement) {
        var m = CHARSET_ASSIGNMENT.matcher(statement);
        boolean any = false;
        while (m.find()) {
            var value = SAFE_CHARSET_NAME.matcher(statement).region(m.end(), statement.length());
            if (!value.lookingAt()) return false;
            any = true;
        }
        return any;
    }

    private static boolean sameReading(ParsedSql a, ParsedSql b) {
        if (a.analysis().parseable() != b.analysis().parseable()) return false;
        if (a.statements().size() != b.statements().size()) return false;
        for (int i = 0; i < a.statements().size(); i++) {
            ParsedStatement x = a.statements().get(i);
            ParsedStatement y = b.statements().get(i);
            if (x.offset() != y.offset() || x.length() != y.length()) return false;
            StatementAnalysis p = x.analysis();
            StatementAnalysis q = y.analysis();
            if (p.kind() != q.kind() || !java.util.Objects.equals(p.tag(), q.tag())
                    || !p.tablesRead().equals(q.tablesRead()) || !p.tablesWritten().equals(q.tablesWritten())
                    || !p.functions().equals(q.functions()) || p.missingWhere() != q.missingWhere()
                    || p.runsCode() != q.runsCode() || !p.settings().equals(q.settings())) {
                return false;
            }
        }
        return true;
    }

    /** After a refusal in a transaction the edge rolled back: only ROLLBACK passes until the client ends it. */
    private Refusal transactionRefusal(Unit u, List<CommandStatement> statements) {
        if (!abortedTransaction) return null;
        boolean rollback = statements.size() == 1 && "ROLLBACK".equalsIgnoreCase(statements.getFirst().analysis().tag());
        if (rollback) {
            u.endsAbortedTransaction = true;
            return null;
        }
        return code(Refusal.Kind.EDGE, "gatehouse: the current transaction was rolled back after a refused command;"
                + " only ROLLBACK is accepted until you end it", MySqlProtocol.ER_OPTION_PREVENTS_STATEMENT);
    }

    /** The lexing flags in force: NO_BACKSLASH_ESCAPES as the target's last answer reported it. */
    private Set<String> lexingModes() {
        return (tracker.status() & STATUS_NO_BACKSLASH_ESCAPES) != 0 ? Set.of("NO_BACKSLASH_ESCAPES") : Set.of();
    }

    /** The target's analyser for {@code modes}, looked up once per session and set of flags (not per command). */
    private SqlAnalyzer analyzer(Set<String> modes) {
        int i = (modes.contains("NO_BACKSLASH_ESCAPES") ? 1 : 0) | (modes.contains("ANSI_QUOTES") ? 2 : 0);
        SqlAnalyzer a = analyzers[i];
        if (a == null) a = analyzers[i] = edge.analyzer(ready.greeting().serverVersion(), modes);
        return a;
    }

    /**
     * COM_STMT_PREPARE: runs nothing, so it is passed on without a command; its text is analysed now,
     * under the settings the target reads it with, and each execution is decided on that analysis.
     */
    private void prepare(MySqlPacket p) {
        String sql = commandText(p);
        if (sql == null) {
            refuseCommand(p, MySqlProtocol.COM_STMT_PREPARE, code(Refusal.Kind.EDGE, "gatehouse: the statement's bytes are"
                    + " not valid in the connection's character set (" + charset.name() + ")", MySqlProtocol.ER_NOT_SUPPORTED_YET));
            return;
        }
        Set<String> modes = lexingModes();
        ParsedSql parsed = analyzer(modes).parse(sql);
        Refusal refusal = readingRefusal(sql, parsed, modes);
        if (refusal == null && parsed.statements().stream().anyMatch(st -> "KILL".equals(st.analysis().tag()))) {
            refusal = code(Refusal.Kind.EDGE, "gatehouse: KILL cannot be prepared through Gatehouse; send it as a query",
                    MySqlProtocol.ER_NOT_SUPPORTED_YET);
        }
        Unit u = new Unit(p.payload());
        u.preparing = new Prepared(sql, parsed, refusal);
        passOn(u, MySqlResponseTracker.Expect.PREPARE);
    }

    /** Passes a command that runs no SQL on as it came, without a command record; its answer is relayed. */
    private void passOn(Unit u, MySqlResponseTracker.Expect answer) {
        unit = u;
        u.forwarded = true;
        tracker.expect(answer);
        upstream.command(u.packet);
        u.packet = null;
    }

    /** What a prepare's answer said: the statement is known by the target's id from now on. */
    private void prepared(Unit u) {
        if (tracker.errorMessage != null) {
            lastPrepared = 0;
            return;
        }
        Prepared ps = u.preparing;
        ps.id = tracker.preparedId;
        ps.params = tracker.preparedParams;
        prepared.put(ps.id, ps);
        lastPrepared = ps.id;
    }

    /** COM_STMT_EXECUTE: recorded and decided with every parameter, as the prepared statement's analysis. */
    private void execute(MySqlPacket p) {
        Integer id = statementId(p);
        if (id == null) return;
        int resolved = id == StmtExecute.LAST_PREPARED ? lastPrepared : id;
        Prepared ps = prepared.get(resolved);
        if (ps == null) {
            refuseCommand(p, MySqlProtocol.COM_STMT_EXECUTE, code(Refusal.Kind.EDGE, "Unknown prepared statement handler ("
                    + (id == StmtExecute.LAST_PREPARED ? "-1: the last prepare failed or there was none" : Integer.toUnsignedString(id))
                    + ") given to mysqld_stmt_execute", MySqlProtocol.ER_UNKNOWN_STMT_HANDLER));
            return;
        }
        StmtExecute ex;
        try {
            ex = StmtExecute.read(p.payload(), ps.params, ps.types, charset, edge.config().maxParameterBytes(), ps.longData);
        } catch (IllegalArgumentException e) {
            p.release();
            core.violation(name(), "COM_STMT_EXECUTE: " + e.getMessage());
            return;
        }
        if (ex.flags() != 0 && ex.flags() != CURSOR_TYPE_READ_ONLY) {
            refuseCommand(p, MySqlProtocol.COM_STMT_EXECUTE, code(Refusal.Kind.EDGE, "gatehouse: cursors of prepared statements"
                    + " other than read-only ones (COM_STMT_EXECUTE flags " + ex.flags() + ") are not supported through Gatehouse",
                    MySqlProtocol.ER_NOT_SUPPORTED_YET));
            return;
        }
        ps.types = ex.types();
        // "the last prepared" is the statement decided here: the target is told which one by its id
        if (id == StmtExecute.LAST_PREPARED) p.payload().setIntLE(p.payload().readerIndex() + 1, resolved);
        Unit u = new Unit(p.payload());
        u.binaryRows = true;
        u.executing = ps;
        List<CommandStatement> statements = new ArrayList<>();
        if (ps.parsed.analysis().parseable() && !ps.parsed.statements().isEmpty()) {
            for (ParsedStatement st : ps.parsed.statements()) {
                statements.add(new CommandStatement(CommandStatement.Step.EXECUTE, st.text(ps.sql), Integer.toString(resolved),
                        null, ex.parameters(), ex.digest(), 0, false, null, st.analysis()));
            }
        } else {
            statements.add(new CommandStatement(CommandStatement.Step.EXECUTE, ps.sql, Integer.toString(resolved), null,
                    ex.parameters(), ex.digest(), 0, false, null, StatementAnalysis.unknown("UNKNOWN",
                    ps.parsed.analysis().parseError() == null ? "not parseable" : ps.parsed.analysis().parseError())));
        }
        u.tags = statements.stream().map(st -> st.analysis().tag()).toList();
        Refusal refusal = ps.refusal != null ? ps.refusal : transactionRefusal(u, statements);
        CommandDraft draft = new CommandDraft(SqlCommand.Form.EXTENDED, statements, null, ps.parsed.analysis().parseable(),
                ps.parsed.analysis().parseError(), ps.parsed.analysis().fingerprint(), refusal, u);
        submit(u, draft);
    }

    /** The statement id a COM_STMT_* packet names; null (and the session ended) when the packet is too short. */
    private Integer statementId(MySqlPacket p) {
        try {
            return StmtExecute.statementId(p.payload());
        } catch (IllegalArgumentException e) {
            String command = MySqlProtocol.commandName(p.header());
            p.release();
            core.violation(name(), command + ": " + e.getMessage());
            return null;
        }
    }

    /** COM_STMT_EXECUTE's flag for a read-only cursor: the rows come with COM_STMT_FETCH. */
    private static final int CURSOR_TYPE_READ_ONLY = 1;

    /**
     * COM_STMT_FETCH: more rows of the cursor an execute opened. It runs nothing new (the execute
     * that opened the cursor was recorded and decided), so it is passed on without a record of its
     * own; its rows are masked as that execute's were, by its masker.
     */
    private void fetch(MySqlPacket p) {
        Integer id = statementId(p);
        if (id == null) return;
        int resolved = id == StmtExecute.LAST_PREPARED ? lastPrepared : id;
        Prepared ps = prepared.get(resolved);
        if (ps == null || !ps.cursorOpen) {
            // nothing the edge saw opened a cursor there: refused and recorded, not passed on
            refuseCommand(p, MySqlProtocol.COM_STMT_FETCH, code(Refusal.Kind.EDGE, "gatehouse: statement "
                    + Integer.toUnsignedString(id) + " has no open cursor", MySqlProtocol.ER_UNKNOWN_STMT_HANDLER));
            return;
        }
        if (id == StmtExecute.LAST_PREPARED) p.payload().setIntLE(p.payload().readerIndex() + 1, resolved);
        Unit u = new Unit(p.payload());
        u.binaryRows = true;
        u.fetching = ps;
        u.masker = ps.cursorMasker;
        passOn(u, MySqlResponseTracker.Expect.FETCH);
    }

    /** COM_STMT_CLOSE: passed on (no answer, as from the server); the statement is forgotten. */
    private void closeStatement(MySqlPacket p) {
        Integer id = statementId(p);
        if (id == null) return;
        int resolved = id == StmtExecute.LAST_PREPARED ? lastPrepared : id;
        prepared.remove(resolved);
        if (resolved == lastPrepared) lastPrepared = 0;
        if (id == StmtExecute.LAST_PREPARED) p.payload().setIntLE(p.payload().readerIndex() + 1, resolved);
        upstream.command(p.payload());
    }

    /**
     * COM_STMT_SEND_LONG_DATA: a piece of one parameter's value, held by the target until the next
     * execute of the statement (which then reads that parameter from it, not from its own packet)
     * or a COM_STMT_RESET. Runs nothing and has no answer: passed on, and followed as the target
     * follows it (the first bytes, the length and a digest), so that the execute is recorded and
     * decided with the value the target will use. Long data for a statement or parameter the
     * target does not have cannot be followed: the session ends.
     */
    private void longData(MySqlPacket p) {
        dev.gatehouse.edge.mysql.codec.LongData.Header h;
        try {
            h = dev.gatehouse.edge.mysql.codec.LongData.Header.read(p.payload());
        } catch (IllegalArgumentException e) {
            p.release();
            core.violation(name(), e.getMessage());
            return;
        }
        int resolved = h.statementId() == StmtExecute.LAST_PREPARED ? lastPrepared : h.statementId();
        Prepared ps = prepared.get(resolved);
        if (ps == null || h.parameter() >= ps.params) {
            p.release();
            core.violation(name(), "COM_STMT_SEND_LONG_DATA for " + (ps == null ? "unknown statement " + h.statementId()
                    : "parameter " + h.parameter() + " of a statement with " + ps.params));
            return;
        }
        ps.longData.computeIfAbsent(h.parameter(), k -> new dev.gatehouse.edge.mysql.codec.LongData(
                edge.config().maxParameterBytes())).append(p.payload());
        if (h.statementId() == StmtExecute.LAST_PREPARED) p.payload().setIntLE(p.payload().readerIndex() + 1, resolved);
        upstream.command(p.payload());
    }

    /** COM_STMT_RESET: runs nothing; passed on, its answer relayed. The target forgets the statement's long data. */
    private void resetStatement(MySqlPacket p) {
        Integer id = statementId(p);
        if (id == null) return;
        int resolved = id == StmtExecute.LAST_PREPARED ? lastPrepared : id;
        Prepared ps = prepared.get(resolved);
        if (ps != null) {
            ps.longData.clear();
            ps.cursorOpen = false; // the target closes the statement's cursor
            ps.cursorMasker = null;
        }
        if (id == StmtExecute.LAST_PREPARED) p.payload().setIntLE(p.payload().readerIndex() + 1, resolved);
        passOn(new Unit(p.payload()), MySqlResponseTracker.Expect.ONE_PACKET);
    }

    /**
     * COM_RESET_CONNECTION (connection pools between borrowers): the target rolls back, drops
     * temporary tables and user variables, closes prepared statements and returns the session's
     * settings to what they were at login. A command of its own, recorded and decided like a
     * statement (tag RESET CONNECTION); once the target answered OK, the edge forgets the prepared
     * statements and their long data, goes back to the character set of the login, and ends a
     * rolled-back transaction's refusals.
     */
    private void resetConnection(MySqlPacket p) {
        Unit u = new Unit(p.payload());
        u.resetsConnection = true;
        u.tags = List.of("RESET CONNECTION");
        String text = MySqlProtocol.commandName(MySqlProtocol.COM_RESET_CONNECTION);
        StatementAnalysis analysis = new StatementAnalysis(dev.gatehouse.platform.core.StatementKind.TRANSACTION,
                "RESET CONNECTION", null, List.of(), List.of(), List.of(), false, false, false, List.of(), List.of("*"),
                List.of());
        submit(u, new CommandDraft(SqlCommand.Form.SIMPLE_QUERY, List.of(CommandStatement.query(text, analysis)), text, true,
                null, null, null, u));
    }

    private void connectionReset() {
        prepared.clear();
        lastPrepared = 0;
        charset = connectCharset;
        abortedTransaction = false;
    }

    /** COM_SET_OPTION switches multi-statements: passed on (it runs no SQL), its answer relayed. */
    private void setOption(MySqlPacket p) {
        int option = p.size() >= 3 ? p.payload().getUnsignedShortLE(p.payload().readerIndex() + 1) : -1;
        if (option != 0 && option != 1) {
            p.release();
            core.violation(name(), "COM_SET_OPTION with unknown option " + option);
            return;
        }
        passOn(new Unit(p.payload()), MySqlResponseTracker.Expect.ONE_PACKET);
    }

    /** A command the edge does not pass on: recorded with the reason, answered with an ERR (or nothing, as the target would). */
    private void refuseCommand(MySqlPacket p, int command) {
        refuseCommand(p, command, null);
    }

    private void refuseCommand(MySqlPacket p, int command, Refusal given) {
        Unit u = new Unit(p.payload());
        String name = MySqlProtocol.commandName(command);
        String text = name;
        if (command == MySqlProtocol.COM_STMT_PREPARE || command == MySqlProtocol.COM_FIELD_LIST) {
            text = name + " " + p.payload().toString(p.payload().readerIndex() + 1, p.size() - 1, charset);
        }
        u.silent = command == MySqlProtocol.COM_STMT_CLOSE || command == MySqlProtocol.COM_STMT_SEND_LONG_DATA;
        Refusal refusal = given != null ? given : switch (command) {
            case MySqlProtocol.COM_STMT_BULK_EXECUTE ->
                    code(Refusal.Kind.EDGE, "gatehouse: " + name + " (bulk execution of prepared statements, never offered)"
                            + " is not supported through Gatehouse", MySqlProtocol.ER_NOT_SUPPORTED_YET);
            case MySqlProtocol.COM_CHANGE_USER -> code(Refusal.Kind.EDGE, "gatehouse: COM_CHANGE_USER is refused: a Gatehouse"
                    + " session keeps the identity it authenticated with; open a new connection", MySqlProtocol.ER_NOT_SUPPORTED_YET);
            case MySqlProtocol.COM_BINLOG_DUMP, MySqlProtocol.COM_BINLOG_DUMP_GTID, MySqlProtocol.COM_REGISTER_SLAVE,
                 MySqlProtocol.COM_TABLE_DUMP -> code(Refusal.Kind.EDGE, "gatehouse: replication and binlog commands are not"
                    + " supported through Gatehouse; connect to the target directly", MySqlProtocol.ER_NOT_SUPPORTED_YET);
            case MySqlProtocol.COM_FIELD_LIST, MySqlProtocol.COM_STATISTICS,
                 MySqlProtocol.COM_PROCESS_KILL, MySqlProtocol.COM_PROCESS_INFO ->
                    code(Refusal.Kind.EDGE, "gatehouse: " + name + " is not supported through Gatehouse yet",
                            MySqlProtocol.ER_NOT_SUPPORTED_YET);
            default -> code(Refusal.Kind.EDGE, "gatehouse: unknown command (" + name + ")", MySqlProtocol.ER_UNKNOWN_COM_ERROR);
        };
        submit(u, new CommandDraft(SqlCommand.Form.SIMPLE_QUERY,
                List.of(CommandStatement.query(text, StatementAnalysis.unknown(name, "refused by the edge"))), text, false,
                name + " is not SQL", null, refusal, u));
    }

    private void submit(Unit u, CommandDraft draft) {
        unit = u;
        PendingCommand pending = core.submit(draft);
        if (u.pending == null && unit == u) u.pending = pending;
    }

    @Override
    public void forward(PendingCommand pending, Decision decision) {
        Unit u = pending.payload();
        u.pending = pending;
        if (decision instanceof Decision.Mask mk) {
            mask(u, mk);
            return;
        }
        if (u.routedKill != null) {
            // nothing of it runs on this session's target: the holding edge kills there, as the server answers OK
            edge.control().publish(u.routedKill);
            release(u);
            send(1, MySqlProtocol.okPacket(alloc, 0, 0, tracker.status(), 0, false));
            flush();
            finish(u);
            return;
        }
        send(u);
    }

    private void send(Unit u) {
        if (u.executing != null) u.executing.longData.clear(); // the execute reads them; the target forgets them
        if (u.resetsConnection) {
            passOn(u, MySqlResponseTracker.Expect.ONE_PACKET);
            return;
        }
        if (target.resultCapture().enabled() && u.pending != null) {
            u.sampler = new MySqlResultSampler(target.resultCapture(), u.binaryRows, charset);
        }
        u.forwarded = true;
        tracker.expect(MySqlResponseTracker.Expect.RESULTS);
        upstream.command(u.packet);
        u.packet = null;
    }

    /**
     * Functions whose effect is outside the result, that a masked value could ride on: a named lock
     * other sessions can see, a sequence, a user-defined function that runs a program, waits on
     * replication positions named by a value.
     */
    private static final Pattern EFFECT_FUNCTIONS = Pattern.compile(
            "(get_lock|release_lock|release_all_locks|is_free_lock|is_used_lock|setval|nextval|lastval|sys_exec|sys_eval"
                    + "|master_pos_wait|master_gtid_wait|source_pos_wait)", Pattern.CASE_INSENSITIVE);
    /** Statements a masked command may consist of besides queries (they read only the catalog and the session's state). */
    private static final Set<String> MASKABLE_UTILITY = Set.of("SHOW", "DESCRIBE", "EXPLAIN");
    /**
     * The edge's own statement after a masked command: a statement that reads a table clears the
     * target's diagnostics area, where a masked command's warnings and errors (which can quote a
     * value: {@code Truncated incorrect DOUBLE value: '123-45-6789'}) would wait for SHOW WARNINGS.
     */
    static final String CLEAR_DIAGNOSTICS = "DO (SELECT COUNT(*) FROM information_schema.ENGINES WHERE 0)";

    /**
     * A Mask decision: the command runs and its answer is rewritten as it streams back
     * ({@link MySqlResultMasker}); the target's tables are read first (cached) to tell base tables
     * from views. Anything the edge cannot mask is refused before it reaches the target.
     */
    private void mask(Unit u, Decision.Mask mk) {
        java.util.Optional<dev.gatehouse.edge.masking.MaskingProfile> profile = edge.maskingProfiles().find(mk.profile());
        List<CommandStatement> statements = u.pending.command().statements();
        String refusal = profile.isEmpty()
                ? "masking profile \"" + mk.profile() + "\" is not configured on this edge; the command was not executed"
                : notMaskable(statements);
        if (refusal != null) {
            reject(u.pending, new Refusal(Refusal.Kind.DENIED, "gatehouse: denied by rule \"" + mk.ruleId() + "\": " + refusal,
                    "policy version " + mk.policyVersion() + ", command " + u.pending.command().id(),
                    Integer.toString(MySqlProtocol.ER_SPECIFIC_ACCESS_DENIED)));
            return;
        }
        edge.tables().snapshot(target).whenComplete((tables, err) -> scheduler.execute(() -> {
            if (unit != u || phase != Phase.OPEN) return;
            if (err != null) {
                reject(u.pending, new Refusal(Refusal.Kind.FAILED_CLOSED, "gatehouse: the command was not executed: the"
                        + " target's tables could not be read to mask the result (" + rootMessage(err) + ")",
                        "Gatehouse fails closed when it cannot record or decide a command; retry later", null));
                return;
            }
            u.masker = new MySqlResultMasker(profile.get(), tables, readsMaskedRelation(profile.get(), statements, tables),
                    u.binaryRows);
            LOGGER.info("session={} command={} masked rule={} profile={}", core.sessionId(), u.pending.command().id(),
                    mk.ruleId(), mk.profile());
            send(u);
        }));
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) c = c.getCause();
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }

    /** Why a command cannot run masked (null: it can): it must only read, with queries, SHOW, DESCRIBE or EXPLAIN. */
    static String notMaskable(List<CommandStatement> statements) {
        for (CommandStatement st : statements) {
            StatementAnalysis a = st.analysis();
            boolean reads = a.kind() == dev.gatehouse.platform.core.StatementKind.READ
                    || MASKABLE_UTILITY.contains(a.tag()) && !a.uncertain();
            if (!reads || a.uncertain()) {
                return "a masked command may only read (queries, SHOW, DESCRIBE, EXPLAIN), and this one is " + a.tag()
                        + (a.uncertain() ? " (" + String.join("; ", a.uncertainty()) + ")" : "") + "; the command was not executed";
            }
        }
        return dev.gatehouse.edge.masking.MaskedCommands.notOnlyReading(statements, EFFECT_FUNCTIONS);
    }

    /**
     * Whether the command reads a relation with a column the profile masks, or one whose columns the
     * edge cannot see into (a view, a system view, a relation the catalog does not know): then every
     * result column not provably from a base table's column is masked as a whole. A name the
     * statement did not qualify with its database counts for every database that has it.
     */
    static boolean readsMaskedRelation(dev.gatehouse.edge.masking.MaskingProfile profile, List<CommandStatement> statements,
                                       MySqlCatalog.Snapshot tables) {
        for (CommandStatement st : statements) {
            for (String name : st.analysis().tablesRead()) {
                String[] parts = name.split("\\.");
                String relation = parts[parts.length - 1];
                List<Map.Entry<String, MySqlCatalog.Table>> found = parts.length >= 2
                        ? tables.table(parts[parts.length - 2], relation).map(t -> List.of(Map.entry(parts[parts.length - 2], t)))
                                .orElse(List.of())
                        : tables.named(relation);
                if (found.isEmpty()) return true;
                for (var e : found) {
                    if (!e.getValue().baseTable() || MySqlResultMasker.holdsColumnValues(e.getKey(), relation)
                            || profile.masksAnyColumnOf(e.getKey(), relation, e.getValue().columns())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Override
    public void reject(PendingCommand pending, Refusal refusal) {
        Unit u = pending.payload();
        u.pending = pending; // a refusal of the edge's own comes back before submit returns
        release(u);
        if (u.silent) {
            finish(u);
            return;
        }
        if (tracker.inTransaction() && !abortedTransaction && refusal.kind() != Refusal.Kind.SHUTDOWN) {
            // MySQL would keep the transaction open after an error: the edge ends it, so nothing the client
            // sends after a refused command can commit half of it
            abortedTransaction = true;
            u.rollingBack = true;
            u.refusal = new Refusal(refusal.kind(), refusal.message() + " (Gatehouse rolled the transaction back; send"
                    + " ROLLBACK to end it)", refusal.detail(), refusal.code());
            tracker.expect(MySqlResponseTracker.Expect.RESULTS);
            upstream.query("ROLLBACK");
            return;
        }
        answerRefusal(u, refusal);
    }

    private void answerRefusal(Unit u, Refusal refusal) {
        int number = errorNumber(refusal);
        send(u.nextSequence, MySqlProtocol.errPacket(alloc, number, MySqlProtocol.sqlState(number), refusal.message()));
        flush();
        u.refusal = refusal;
        finish(u);
    }

    @Override
    public String errorCode(Refusal refusal) {
        return MySqlProtocol.sqlState(errorNumber(refusal));
    }

    /** The MySQL error number of a refusal. */
    static int errorNumber(Refusal refusal) {
        if (refusal.code() != null) {
            try {
                return Integer.parseInt(refusal.code());
            } catch (NumberFormatException e) {
                return MySqlProtocol.ER_UNKNOWN_ERROR;
            }
        }
        return switch (refusal.kind()) {
            case DENIED -> MySqlProtocol.ER_SPECIFIC_ACCESS_DENIED;
            case FAILED_CLOSED, LOG_UNAVAILABLE, INTERNAL -> MySqlProtocol.ER_UNKNOWN_ERROR;
            case CANCELED -> MySqlProtocol.ER_QUERY_INTERRUPTED;
            case EDGE -> MySqlProtocol.ER_NOT_SUPPORTED_YET;
            case AUTHENTICATION, BAD_CREDENTIAL -> MySqlProtocol.ER_ACCESS_DENIED_ERROR;
            case SHUTDOWN -> MySqlProtocol.ER_CONNECTION_KILLED;
            case EDGE_SHUTDOWN -> MySqlProtocol.ER_SERVER_SHUTDOWN;
            case TARGET_UNAVAILABLE -> MySqlProtocol.ER_NEW_ABORTING_CONNECTION;
            case AUTHENTICATION_TIMEOUT, PROTOCOL -> MySqlProtocol.ER_HANDSHAKE_ERROR;
            case TOO_MANY_CONNECTIONS -> MySqlProtocol.ER_CON_COUNT_ERROR;
        };
    }

    /** MySQL has no message a server sends while a command waits: the wait is logged, the client just waits. */
    @Override
    public void notice(String message) {
        LOGGER.info("session={} {}", core.sessionId(), message);
    }

    // ---------------------------------------------------------------- target output

    private final MySqlUpstream.Listener targetListener = new MySqlUpstream.Listener() {
        @Override
        public void onTargetPacket(MySqlPacket packet) {
            MySqlSession.this.onTargetPacket(packet);
        }

        @Override
        public void onTargetReadComplete() {
            if (unflushed) flush();
        }

        @Override
        public void onTargetClosed(Throwable cause) {
            if (phase == Phase.CLOSED) return;
            String why = cause == null ? "the target closed the connection" : "the target connection failed: " + cause.getMessage();
            core.fatal(new Refusal(Refusal.Kind.TARGET_UNAVAILABLE, "gatehouse: " + why, null, null), why);
        }
    };

    private void onTargetPacket(MySqlPacket p) {
        Unit u = unit;
        if (phase == Phase.CLOSED || u == null || !(u.forwarded || u.rollingBack || u.clearingDiagnostics)) {
            p.release();
            if (phase != Phase.CLOSED) {
                core.fatal(new Refusal(Refusal.Kind.INTERNAL, "gatehouse: the target sent data when no answer was due; the"
                        + " session is closed", null, null), "target spoke out of turn");
            }
            return;
        }
        try {
            tracker.onPacket(p);
        } catch (RuntimeException e) {
            p.release();
            LOGGER.error("session={} unreadable answer from the target: {}", core.sessionId(), e.getMessage());
            core.fatal(new Refusal(Refusal.Kind.INTERNAL, "gatehouse: the target's answer could not be read (" + e.getMessage()
                    + "); the session is closed", null, null), "target protocol: " + e.getMessage());
            return;
        }
        if (u.rollingBack) {
            p.release();
            if (tracker.idle()) {
                u.rollingBack = false;
                answerRefusal(u, u.refusal);
            }
            return;
        }
        if (u.clearingDiagnostics) {
            p.release();
            if (tracker.idle()) {
                u.clearingDiagnostics = false;
                finish(u);
            }
            return;
        }
        if (tracker.localInfileRequested && !u.localInfile) {
            // the target asks for a client file (LOAD DATA LOCAL INFILE) although the edge never offers local
            // files: it gets an empty file, the client never sees the request, and the command fails
            u.localInfile = true;
            int next = p.nextSequence();
            p.release();
            upstream.packet(next, alloc.buffer(0));
            return;
        }
        if (u.localInfile) {
            p.release();
            if (tracker.idle()) {
                tracker.errorMessage = "LOAD DATA LOCAL INFILE refused by Gatehouse";
                send(u.nextSequence, MySqlProtocol.errPacket(alloc, MySqlProtocol.ER_NOT_SUPPORTED_YET, "42000",
                        "gatehouse: LOAD DATA LOCAL INFILE is refused: Gatehouse never passes client files to the target"));
                flush();
                finish(u);
            }
            return;
        }
        ByteBuf payload = p.payload();
        int seq = (p.sequence() + u.sequenceShift) & 0xFF;
        if (u.masker != null) {
            try {
                ByteBuf rewritten = u.masker.rewrite(tracker.lastPart(), payload);
                if (rewritten != payload) {
                    payload.release();
                    payload = rewritten;
                    u.sequenceShift += MySqlPacket.fragmentsFor(payload.readableBytes()) - p.fragments();
                }
            } catch (MySqlResultMasker.MaskingFailure e) {
                p.release();
                LOGGER.warn("session={} masked result refused: {}", core.sessionId(), e.getMessage());
                core.fatal(new Refusal(Refusal.Kind.DENIED, "gatehouse: the result cannot be masked, so it is not relayed and"
                        + " the session is closed: " + e.getMessage(), null, null), "masking failed: " + e.getMessage());
                return;
            }
        }
        if (u.sampler != null) u.sampler.onPacket(tracker.lastPart(), payload); // after masking: only masked values
        int fragments = MySqlPacket.fragmentsFor(payload.readableBytes());
        u.bytesToClient += payload.readableBytes() + 4L * fragments;
        u.nextSequence = (seq + fragments) & 0xFF;
        NettySockets.writeNoFlush(socket, MySqlPacket.encode(alloc, seq, payload));
        unflushed = true;
        if (tracker.idle()) {
            flush();
            if (u.masker != null) {
                // the warnings and errors it left may quote a masked value: cleared before anything else runs;
                // the command is recorded now, as it is answered (a client that quits at once loses nothing)
                record(u);
                u.clearingDiagnostics = true;
                tracker.expect(MySqlResponseTracker.Expect.RESULTS);
                upstream.query(CLEAR_DIAGNOSTICS);
                return;
            }
            finish(u);
        } else if (NettySockets.writeQueueFull(socket)) {
            flush();
            if (!upstreamPaused && NettySockets.writeQueueFull(socket)) {
                upstreamPaused = true;
                upstream.pause();
            }
        }
    }

    private void onClientWritable() {
        if (upstreamPaused) {
            upstreamPaused = false;
            upstream.resume();
        }
    }

    /** The command is answered: recorded (when it was), and the next one is taken. */
    private void finish(Unit u) {
        if (unit != u) return;
        if (!u.recorded) record(u);
        unit = null;
        if (phase == Phase.OPEN) drainQueue();
    }

    /** What the target answered (or the refusal) is applied to the session's state and recorded. */
    private void record(Unit u) {
        u.recorded = true;
        release(u);
        Answer answer = Answer.of(tracker);
        boolean cursorOpen = answer.cursorOpen();
        if (u.executing != null && u.forwarded) {
            u.executing.cursorOpen = cursorOpen;
            u.executing.cursorMasker = cursorOpen ? u.masker : null;
        }
        if (u.fetching != null) u.fetching.cursorOpen = cursorOpen;
        if (u.preparing != null) prepared(u);
        if (u.pending != null) {
            if (u.endsAbortedTransaction && u.forwarded) abortedTransaction = false;
            if (u.forwarded && answer.errorMessage() == null) {
                if (u.newCharset != null) charset = u.newCharset;
                if (u.resetsConnection) connectionReset();
            }
            String errorCode = u.refusal != null ? errorCode(u.refusal) : u.localInfile ? "42000" : answer.errorState();
            String errorMessage = u.refusal != null ? u.refusal.message()
                    : answer.errorMessage() == null ? null
                    : u.masker != null ? "(" + answer.errorNumber() + ") the error text is withheld because the command's result"
                            + " is masked"
                    : "(" + answer.errorNumber() + ") " + answer.errorMessage();
            int run = u.forwarded ? answer.results() : 0;
            List<String> tags = u.forwarded ? u.tags.subList(0, Math.min(run, u.tags.size())) : List.of();
            dev.gatehouse.platform.core.AuditEvent.Masking masking = u.masker == null ? null
                    : new dev.gatehouse.platform.core.AuditEvent.Masking(u.masker.profile().name(), u.masker.stats().values(),
                            u.masker.stats().columns(), u.masker.stats().detectors());
            if (u.forwarded && (u.masker != null && u.masker.unknownTables() > 0 || changesTables(u.pending))) {
                edge.tables().invalidate(target);
            }
            List<dev.gatehouse.platform.core.AuditEvent.ResultSampled> samples = u.sampler == null || u.pending.completed()
                    ? List.of() : u.sampler.events(core::header, u.pending.command().id(), u.pending.command().sequence(),
                    u.masker != null);
            core.completed(u.pending, new CommandResult(u.forwarded, tags, u.forwarded ? answer.rows() : 0, errorCode,
                    errorMessage, u.bytesToClient, tracker.txStatus(), masking, run, samples));
        }
    }

    /** Whether the command may have created, dropped or changed a table or view (the masking catalog is read again). */
    private static boolean changesTables(PendingCommand pending) {
        return pending.command().statements().stream().anyMatch(st -> st.analysis().kind()
                == dev.gatehouse.platform.core.StatementKind.DDL || st.analysis().runsCode());
    }

    private void drainQueue() {
        while (unit == null && phase == Phase.OPEN && !queued.isEmpty()) onCommand(queued.poll());
        if (unit == null && phase == Phase.OPEN && queued.isEmpty()) socket.resume();
    }

    private static void release(Unit u) {
        if (u.packet != null) {
            u.packet.release();
            u.packet = null;
        }
    }

    // ---------------------------------------------------------------- login to the target

    @Override
    public CompletionStage<TargetLogin> connectTarget(TargetConnection connection) {
        login = new CompletableFuture<>();
        upstream = new MySqlUpstream(targetListener, connection, edge.netClient(), capabilities, collation);
        upstream.connect().whenComplete((r, err) -> scheduler.execute(() -> {
            if (err != null) {
                login.completeExceptionally(err);
                return;
            }
            ready = r;
            tracker = new MySqlResponseTracker((r.capabilities() & MySqlProtocol.CLIENT_DEPRECATE_EOF) != 0, r.status());
            try {
                analyzer(Set.of()); // the target's dialect, ready before the first command
            } catch (RuntimeException e) {
                login.completeExceptionally(new IllegalStateException("no SQL analyser for the target's version "
                        + r.greeting().serverVersion() + ": " + e.getMessage()));
                return;
            }
            Map<String, String> parameters = new LinkedHashMap<>();
            parameters.put("server_version", r.greeting().serverVersion());
            parameters.put("target_connection_id", Long.toString(r.greeting().connectionId()));
            login.complete(new TargetLogin(parameters, (int) r.greeting().connectionId()));
        }));
        return login;
    }

    @Override
    public void register() {
        edge.registry().add(this);
    }

    @Override
    public void unregister() {
        edge.registry().remove(this);
    }

    @Override
    public void opened() {
        phase = Phase.OPEN;
        send(sequence, MySqlProtocol.okPacket(alloc, 0, 0, tracker.status(), 0, false));
        flush();
        drainQueue();
    }

    // ---------------------------------------------------------------- end

    @Override
    public void fatal(Refusal refusal) {
        int number = errorNumber(refusal);
        int seq = switch (phase) {
            case GREETING, SWITCHING, CONNECTING -> sequence;
            default -> unit != null ? unit.nextSequence : 1;
        };
        send(seq, MySqlProtocol.errPacket(alloc, number, MySqlProtocol.sqlState(number), refusal.message()));
        flush();
    }

    /**
     * A KILL another edge received for this session's connection id, from the same identity: the
     * target's own KILL QUERY or KILL CONNECTION of this session's target thread, run on a side
     * connection (this session's own connection is busy with the statement being killed).
     */
    void killRouted(dev.gatehouse.platform.core.ControlMessage.KillConnection k) {
        context.runOnContext(v -> {
            if (phase != Phase.OPEN || ready == null) return;
            String kill = "KILL " + (k.query() ? "QUERY " : "CONNECTION ") + ready.greeting().connectionId();
            LOGGER.info("session={} {} routed from edge {} (session {})", core.sessionId(), kill, k.fromEdge(), k.requestedBy());
            edge.sessionPorts().audit().append(new dev.gatehouse.platform.core.AuditEvent.CancelRequested(core.header(),
                    "KILL " + (k.query() ? "QUERY " : "CONNECTION ") + k.connectionId() + " routed from edge " + k.fromEdge()
                            + " (session " + k.requestedBy() + ")", true));
            if (k.query()) core.cancel(); // a command still waiting for its decision or approval is abandoned
            MySqlSideQuery.run(edge.vertx(), edge.netClient(), target, kill, java.time.Duration.ofSeconds(10))
                    .whenComplete((rows, err) -> {
                        if (err != null) LOGGER.warn("session={} {} failed: {}", core.sessionId(), kill, rootMessage(err));
                    });
        });
    }

    /**
     * MySQL has no out-of-band cancel request: a running statement ends by a KILL QUERY, which the
     * session's KILL handling sends (translated on the requester's connection, or on a side
     * connection for a KILL routed from another edge); a cancel itself only abandons a held command.
     */
    @Override
    public void cancelAtTarget() {
        LOGGER.debug("session={} cancel: a running MySQL statement ends by KILL QUERY", core.sessionId());
    }

    @Override
    public void close() {
        if (phase == Phase.CLOSED) return;
        phase = Phase.CLOSED;
        queued.forEach(MySqlPacket::release);
        queued.clear();
        // packets Vert.x holds for the paused socket reach onObject now, which releases them once closed
        socket.resume();
        if (unit != null) release(unit);
        if (login != null && !login.isDone()) login.completeExceptionally(new IllegalStateException("session closed"));
        if (upstream != null) upstream.close();
        socket.close();
    }

    @Override
    public String name() {
        return "mysql";
    }

    private void onError(Throwable t) {
        Throwable cause = t;
        while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) cause = cause.getCause();
        if (cause instanceof DecoderException && !(cause.getCause() instanceof javax.net.ssl.SSLException)) {
            core.violation(name(), cause.getMessage() == null ? cause.toString() : cause.getMessage());
        } else {
            LOGGER.debug("session={} client error: {}", core.sessionId(), cause.toString());
            core.close(core.state().beforeOpen() ? null : "client connection error: " + cause.getMessage());
        }
    }

    // ---------------------------------------------------------------- helpers

    private void send(int seq, ByteBuf payload) {
        if (clientClosed) {
            payload.release();
            return;
        }
        NettySockets.writeNoFlush(socket, MySqlPacket.encode(alloc, seq, payload));
        unflushed = true;
    }

    private void flush() {
        unflushed = false;
        NettySockets.flush(socket);
    }

    private static Refusal code(Refusal.Kind kind, String message, int errorNumber) {
        return new Refusal(kind, message, null, Integer.toString(errorNumber));
    }

    /** Refuses a connection over the limit: an ERR instead of the greeting, as the server answers. */
    static void refuseTooMany(NetSocket socket) {
        ByteBufAllocator alloc = NettySockets.alloc(socket);
        ByteBuf err = MySqlProtocol.errPacket(alloc, MySqlProtocol.ER_CON_COUNT_ERROR, "08004",
                "Too many connections (Gatehouse: this edge holds as many as edge.mysql.max-connections allows)");
        socket.write(NettySockets.buffer(MySqlPacket.encode(alloc, 0, err))).onComplete(v -> socket.close());
    }
}
