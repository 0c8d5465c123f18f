package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * Constants and field codecs of the MySQL client/server protocol (as MariaDB 11.4 speaks it):
 * capability and status flags, command bytes, error numbers, and the little-endian and
 * length-encoded integers and strings every packet is made of.
 *
 * @see <a href="https://mariadb.com/kb/en/clientserver-protocol/">MariaDB client/server protocol</a>
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html">MySQL client/server protocol</a>
 */
public final class MySqlProtocol {
    private MySqlProtocol() {
    }

    /** The largest payload of one packet on the wire; a longer logical packet continues in the next. */
    public static final int MAX_PACKET_PAYLOAD = 0xFF_FFFF;

    // ---------------------------------------------------------------- capability flags

    /** MySQL: long password; MariaDB servers clear it ("CLIENT_MYSQL") to announce extended capabilities. */
    public static final int CLIENT_LONG_PASSWORD = 1;
    public static final int CLIENT_FOUND_ROWS = 1 << 1;
    public static final int CLIENT_LONG_FLAG = 1 << 2;
    public static final int CLIENT_CONNECT_WITH_DB = 1 << 3;
    public static final int CLIENT_NO_SCHEMA = 1 << 4;
    public static final int CLIENT_COMPRESS = 1 << 5;
    public static final int CLIENT_ODBC = 1 << 6;
    public static final int CLIENT_LOCAL_FILES = 1 << 7;
    public static final int CLIENT_IGNORE_SPACE = 1 << 8;
    public static final int CLIENT_PROTOCOL_41 = 1 << 9;
    public static final int CLIENT_INTERACTIVE = 1 << 10;
    public static final int CLIENT_SSL = 1 << 11;
    public static final int CLIENT_IGNORE_SIGPIPE = 1 << 12;
    public static final int CLIENT_TRANSACTIONS = 1 << 13;
    public static final int CLIENT_RESERVED = 1 << 14;
    public static final int CLIENT_SECURE_CONNECTION = 1 << 15;
    public static final int CLIENT_MULTI_STATEMENTS = 1 << 16;
    public static final int CLIENT_MULTI_RESULTS = 1 << 17;
    public static final int CLIENT_PS_MULTI_RESULTS = 1 << 18;
    public static final int CLIENT_PLUGIN_AUTH = 1 << 19;
    public static final int CLIENT_CONNECT_ATTRS = 1 << 20;
    public static final int CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21;
    public static final int CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS = 1 << 22;
    public static final int CLIENT_SESSION_TRACK = 1 << 23;
    public static final int CLIENT_DEPRECATE_EOF = 1 << 24;
    public static final int CLIENT_OPTIONAL_RESULTSET_METADATA = 1 << 25;
    public static final int CLIENT_ZSTD_COMPRESSION = 1 << 26;
    public static final int CLIENT_QUERY_ATTRIBUTES = 1 << 27;
    public static final int CLIENT_SSL_VERIFY_SERVER_CERT = 1 << 30;
    public static final int CLIENT_REMEMBER_OPTIONS = 1 << 31;

    // ---------------------------------------------------------------- commands

    public static final int COM_SLEEP = 0x00;
    public static final int COM_QUIT = 0x01;
    public static final int COM_INIT_DB = 0x02;
    public static final int COM_QUERY = 0x03;
    public static final int COM_FIELD_LIST = 0x04;
    public static final int COM_CREATE_DB = 0x05;
    public static final int COM_DROP_DB = 0x06;
    public static final int COM_REFRESH = 0x07;
    public static final int COM_SHUTDOWN = 0x08;
    public static final int COM_STATISTICS = 0x09;
    public static final int COM_PROCESS_INFO = 0x0a;
    public static final int COM_CONNECT = 0x0b;
    public static final int COM_PROCESS_KILL = 0x0c;
    public static final int COM_DEBUG = 0x0d;
    public static final int COM_PING = 0x0e;
    public static final int COM_TIME = 0x0f;
    public static final int COM_DELAYED_INSERT = 0x10;
    public static final int COM_CHANGE_USER = 0x11;
    public static final int COM_BINLOG_DUMP = 0x12;
    public static final int COM_TABLE_DUMP = 0x13;
    public static final int COM_CONNECT_OUT = 0x14;
    public static final int COM_REGISTER_SLAVE = 0x15;
    public static final int COM_STMT_PREPARE = 0x16;
    public static final int COM_STMT_EXECUTE = 0x17;
    public static final int COM_STMT_SEND_LONG_DATA = 0x18;
    public static final int COM_STMT_CLOSE = 0x19;
    public static final int COM_STMT_RESET = 0x1a;
    public static final int COM_SET_OPTION = 0x1b;
    public static final int COM_STMT_FETCH = 0x1c;
    public static final int COM_DAEMON = 0x1d;
    public static final int COM_BINLOG_DUMP_GTID = 0x1e;
    public static final int COM_RESET_CONNECTION = 0x1f;
    /** MariaDB: bulk execution of a prepared statement (Connector/J batches). */
    public static final int COM_STMT_BULK_EXECUTE = 0xfa;

