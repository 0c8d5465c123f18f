package dev.gatehouse.deploy.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal PostgreSQL frontend over a blocking socket, for what pgjdbc and psql do not expose:
 * the BackendKeyData the edge hands out, raw CancelRequests sent to any edge, any startup
 * parameters, and extended-protocol messages in any order (Parse, Bind, Describe, Execute, Close,
 * Flush, Sync as an attacker would send them). Test-only; it speaks cleartext password
 * authentication (what the edge asks for) and text-format parameters, and writes whatever bytes it is given.
 */
final class RawPgClient implements AutoCloseable {
    private static final int PROTOCOL_3_0 = 196608;
    private static final int CANCEL_REQUEST_CODE = 80877102;

    /** One backend message: its type byte and payload (length field excluded). */
    record Message(char type, byte[] payload) {
        /** The fields of an ErrorResponse or NoticeResponse, by field code ('C' SQLSTATE, 'M' message, 'V' severity). */
        Map<Character, String> fields() {
            Map<Character, String> fields = new LinkedHashMap<>();
            int i = 0;
            while (i < payload.length && payload[i] != 0) {
                char code = (char) payload[i++];
                int end = i;
                while (payload[end] != 0) end++;
                fields.put(code, new String(payload, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return fields;
        }

        /** The values of a DataRow as text (SQL NULL as null). */
        List<String> values() {
            ByteBuffer b = ByteBuffer.wrap(payload);
            int count = b.getShort() & 0xffff;
            List<String> values = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int length = b.getInt();
                if (length < 0) {
                    values.add(null);
                } else {
                    values.add(new String(payload, b.position(), length, StandardCharsets.UTF_8));
                    b.position(b.position() + length);
                }
            }
            return values;
        }

        /** A payload of NUL-terminated strings (CommandComplete's tag, ParameterStatus' name and value). */
        List<String> strings() {
            List<String> out = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < payload.length; i++) {
                if (payload[i] == 0) {
                    out.add(new String(payload, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return switch (type) {
                case 'E', 'N' -> type + fields().toString();
                case 'D' -> "D" + values();
                case 'C', 'S' -> type + strings().toString();
                case 'Z' -> "Z(" + (char) payload[0] + ")";
                default -> type + "(" + payload.length + " bytes)";
            };
        }
    }

    /** The messages the server sent for one exchange, up to and including the one that ended it. */
    record Answer(List<Message> messages) {
        /** The rows of every DataRow, in order. */
        List<List<String>> rows() {
            return messages.stream().filter(m -> m.type() == 'D').map(Message::values).toList();
        }

        /** The first ErrorResponse's fields, or null. */
        Map<Character, String> error() {
            return messages.stream().filter(m -> m.type() == 'E').findFirst().map(Message::fields).orElse(null);
        }

        /** The SQLSTATE of the first ErrorResponse, or null. */
        String sqlState() {
            Map<Character, String> error = error();
            return error == null ? null : error.get('C');
        }

        /** The transaction status of the closing ReadyForQuery ('I', 'T', 'E'), or 0 when there is none. */
        char status() {
            Message last = messages.isEmpty() ? null : messages.getLast();
            return last != null && last.type() == 'Z' ? (char) last.payload()[0] : 0;
        }

        /** The message types in order, e.g. "12DCZ". */
        String types() {
            StringBuilder b = new StringBuilder();
            messages.forEach(m -> b.append(m.type()));
            return b.toString();
        }

        /** The CommandComplete tags, in order. */
        List<String> tags() {
            return messages.stream().filter(m -> m.type() == 'C').map(m -> m.strings().getFirst()).toList();
        }

        /** Every text of the answer a value could hide in: rows, notices, errors, parameter statuses, notifications. */
        String allText() {
            return messages.stream().map(m -> switch (m.type()) {
                case 'D' -> String.valueOf(m.values());
                case 'E', 'N' -> String.valueOf(m.fields());
                default -> new String(m.payload(), StandardCharsets.UTF_8);
            }).reduce("", (a, b) -> a + "\n" + b);
        }

        @Override
        public String toString() {
            return messages.toString();
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int processId;
    private int secretKey;

    private RawPgClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = socket.getOutputStream();
    }

    /**
     * Logs in through an edge with {@code token} as the password and reads up to the first
     * ReadyForQuery; fails with the server's error if the login is refused.
     */
    static RawPgClient login(int port, String connection, String user, String token, String applicationName)
            throws IOException {
        return login(port, Map.of("user", user, "database", connection, "application_name", applicationName), token);
    }

    /** Logs in with these startup parameters ({@code user} and {@code database} among them), as {@link #login}. */
    static RawPgClient login(int port, Map<String, String> parameters, String token) throws IOException {
        RawPgClient c = open(port);
        try {
            c.startup(parameters, token);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** A connection to {@code port} on which nothing was sent yet. */
    static RawPgClient open(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 30_000);
        socket.setSoTimeout(120_000);
        return new RawPgClient(socket);
    }

    /** Sends a StartupMessage (protocol 3.0) with these parameters, and nothing after it. */
    void sendStartup(Map<String, String> parameters) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        parameters.forEach((k, v) -> {
            body.writeBytes(cString(k));
            body.writeBytes(cString(v));
        });
        body.write(0);
        byte[] b = body.toByteArray();
        out.write(ByteBuffer.allocate(8 + b.length).putInt(8 + b.length).putInt(PROTOCOL_3_0).put(b).array());
        out.flush();
    }

    private void startup(Map<String, String> parameters, String password) throws IOException {
        sendStartup(parameters);
        while (true) {
            Message m = read();
            switch (m.type()) {
                case 'R' -> {
                    int code = ByteBuffer.wrap(m.payload()).getInt();
                    if (code == 3) send('p', cString(password));
                    else if (code != 0) throw new IllegalStateException("unexpected authentication request " + code);
                }
                case 'K' -> {
                    ByteBuffer key = ByteBuffer.wrap(m.payload());
                    processId = key.getInt();
                    secretKey = key.getInt();
                }
                case 'E' -> throw new IllegalStateException("login refused: " + m.fields());
                case 'Z' -> {
                    return;
                }
                default -> { } // ParameterStatus, notices
            }
        }
    }

    /** Sends a simple Query; read its answer with {@link #read()} / {@link #readUntil(char)}. */
    void query(String sql) throws IOException {
        send('Q', cString(sql));
    }

    /** Sends protocol bytes as they are: messages the caller encoded (with the edge's own FrontendEncoder, say). */
    void write(byte[] messages) throws IOException {
        out.write(messages);
        out.flush();
    }

    /** The next backend message; {@link EOFException} when the server closed the connection. */
    Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int length = in.readInt();
        if (length < 4 || length > 1 << 20) throw new IOException("implausible message length " + length + " for " + type);
        byte[] payload = new byte[length - 4];
        in.readFully(payload);
        return new Message(type, payload);
    }

    /** Reads messages until one of {@code type} arrives and returns it. */
    Message readUntil(char type) throws IOException {
        while (true) {
            Message m = read();
            if (m.type() == type) return m;
        }
    }

    /** Whether the server has closed the connection (reads, discarding, until end of stream). */
    boolean closedByServer() throws IOException {
        try {
            while (true) read();
        } catch (EOFException e) {
            return true;
        }
    }

    int processId() {
        return processId;
    }

    int secretKey() {
        return secretKey;
    }

    /**
     * Sends a PostgreSQL CancelRequest (length 16, code 80877102, process id, secret key) on a new
     * connection to {@code port}, and waits until the server closes that connection, as servers
     * do once they have taken the request.
     */
    static void cancel(int port, int processId, int secretKey) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 30_000);
            s.setSoTimeout(60_000);
            s.getOutputStream().write(ByteBuffer.allocate(16).putInt(16).putInt(CANCEL_REQUEST_CODE)
                    .putInt(processId).putInt(secretKey).array());
            s.getOutputStream().flush();
            int b = s.getInputStream().read();
            if (b != -1) throw new IllegalStateException("the server answered a CancelRequest with data: " + b);
        }
    }

    // ---------------------------------------------------------------- extended protocol

    /** Parse: prepares {@code sql} as statement {@code name} ("" the unnamed one), parameter types left to the server. */
    void parse(String name, String sql) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(cString(name));
        body.writeBytes(cString(sql));
        body.writeBytes(new byte[]{0, 0});
        send('P', body.toByteArray());
    }

