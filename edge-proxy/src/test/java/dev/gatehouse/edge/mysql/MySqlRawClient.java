package dev.gatehouse.edge.mysql;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A MySQL client on a raw socket: logs in with the token (mysql_clear_password), sends packets, reads answers. */
final class MySqlRawClient implements AutoCloseable {
    private final java.net.Socket socket;
    private final java.io.DataInputStream in;
    private final java.io.OutputStream out;
    /** The connection id the greeting gave (the edge's id of this session). */
    int connectionId;

    private MySqlRawClient(java.net.Socket socket) throws java.io.IOException {
        this.socket = socket;
        socket.setSoTimeout(30_000);
        this.in = new java.io.DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    static MySqlRawClient login(int port, String database, String user, String token) throws Exception {
        return login(port, database, user, token, 0);
    }

    /** Logs in asking for {@code extraCapabilities} too (CLIENT_MULTI_STATEMENTS: 0x10000). */
    static MySqlRawClient login(int port, String database, String user, String token, int extraCapabilities) throws Exception {
        MySqlRawClient c = new MySqlRawClient(new java.net.Socket("127.0.0.1", port));
        byte[] greeting = c.read();
        int versionEnd = 1;
        while (greeting[versionEnd] != 0) versionEnd++;
        c.connectionId = java.nio.ByteBuffer.wrap(greeting, versionEnd + 1, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        int caps = 0x200 | 0x8000 | 0x80000 | 0x200000 | 0x8 | 0x20000 | 0x1000000 | extraCapabilities;
        var b = new java.io.ByteArrayOutputStream();
        b.write(java.nio.ByteBuffer.allocate(9).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(caps).putInt(1 << 24)
                .put((byte) 45).array());
        b.write(new byte[23]);
        b.write((user + "\0").getBytes(StandardCharsets.UTF_8));
        byte[] auth = (token + "\0").getBytes(StandardCharsets.UTF_8);
        b.write(auth.length);
        b.write(auth);
        b.write((database + "\0mysql_clear_password\0").getBytes(StandardCharsets.UTF_8));
        c.send(1, b.toByteArray());
        byte[] ok = c.read();
        if (ok[0] != 0) throw new AssertionError("login refused: " + new String(ok, StandardCharsets.UTF_8));
        return c;
    }

    void send(int sequence, byte[] payload) throws java.io.IOException {
        out.write(new byte[] {(byte) payload.length, (byte) (payload.length >> 8), (byte) (payload.length >> 16),
                (byte) sequence});
        out.write(payload);
        out.flush();
    }

    byte[] read() throws java.io.IOException {
        int length = in.readUnsignedByte() | in.readUnsignedByte() << 8 | in.readUnsignedByte() << 16;
        in.readUnsignedByte();
        byte[] payload = new byte[length];
        in.readFully(payload);
        return payload;
    }

    /** The rows of a text-protocol result set (CLIENT_DEPRECATE_EOF: no EOF after the definitions). */
    List<List<String>> readRows() throws java.io.IOException {
        byte[] count = read();
        if ((count[0] & 0xFF) == 0xFF) {
            throw new AssertionError("error " + (((count[2] & 0xFF) << 8) | (count[1] & 0xFF)) + ": "
                    + new String(count, 3, count.length - 3, StandardCharsets.UTF_8));
        }
        for (int i = 0; i < (count[0] & 0xFF); i++) read();
        List<List<String>> rows = new ArrayList<>();
        while (true) {
            byte[] row = read();
            if ((row[0] & 0xFF) == 0xFE && row.length < 9) return rows;
            if ((row[0] & 0xFF) == 0xFF) {
                throw new AssertionError("error " + (((row[2] & 0xFF) << 8) | (row[1] & 0xFF)) + " after " + rows.size()
                        + " rows: " + new String(row, 3, row.length - 3, StandardCharsets.UTF_8));
            }
            List<String> values = new ArrayList<>();
            for (int i = 0; i < row.length; ) {
                int len = row[i] & 0xFF;
                if (len == 0xFB) {
                    values.add(null);
                    i++;
                } else {
                    values.add(new String(row, i + 1, len, StandardCharsets.UTF_8));
                    i += 1 + len;
                }
            }
            rows.add(values);
        }
    }

    /**
     * Reads a whole answer to a query or an execute (OK, ERR, result sets with rows, following
     * results while the status says more exist; CLIENT_DEPRECATE_EOF). Returns the MySQL error number
     * of an ERR that ended it, or 0.
     */
    int readFullAnswer() throws java.io.IOException {
        while (true) {
            byte[] first = read();
            int header = first[0] & 0xFF;
            if (header == 0xFF) return ((first[2] & 0xFF) << 8) | (first[1] & 0xFF);
            if (header == 0xFE) return 0; // an EOF answer (COM_SET_OPTION)
            int status;
            if (header == 0x00) {
                status = okStatus(first);
            } else {
                int columns = header; // the tests' result sets have fewer than 251 columns
                for (int i = 0; i < columns; i++) read();
                byte[] row;
                do {
                    row = read();
                    if ((row[0] & 0xFF) == 0xFF) return ((row[2] & 0xFF) << 8) | (row[1] & 0xFF);
                } while ((row[0] & 0xFF) != 0xFE);
                status = okStatus(row);
            }
            if ((status & 0x08) == 0) return 0; // SERVER_MORE_RESULTS_EXISTS
        }
    }

    /** Reads the answer to a COM_STMT_FETCH: rows, then an EOF; or an ERR. Returns the error number or 0. */
    int readFetchAnswer() throws java.io.IOException {
        while (true) {
            byte[] p = read();
            int header = p[0] & 0xFF;
            if (header == 0xFF) return ((p[2] & 0xFF) << 8) | (p[1] & 0xFF);
            if (header == 0xFE && p.length < 0xFFFFFF) return 0;
        }
    }

    /** The status flags of an OK packet (header 0x00 or 0xFE): after affected rows and last insert id. */
    private static int okStatus(byte[] ok) {
        int i = 1;
        for (int n = 0; n < 2; n++) {
            int b = ok[i] & 0xFF;
            i += b < 0xFB ? 1 : b == 0xFC ? 3 : b == 0xFD ? 4 : 9;
        }
        return (ok[i] & 0xFF) | (ok[i + 1] & 0xFF) << 8;
    }

    /** The first packet of an answer, after reading the rest of it (a STMT_PREPARE_OK's definitions, a result). */
    byte[] readAnswer() throws java.io.IOException {
        byte[] first = read();
        if ((first[0] & 0xFF) == 0 && first.length >= 12) {
            // STMT_PREPARE_OK: parameter and column definitions follow (no EOF: CLIENT_DEPRECATE_EOF)
            int columns = (first[5] & 0xFF) | (first[6] & 0xFF) << 8;
            int params = (first[7] & 0xFF) | (first[8] & 0xFF) << 8;
            for (int i = 0; i < params + columns; i++) read();
        }
        return first;
    }

    @Override
    public void close() throws java.io.IOException {
        socket.close();
    }

    static byte[] command(int command, String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[1 + t.length];
        out[0] = (byte) command;
        System.arraycopy(t, 0, out, 1, t.length);
        return out;
    }

    static byte[] execute(int statementId) {
        return java.nio.ByteBuffer.allocate(10).order(java.nio.ByteOrder.LITTLE_ENDIAN).put((byte) 0x17).putInt(statementId)
                .put((byte) 0).putInt(1).array();
    }
}