    // ---------------------------------------------------------------- server status flags

    public static final int SERVER_STATUS_IN_TRANS = 1;
    public static final int SERVER_STATUS_AUTOCOMMIT = 1 << 1;
    public static final int SERVER_MORE_RESULTS_EXISTS = 1 << 3;
    public static final int SERVER_STATUS_CURSOR_EXISTS = 1 << 6;
    public static final int SERVER_STATUS_LAST_ROW_SENT = 1 << 7;
    public static final int SERVER_STATUS_IN_TRANS_READONLY = 1 << 13;
    public static final int SERVER_SESSION_STATE_CHANGED = 1 << 14;

    // ---------------------------------------------------------------- packet headers

    public static final int OK = 0x00;
    public static final int LOCAL_INFILE = 0xFB;
    public static final int EOF = 0xFE;
    public static final int ERR = 0xFF;

    // ---------------------------------------------------------------- error numbers (and their SQLSTATEs)

    public static final int ER_CON_COUNT_ERROR = 1040;          // 08004
    public static final int ER_HANDSHAKE_ERROR = 1043;          // 08S01
    public static final int ER_DBACCESS_DENIED_ERROR = 1044;    // 42000
    public static final int ER_ACCESS_DENIED_ERROR = 1045;      // 28000
    public static final int ER_NO_DB_ERROR = 1046;              // 3D000
    public static final int ER_NO_SUCH_THREAD = 1094;           // HY000
    public static final int ER_UNKNOWN_COM_ERROR = 1047;        // 08S01
    public static final int ER_BAD_DB_ERROR = 1049;             // 42000
    public static final int ER_SERVER_SHUTDOWN = 1053;          // 08S01
    public static final int ER_UNKNOWN_ERROR = 1105;            // HY000
    public static final int ER_WRONG_VALUE_FOR_VAR = 1231;      // 42000
    public static final int ER_NET_PACKET_TOO_LARGE = 1153;     // 08S01
    public static final int ER_NET_PACKETS_OUT_OF_ORDER = 1156; // 08S01
    public static final int ER_NEW_ABORTING_CONNECTION = 1184;  // 08S01
    public static final int ER_SPECIFIC_ACCESS_DENIED = 1227;   // 42000
    public static final int ER_NOT_SUPPORTED_YET = 1235;        // 42000
    public static final int ER_UNKNOWN_STMT_HANDLER = 1243;     // HY000
    public static final int ER_OPTION_PREVENTS_STATEMENT = 1290; // HY000
    public static final int ER_QUERY_INTERRUPTED = 1317;        // 70100
    public static final int ER_CONNECTION_KILLED = 1927;        // 70100 (MariaDB)

    // ---------------------------------------------------------------- field codecs

    public static int readInt3(ByteBuf b) {
        return b.readUnsignedMediumLE();
    }

    /** A length-encoded integer; -1 for the NULL marker (0xFB). */
    public static long readLenenc(ByteBuf b) {
        int first = b.readUnsignedByte();
        return switch (first) {
            case 0xFB -> -1;
            case 0xFC -> b.readUnsignedShortLE();
            case 0xFD -> b.readUnsignedMediumLE();
            case 0xFE -> b.readLongLE();
            case 0xFF -> throw new IllegalArgumentException("0xFF is not a length-encoded integer");
            default -> first;
        };
    }

    public static void writeLenenc(ByteBuf b, long value) {
        if (value < 0xFB) {
            b.writeByte((int) value);
        } else if (value <= 0xFFFF) {
            b.writeByte(0xFC).writeShortLE((int) value);
        } else if (value <= 0xFF_FFFF) {
            b.writeByte(0xFD).writeMediumLE((int) value);
        } else {
            b.writeByte(0xFE).writeLongLE(value);
        }
    }

