package dev.gatehouse.policy.sql;

import java.util.ArrayList;
import java.util.List;

/**
 * A SQL text with its tokens as PostgreSQL's own scanner finds them ({@code pg_query_scan}):
 * what cuts exact source text out of it. libpg_query reports byte offsets into the UTF-8 text;
 * this maps them to Java {@code char} indices (a character outside the Basic Multilingual Plane
 * is 4 bytes and 2 {@code char}s). Comments are not tokens here: a cut starts at a token and ends
 * with one, so it never begins or ends with whitespace or a comment.
 */
final class SqlText {

    // Token numbers of pg_query.proto's Token enum (single characters are their ASCII code).
    static final int OPEN_PAREN = '(';
    static final int CLOSE_PAREN = ')';
    static final int OPEN_BRACKET = '[';
    static final int CLOSE_BRACKET = ']';
    static final int COMMA = ',';
    static final int EQUALS = '=';
    static final int MINUS = '-';
    static final int FCONST = 260;
    static final int SCONST = 261;
    static final int USCONST = 262;
    static final int BCONST = 263;
    static final int XCONST = 264;
    static final int ICONST = 266;
    static final int COLON_EQUALS = 270;
    static final int SQL_COMMENT = 275;
    static final int C_COMMENT = 276;
    static final int AS = 294;
    static final int DATA = 368;
    static final int EXECUTE = 409;
    static final int FOR = 424;
    static final int NO = 524;
    static final int WITH = 716;

    /**
     * {@code pg_query.proto}'s KeywordKind of column-name keywords: this and the kinds above it
     * (type or function name, reserved) make PostgreSQL quote an identifier of that spelling.
     */
    static final int COL_NAME_KEYWORD = 2;

    private final String sql;
    /** char index of each byte offset; null when the text is ASCII (both are the same). */
    private final int[] charIndex;
    private final int byteLength;
    private final List<LibPgQuery.Token> tokens;

    SqlText(String sql, List<LibPgQuery.Token> scanned) {
        this.sql = sql;
        int bytes = utf8Length(sql);
        this.byteLength = bytes;
        this.charIndex = bytes == sql.length() ? null : charIndex(sql, bytes);
        List<LibPgQuery.Token> kept = new ArrayList<>(scanned.size());
        for (LibPgQuery.Token token : scanned) {
            if (token.token() != SQL_COMMENT && token.token() != C_COMMENT) {
                kept.add(token);
            }
        }
        this.tokens = List.copyOf(kept);
    }

    /** The char index of a byte offset that starts a character (or is the end of the text). */
    int charAt(int byteOffset) {
        if (byteOffset < 0 || byteOffset > byteLength) {
            throw new IllegalStateException("byte offset " + byteOffset + " outside the text of " + byteLength + " bytes");
        }
        return charIndex == null ? byteOffset : charIndex[byteOffset];
    }

    int size() {
        return tokens.size();
    }

    int kind(int index) {
        return tokens.get(index).token();
    }

    /**
     * The tokens [from, to) of the statement libpg_query places at {@code location} with
     * {@code length} bytes (0: to the end of the text); both are byte offsets.
     */
    int[] statement(int location, int length) {
        int end = length == 0 ? byteLength : location + length;
        int from = firstAtOrAfter(location);
        int to = firstAtOrAfter(end);
        if (from >= to) {
            throw new IllegalStateException("statement at byte " + location + " has no tokens");
        }
        return new int[] {from, to};
    }

    /** The text. */
    String source() {
        return sql;
    }

    /** Byte offset where token {@code index} starts. */
    int byteStart(int index) {
        return tokens.get(index).start();
    }

    /** char index where token {@code index} starts. */
    int start(int index) {
        return charAt(tokens.get(index).start());
    }

    /** char index just after token {@code index}. */
    int end(int index) {
        return charAt(tokens.get(index).end());
    }

    /** The source text from the start of token {@code from} to the end of token {@code to - 1}. */
    String cut(int from, int to) {
        if (from >= to) {
            return "";
        }
        return sql.substring(start(from), end(to - 1));
    }

    /** The first token of {@code kind} in [from, to) outside parentheses and brackets, or -1. */
    int find(int from, int to, int kind) {
        int depth = 0;
        for (int i = from; i < to; i++) {
            int k = kind(i);
            if (depth == 0 && k == kind) {
                return i;
            }
            depth += nesting(k);
        }
        return -1;
    }

    /** The opening parenthesis or bracket that the one at {@code close} closes, not before {@code from}; -1 if none. */
    int opening(int close, int from) {
        int depth = 0;
        for (int i = close; i >= from; i--) {
            depth -= nesting(kind(i));
            if (depth == 0) {
                return i;
            }
        }
        return -1;
    }

    /** [from, to) split at commas outside parentheses and brackets: token ranges {from, to}. */
    List<int[]> split(int from, int to) {
        List<int[]> parts = new ArrayList<>();
        int depth = 0;
        int partStart = from;
        for (int i = from; i < to; i++) {
            int k = kind(i);
            if (depth == 0 && k == COMMA) {
                parts.add(new int[] {partStart, i});
                partStart = i + 1;
            }
            depth += nesting(k);
        }
        if (partStart < to || !parts.isEmpty()) {
            parts.add(new int[] {partStart, to});
        }
        return parts;
    }

    private static int nesting(int kind) {
        return switch (kind) {
            case OPEN_PAREN, OPEN_BRACKET -> 1;
            case CLOSE_PAREN, CLOSE_BRACKET -> -1;
            default -> 0;
        };
    }

    private int firstAtOrAfter(int byteOffset) {
        int low = 0;
        int high = tokens.size();
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (tokens.get(mid).start() < byteOffset) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    private static int utf8Length(String sql) {
        int bytes = 0;
        for (int i = 0; i < sql.length(); i++) {
            bytes += utf8Bytes(sql, i);
            if (Character.isHighSurrogate(sql.charAt(i))) {
                i++;
            }
        }
        return bytes;
    }

    private static int[] charIndex(String sql, int bytes) {
        int[] index = new int[bytes + 1];
        int b = 0;
        for (int i = 0; i < sql.length(); i++) {
            int n = utf8Bytes(sql, i);
            for (int k = 0; k < n; k++) {
                index[b + k] = i;
            }
            b += n;
            if (Character.isHighSurrogate(sql.charAt(i))) {
                i++;
            }
        }
        index[bytes] = sql.length();
        return index;
    }

    /** Bytes of the character at {@code i} in UTF-8 (the text was validated by {@link LibPgQuery#encode}). */
    private static int utf8Bytes(String sql, int i) {
        char c = sql.charAt(i);
        if (c < 0x80) {
            return 1;
        }
        if (c < 0x800) {
            return 2;
        }
        if (Character.isHighSurrogate(c) && i + 1 < sql.length() && Character.isLowSurrogate(sql.charAt(i + 1))) {
            return 4;
        }
        return 3;
    }
}
