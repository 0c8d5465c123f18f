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
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A minimal PostgreSQL frontend over a blocking socket, for what pgjdbc and psql do not expose:
 * the BackendKeyData the edge hands out, raw CancelRequests sent to any edge, and protocol messages
 * exactly as a test built them. Test-only; it speaks the simple query protocol and cleartext password
 * authentication (what the edge asks for), and writes whatever bytes it is given.
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

        @Override
        public String toString() {
            return type == 'E' || type == 'N' ? type + fields().toString() : type + "(" + payload.length + " bytes)";
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
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 30_000);
        socket.setSoTimeout(120_000);
        RawPgClient c = new RawPgClient(socket);
        try {
            c.startup(Map.of("user", user, "database", connection, "application_name", applicationName), token);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void startup(Map<String, String> parameters, String password) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        parameters.forEach((k, v) -> {
            body.writeBytes(cString(k));
            body.writeBytes(cString(v));
        });
        body.write(0);
        byte[] b = body.toByteArray();
        out.write(ByteBuffer.allocate(8 + b.length).putInt(8 + b.length).putInt(PROTOCOL_3_0).put(b).array());
        out.flush();
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