    /** A length-encoded byte string. */
    public static byte[] readLenencBytes(ByteBuf b) {
        long n = readLenenc(b);
        if (n < 0) return null;
        if (n > b.readableBytes()) throw new IllegalArgumentException("length-encoded string of " + n + " bytes runs past the packet");
        byte[] out = new byte[(int) n];
        b.readBytes(out);
        return out;
    }

    public static void writeLenencBytes(ByteBuf b, byte[] value) {
        writeLenenc(b, value.length);
        b.writeBytes(value);
    }

    /** A NUL-terminated string (UTF-8); the rest of the packet when it has no NUL. */
    public static String readNulString(ByteBuf b) {
        int end = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) 0);
        int stop = end < 0 ? b.writerIndex() : end;
        String s = b.toString(b.readerIndex(), stop - b.readerIndex(), StandardCharsets.UTF_8);
        b.readerIndex(end < 0 ? stop : stop + 1);
        return s;
    }

    public static byte[] readNulBytes(ByteBuf b) {
        int end = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) 0);
        int stop = end < 0 ? b.writerIndex() : end;
        byte[] out = new byte[stop - b.readerIndex()];
        b.readBytes(out);
        if (end >= 0) b.skipBytes(1);
        return out;
    }

    public static void writeNulString(ByteBuf b, String s) {
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8)).writeByte(0);
    }

    // ---------------------------------------------------------------- generic packets

    /** The SQLSTATE MySQL gives an error number the edge raises itself. */
    public static String sqlState(int errorNumber) {
        return switch (errorNumber) {
            case ER_CON_COUNT_ERROR -> "08004";
            case ER_ACCESS_DENIED_ERROR -> "28000";
            case ER_NO_DB_ERROR -> "3D000";
            case ER_DBACCESS_DENIED_ERROR, ER_BAD_DB_ERROR, ER_SPECIFIC_ACCESS_DENIED, ER_NOT_SUPPORTED_YET,
                 ER_WRONG_VALUE_FOR_VAR -> "42000";
            case ER_HANDSHAKE_ERROR, ER_UNKNOWN_COM_ERROR, ER_SERVER_SHUTDOWN, ER_NET_PACKET_TOO_LARGE,
                 ER_NET_PACKETS_OUT_OF_ORDER, ER_NEW_ABORTING_CONNECTION -> "08S01";
            case ER_QUERY_INTERRUPTED, ER_CONNECTION_KILLED -> "70100";
            default -> "HY000";
        };
    }

    /** An ERR_Packet payload (protocol 4.1: with the SQLSTATE marker). */
    public static ByteBuf errPacket(ByteBufAllocator alloc, int errorNumber, String sqlState, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = alloc.buffer(9 + text.length);
        b.writeByte(ERR).writeShortLE(errorNumber).writeByte('#');
        String state = sqlState == null || sqlState.length() != 5 ? "HY000" : sqlState;
        b.writeBytes(state.getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(text);
        return b;
    }

    /** An OK_Packet payload ({@code eof}: the 0xFE form that ends a result set under CLIENT_DEPRECATE_EOF). */
    public static ByteBuf okPacket(ByteBufAllocator alloc, long affectedRows, long lastInsertId, int status, int warnings,
                                   boolean eof) {
        ByteBuf b = alloc.buffer(16);
        b.writeByte(eof ? EOF : OK);
        writeLenenc(b, affectedRows);
        writeLenenc(b, lastInsertId);
        b.writeShortLE(status).writeShortLE(warnings);
        return b;
    }

    /** An error the target (or the edge) sent: number, SQLSTATE, message. */
    public record Error(int number, String sqlState, String message) {
        /** Reads an ERR_Packet payload (from its 0xFF header on); does not move the reader index. */
        public static Error read(ByteBuf payload) {
            ByteBuf b = payload.duplicate();
            b.skipBytes(1);
            int number = b.readableBytes() >= 2 ? b.readUnsignedShortLE() : 0;
            String state = null;
            if (b.isReadable() && b.getByte(b.readerIndex()) == '#' && b.readableBytes() >= 6) {
                b.skipBytes(1);
                state = b.readCharSequence(5, StandardCharsets.US_ASCII).toString();
            }
            return new Error(number, state, b.toString(StandardCharsets.UTF_8));
        }
    }

    /** What an OK_Packet (or a 0xFE end-of-result OK) says: rows affected and the server's status. */
    public record Ok(long affectedRows, long lastInsertId, int status, int warnings, String info) {
        /** Reads an OK_Packet payload (from its header on, 0x00 or 0xFE); does not move the reader index. */
        public static Ok read(ByteBuf payload) {
            ByteBuf b = payload.duplicate();
            b.skipBytes(1);
            long affected = readLenenc(b);
            long insertId = readLenenc(b);
            int status = b.readableBytes() >= 2 ? b.readUnsignedShortLE() : 0;
            int warnings = b.readableBytes() >= 2 ? b.readUnsignedShortLE() : 0;
            String info = "";
            if (b.isReadable()) {
                try {
                    byte[] text = readLenencBytes(b);
                    info = text == null ? "" : new String(text, StandardCharsets.UTF_8);
                } catch (RuntimeException e) {
                    info = "";
                }
            }
            return new Ok(affected, insertId, status, warnings, info);
        }
    }

    /** The status flags of a protocol-4.1 EOF_Packet payload (0xFE, warnings, status). */
    public static int eofStatus(ByteBuf payload) {
        return payload.readableBytes() >= 5 ? payload.getUnsignedShortLE(payload.readerIndex() + 3) : 0;
    }

    /**
     * Whether a packet beginning with 0xFE is an EOF_Packet / end-of-result OK rather than a row
     * whose first value is a length-encoded string of 2^24 bytes or more: such a row is a packet
     * of at least 9 bytes.
     */
    public static boolean isEof(ByteBuf payload) {
        return payload.isReadable() && payload.getUnsignedByte(payload.readerIndex()) == EOF
                && payload.readableBytes() < 9;
    }

    /** A command's name as events and errors say it. */
    public static String commandName(int command) {
        return switch (command) {
            case COM_SLEEP -> "COM_SLEEP";
            case COM_QUIT -> "COM_QUIT";
            case COM_INIT_DB -> "COM_INIT_DB";
            case COM_QUERY -> "COM_QUERY";
            case COM_FIELD_LIST -> "COM_FIELD_LIST";
            case COM_CREATE_DB -> "COM_CREATE_DB";
            case COM_DROP_DB -> "COM_DROP_DB";
            case COM_REFRESH -> "COM_REFRESH";
            case COM_SHUTDOWN -> "COM_SHUTDOWN";
            case COM_STATISTICS -> "COM_STATISTICS";
            case COM_PROCESS_INFO -> "COM_PROCESS_INFO";
            case COM_CONNECT -> "COM_CONNECT";
            case COM_PROCESS_KILL -> "COM_PROCESS_KILL";
            case COM_DEBUG -> "COM_DEBUG";
            case COM_PING -> "COM_PING";
            case COM_TIME -> "COM_TIME";
            case COM_DELAYED_INSERT -> "COM_DELAYED_INSERT";
            case COM_CHANGE_USER -> "COM_CHANGE_USER";
            case COM_BINLOG_DUMP -> "COM_BINLOG_DUMP";
            case COM_TABLE_DUMP -> "COM_TABLE_DUMP";
            case COM_CONNECT_OUT -> "COM_CONNECT_OUT";
            case COM_REGISTER_SLAVE -> "COM_REGISTER_SLAVE";
            case COM_STMT_PREPARE -> "COM_STMT_PREPARE";
            case COM_STMT_EXECUTE -> "COM_STMT_EXECUTE";
            case COM_STMT_SEND_LONG_DATA -> "COM_STMT_SEND_LONG_DATA";
            case COM_STMT_CLOSE -> "COM_STMT_CLOSE";
            case COM_STMT_RESET -> "COM_STMT_RESET";
            case COM_SET_OPTION -> "COM_SET_OPTION";
            case COM_STMT_FETCH -> "COM_STMT_FETCH";
            case COM_DAEMON -> "COM_DAEMON";
            case COM_BINLOG_DUMP_GTID -> "COM_BINLOG_DUMP_GTID";
            case COM_RESET_CONNECTION -> "COM_RESET_CONNECTION";
            case COM_STMT_BULK_EXECUTE -> "COM_STMT_BULK_EXECUTE";
            default -> String.format("command 0x%02x", command);
        };
    }
}
