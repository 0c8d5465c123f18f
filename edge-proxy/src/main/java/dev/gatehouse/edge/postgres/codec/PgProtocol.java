package dev.gatehouse.edge.postgres.codec;

/**
 * PostgreSQL wire-protocol constants (protocol 3.0) in one place: startup codes, message type
 * bytes of both directions, authentication codes, error fields and the SQLSTATEs the edge uses.
 */
public final class PgProtocol {

    private PgProtocol() {
    }

    // ---- startup packets (length-prefixed, no type byte) ----
    /** Protocol version 3.0 as sent in a StartupMessage. */
    public static final int PROTOCOL_VERSION_3_0 = 196608;
    /** Major protocol version the edge speaks. */
    public static final int PROTOCOL_MAJOR_VERSION = 3;
    public static final int SSL_REQUEST_CODE = 80877103;
    public static final int GSSENC_REQUEST_CODE = 80877104;
    public static final int CANCEL_REQUEST_CODE = 80877102;
    /** Largest startup packet PostgreSQL itself accepts (MAX_STARTUP_PACKET_LENGTH). */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10000;
    /** Default limit for one regular message, length field included. */
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;

    // ---- frontend message types (client -> server) ----
    public static final byte FE_PASSWORD = 'p';
    public static final byte FE_QUERY = 'Q';
    public static final byte FE_PARSE = 'P';
    public static final byte FE_BIND = 'B';
    public static final byte FE_DESCRIBE = 'D';
    public static final byte FE_EXECUTE = 'E';
    public static final byte FE_CLOSE = 'C';
    public static final byte FE_SYNC = 'S';
    public static final byte FE_FLUSH = 'H';
    public static final byte FE_COPY_DATA = 'd';
    public static final byte FE_COPY_DONE = 'c';
    public static final byte FE_COPY_FAIL = 'f';
    public static final byte FE_FUNCTION_CALL = 'F';
    public static final byte FE_TERMINATE = 'X';

    // ---- backend message types (server -> client) ----
    public static final byte BE_AUTHENTICATION = 'R';
    public static final byte BE_PARAMETER_STATUS = 'S';
    public static final byte BE_BACKEND_KEY_DATA = 'K';
    public static final byte BE_READY_FOR_QUERY = 'Z';
    public static final byte BE_ERROR_RESPONSE = 'E';
    public static final byte BE_NOTICE_RESPONSE = 'N';
    public static final byte BE_NOTIFICATION_RESPONSE = 'A';
    public static final byte BE_EMPTY_QUERY_RESPONSE = 'I';
    public static final byte BE_COMMAND_COMPLETE = 'C';
    public static final byte BE_ROW_DESCRIPTION = 'T';
    public static final byte BE_DATA_ROW = 'D';
    public static final byte BE_PARSE_COMPLETE = '1';
    public static final byte BE_BIND_COMPLETE = '2';
    public static final byte BE_CLOSE_COMPLETE = '3';
    public static final byte BE_NO_DATA = 'n';
    public static final byte BE_PORTAL_SUSPENDED = 's';
    public static final byte BE_PARAMETER_DESCRIPTION = 't';
    public static final byte BE_COPY_IN_RESPONSE = 'G';
    public static final byte BE_COPY_OUT_RESPONSE = 'H';
    public static final byte BE_COPY_BOTH_RESPONSE = 'W';
    public static final byte BE_COPY_DATA = 'd';
    public static final byte BE_COPY_DONE = 'c';
    public static final byte BE_FUNCTION_CALL_RESPONSE = 'V';
    public static final byte BE_NEGOTIATE_PROTOCOL_VERSION = 'v';

    // ---- SSLRequest / GSSENCRequest answers (a single byte) ----
    public static final byte SSL_ACCEPTED = 'S';
    public static final byte SSL_REJECTED = 'N';

    // ---- transaction status in ReadyForQuery ----
    public static final byte TX_IDLE = 'I';
    public static final byte TX_IN_TRANSACTION = 'T';
    public static final byte TX_FAILED = 'E';

    // ---- Describe / Close targets ----
    public static final byte TARGET_STATEMENT = 'S';
    public static final byte TARGET_PORTAL = 'P';

    // ---- authentication request codes ('R' messages) ----
    public static final int AUTH_OK = 0;
    public static final int AUTH_KERBEROS_V5 = 2;
    public static final int AUTH_CLEARTEXT_PASSWORD = 3;
    public static final int AUTH_MD5_PASSWORD = 5;
    public static final int AUTH_GSS = 7;
    public static final int AUTH_GSS_CONTINUE = 8;
    public static final int AUTH_SSPI = 9;
    public static final int AUTH_SASL = 10;
    public static final int AUTH_SASL_CONTINUE = 11;
    public static final int AUTH_SASL_FINAL = 12;

    // ---- ErrorResponse / NoticeResponse field codes ----
    public static final char FIELD_SEVERITY = 'S';
    public static final char FIELD_SEVERITY_NONLOCALIZED = 'V';
    public static final char FIELD_CODE = 'C';
    public static final char FIELD_MESSAGE = 'M';
    public static final char FIELD_DETAIL = 'D';
    public static final char FIELD_HINT = 'H';
    public static final char FIELD_POSITION = 'P';
    public static final char FIELD_INTERNAL_POSITION = 'p';
    public static final char FIELD_INTERNAL_QUERY = 'q';
    public static final char FIELD_WHERE = 'W';
    public static final char FIELD_SCHEMA = 's';
    public static final char FIELD_TABLE = 't';
    public static final char FIELD_COLUMN = 'c';
    public static final char FIELD_DATA_TYPE = 'd';
    public static final char FIELD_CONSTRAINT = 'n';
    public static final char FIELD_FILE = 'F';
    public static final char FIELD_LINE = 'L';
    public static final char FIELD_ROUTINE = 'R';

    // ---- severities ----
    public static final String SEVERITY_ERROR = "ERROR";
    public static final String SEVERITY_FATAL = "FATAL";
    public static final String SEVERITY_NOTICE = "NOTICE";
    public static final String SEVERITY_WARNING = "WARNING";

    // ---- SQLSTATEs used by the edge ----
    public static final String PROTOCOL_VIOLATION = "08P01";
    public static final String INSUFFICIENT_PRIVILEGE = "42501";
    public static final String INVALID_AUTHORIZATION = "28000";
    public static final String INVALID_PASSWORD = "28P01";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String QUERY_CANCELED = "57014";
    public static final String CONNECTION_FAILURE = "08006";
    public static final String PROGRAM_LIMIT_EXCEEDED = "54000";
    public static final String IN_FAILED_TRANSACTION = "25P02";
    public static final String CANNOT_CONNECT_NOW = "57P03";
    public static final String ADMIN_SHUTDOWN = "57P01";
    public static final String INVALID_CATALOG_NAME = "3D000";
    public static final String INVALID_PARAMETER_VALUE = "22023";
    public static final String SYSTEM_ERROR = "58000";
    public static final String INTERNAL_ERROR = "XX000";

    /** Renders a type byte for error messages: {@code 'Q'} or {@code 0x16}. */
    static String describeType(byte type) {
        return type >= 0x20 && type < 0x7f ? "'" + (char) type + "'" : String.format("0x%02x", type & 0xff);
    }
}