    /** Parse, Bind and Execute of {@code sql} on the unnamed statement and portal, all rows, without Sync or Flush. */
    void parseBindExecute(String sql) throws IOException {
        parse("", sql);
        bind("", "");
        execute("", 0);
    }

    /** Bind with text parameters (null: SQL NULL) and every result column in text format. */
    void bind(String portal, String statement, String... parameters) throws IOException {
        bind(portal, statement, new short[0], parameters);
    }

    /** Bind with text parameters and these result format codes (0 text, 1 binary; one code: for every column). */
    void bind(String portal, String statement, short[] resultFormats, String... parameters) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(cString(portal));
        body.writeBytes(cString(statement));
        body.writeBytes(new byte[]{0, 0}); // every parameter in text format
        body.writeBytes(ByteBuffer.allocate(2).putShort((short) parameters.length).array());
        for (String p : parameters) {
            if (p == null) {
                body.writeBytes(ByteBuffer.allocate(4).putInt(-1).array());
            } else {
                byte[] value = p.getBytes(StandardCharsets.UTF_8);
                body.writeBytes(ByteBuffer.allocate(4).putInt(value.length).array());
                body.writeBytes(value);
            }
        }
        body.writeBytes(ByteBuffer.allocate(2).putShort((short) resultFormats.length).array());
        for (short f : resultFormats) body.writeBytes(ByteBuffer.allocate(2).putShort(f).array());
        send('B', body.toByteArray());
    }

    /** Describe of a portal ('P') or a statement ('S'). */
    void describe(char kind, String name) throws IOException {
        send('D', concat(new byte[]{(byte) kind}, cString(name)));
    }

    /** Execute of {@code portal}, at most {@code maxRows} rows (0: all). */
    void execute(String portal, int maxRows) throws IOException {
        send('E', concat(cString(portal), ByteBuffer.allocate(4).putInt(maxRows).array()));
    }

    /** Close of a statement ('S') or a portal ('P'). */
    void close(char kind, String name) throws IOException {
        send('C', concat(new byte[]{(byte) kind}, cString(name)));
    }

    void sync() throws IOException {
        send('S', new byte[0]);
    }

    void flush() throws IOException {
        send('H', new byte[0]);
    }

    /** Reads until ReadyForQuery, and returns every message up to it. */
    Answer readUntilReady() throws IOException {
        return readThrough('Z');
    }

    /** Reads until a message of one of {@code types} and returns every message up to and including it. */
    Answer readThrough(char... types) throws IOException {
        List<Message> messages = new ArrayList<>();
        while (true) {
            Message m = read();
            messages.add(m);
            for (char t : types) {
                if (m.type() == t) return new Answer(messages);
            }
        }
    }

    /** Sends a simple Query and reads its answer up to ReadyForQuery. */
    Answer simple(String sql) throws IOException {
        query(sql);
        return readUntilReady();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private void send(char type, byte[] body) throws IOException {
        out.write(ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array());
        out.flush();
    }

    private static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
