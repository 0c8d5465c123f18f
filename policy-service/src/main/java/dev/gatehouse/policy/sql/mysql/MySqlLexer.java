package dev.gatehouse.policy.sql.mysql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A MySQL / MariaDB lexer that follows the server's own ({@code sql/sql_lex.cc}): it splits a text
 * into the statements the server executes and gives, per statement, its tokens (with their places
 * in the original text) and the text the server actually runs.
 *
 * <p>What it follows, as the servers do:
 * <ul>
 *   <li>Strings {@code '...'} and {@code "..."} (a string unless ANSI_QUOTES) end at an undoubled
 *       quote; a backslash escapes the next character unless NO_BACKSLASH_ESCAPES. Identifiers in
 *       backticks (and, with ANSI_QUOTES, double quotes) double their quote; a backslash is
 *       nothing special there. {@code X'..'} and {@code B'..'} end at the next quote.</li>
 *   <li>Comments: {@code #} and {@code -- } (two dashes, then whitespace, a control character or
 *       the end) to the end of the line; {@code /* ... *}{@code /} ends at the first
 *       {@code *}{@code /} (no nesting).</li>
 *   <li>Executable comments are code: {@code /*!} runs its content; {@code /*!NNNNN} only when the
 *       server's version is at least NNNNN. MySQL reads 5 digits, from 8.1 six when a whitespace
 *       follows the sixth; MariaDB reads 5 or 6 digits, runs {@code /*M!} and {@code /*M!NNNNNN}
 *       (MySQL reads them as ordinary comments) and <em>ignores</em> MySQL's version range
 *       50700..99999 in {@code /*!} (its comment: MySQL 5.7+ syntax MariaDB may not know; checked
 *       on MariaDB 11.4.5). A skipped versioned comment may hold one level of {@code /* *}{@code /}
 *       inside. Fewer than 5 digits: not a version, the digits are code. MariaDB runs
 *       {@code /*!99997} on Galera nodes only: refused as ambiguous.</li>
 *   <li>A statement ends at a {@code ;} that ends it in the grammar: everywhere in a plain
 *       statement, outside {@code BEGIN ... END} and the other blocks in one that can hold a
 *       compound statement ({@code CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT}, {@code ALTER EVENT},
 *       MariaDB's {@code BEGIN NOT ATOMIC}, {@code IF}, {@code CASE}, {@code LOOP},
 *       {@code WHILE}, {@code REPEAT}, {@code FOR} and labels; see {@link BlockTracker}). The server
 *       lexes each statement of a multi-statement text afresh: an executable comment open at a
 *       {@code ;} is not open in the next statement, whose {@code *}{@code /} is then code.</li>
 *   <li>MySQL 9 (from 90000) reads {@code $tag$ ... $tag$} as a string.</li>
 * </ul>
 *
 * <p>Refused (an error, the text unparseable): an unterminated string, identifier, comment or
 * executable comment (the server's syntax error), a NUL character, an unpaired surrogate, a
 * whitespace or invisible formatting character outside strings and comments (the server reads it
 * as part of a name; a parser would not), a semicolon with nothing but comments before it (the
 * server's syntax error). {@code DELIMITER} is a client command: the server (and so the parser)
 * rejects it.
 *
 * <p>The text a statement runs ({@link Statement#code}) is its code with every comment and every
 * executable-comment marker replaced by one space. Stateless; thread-safe.
 */
final class MySqlLexer {

    /** The kinds of token. */
    enum Type {
        /** An unquoted word: keyword or name. */
        WORD,
        /** A quoted identifier (backticks, or double quotes under ANSI_QUOTES). */
        IDENT,
        /** A string literal ({@code '..'}, {@code ".."}, {@code $$..$$}); {@link Token#value} is its value. */
        STRING,
        /** A number, a hexadecimal or bit literal ({@code 12}, {@code 1.5e3}, {@code 0x1F}, {@code X'1F'}). */
        NUMBER,
        /** Any other character, or {@code :=}. */
        PUNCT
    }

    /**
     * One token.
     *
     * @param type  its kind
     * @param text  its text in the original
     * @param value a string's value (escapes resolved), an identifier's name, else {@code text}
     * @param start index of its first character in the original text
     * @param end   index after its last character in the original text
     * @param codeStart index of its first character in the statement's {@link Statement#code}
     */
    record Token(Type type, String text, String value, int start, int end, int codeStart) {
        boolean isWord(String word) {
            return type == Type.WORD && text.equalsIgnoreCase(word);
        }

        boolean isWordIn(java.util.Set<String> upperCaseWords) {
            return type == Type.WORD && upperCaseWords.contains(upper());
        }

        boolean isPunct(String p) {
            return type == Type.PUNCT && text.equals(p);
        }

        /** A word's text in upper case, else its text. */
        String upper() {
            return type == Type.WORD ? text.toUpperCase(Locale.ROOT) : text;
        }

        /** A name as the server reads it: a word as written, a quoted identifier unquoted. */
        boolean isName() {
            return type == Type.WORD || type == Type.IDENT;
        }
    }

    /**
     * One statement.
     *
     * @param start  index of its first token in the original text
     * @param end    index after its last token in the original text
     * @param code   the text the server runs: comments and executable-comment markers replaced by a space
     * @param tokens its tokens, in order
     */
    record Statement(int start, int end, String code, List<Token> tokens) {
        Statement {
            tokens = List.copyOf(tokens);
        }
    }

    /** The statements of a text, or the reason it cannot be split (then {@code statements} is empty). */
    record Result(List<Statement> statements, String error) {
        static Result failed(String error) {
            return new Result(List.of(), error);
        }

        boolean ok() {
            return error == null;
        }
    }

    /** What the lexer needs to know of the server and the session. */
    record Settings(long serverVersion, boolean mariaDb, boolean ansiQuotes, boolean noBackslashEscapes) {
    }

    /** MySQL 8.1 reads six-digit versions in executable comments. */
    static final long MYSQL_SIX_DIGIT_VERSIONS = 80100;
    /** MySQL 9.0 reads dollar-quoted strings. */
    static final long MYSQL_DOLLAR_QUOTES = 90000;

    private final Settings settings;

    MySqlLexer(Settings settings) {
        this.settings = settings;
    }

    /** Splits {@code sql} into its statements; never throws on any text. */
    Result split(String sql) {
        return new Run(sql).run();
    }

    /** One pass over one text. */
    private final class Run {
        private final String sql;
        private final int n;
        private final List<Statement> statements = new ArrayList<>();
        private StringBuilder code = new StringBuilder();
        private List<Token> tokens = new ArrayList<>();
        private BlockTracker blocks = new BlockTracker(settings.mariaDb());
        private boolean inExecutable;

        Run(String sql) {
            this.sql = sql;
            this.n = sql.length();
        }

        Result run() {
            int i = 0;
            while (i < n) {
                char c = sql.charAt(i);
                if (c == 0) {
                    return Result.failed("NUL character at " + i);
                }
                if (isSpace(c)) {
                    code.append(c);
                    i++;
                    continue;
                }
                char next = i + 1 < n ? sql.charAt(i + 1) : 0;
                if (c == '#' || (c == '-' && next == '-' && (i + 2 >= n || isSpaceOrControl(sql.charAt(i + 2))))) {
                    int eol = sql.indexOf('\n', i);
                    i = eol < 0 ? n : eol;
                    comment();
                    continue;
                }
                if (c == '/' && next == '*') {
                    int after = blockComment(i);
                    if (after < 0) {
                        return Result.failed(after == AMBIGUOUS
                                ? "executable comment /*!99997 runs on MariaDB Galera nodes only: ambiguous"
                                : "unterminated comment at " + i);
                    }
                    i = after;
                    continue;
                }
                if (c == '*' && next == '/' && inExecutable) {
                    inExecutable = false;
                    code.append(' ');
                    i += 2;
                    continue;
                }
                if (c == ';' && blocks.endsStatement()) {
                    String problem = endStatement(false);
                    if (problem != null) {
                        return Result.failed(problem);
                    }
                    i++;
                    continue;
                }
                int end;
                if (c == '\'' || (c == '"' && !settings.ansiQuotes())) {
                    end = string(i, c);
                } else if (c == '`' || c == '"') {
                    end = quotedIdentifier(i, c);
                } else if ((c == 'x' || c == 'X' || c == 'b' || c == 'B') && next == '\'') {
                    end = sql.indexOf('\'', i + 2);
                    end = end < 0 ? -1 : add(Type.NUMBER, i, end + 1, sql.substring(i, end + 1));
                } else if (c == '$' && !settings.mariaDb() && settings.serverVersion() >= MYSQL_DOLLAR_QUOTES
                        && dollarTag(i) > 0) {
                    end = dollarString(i, dollarTag(i));
                } else if (isDigit(c) || (c == '.' && isDigit(next))) {
                    end = number(i);
                } else if (isIdentifierChar(c)) {
                    end = word(i);
                } else if (c == ':' && next == '=') {
                    end = add(Type.PUNCT, i, i + 2, ":=");
                } else {
                    end = add(Type.PUNCT, i, i + 1, String.valueOf(c));
                }
                if (end < 0) {
                    return Result.failed(switch (end) {
                        case INVISIBLE -> "whitespace or invisible character in a name at " + i;
                        case UNPAIRED -> "unpaired surrogate at " + i;
                        default -> "unterminated " + describe(c) + " at " + i;
                    });
                }
                i = end;
            }
            if (inExecutable) {
                return Result.failed("unterminated executable comment");
            }
            String problem = endStatement(true);
            return problem == null ? new Result(List.copyOf(statements), null) : Result.failed(problem);
        }

        /** Closes the statement being read; an error for an empty one between semicolons. */
        private String endStatement(boolean atEnd) {
            if (tokens.isEmpty()) {
                if (!atEnd) {
                    return "empty statement (a semicolon with nothing before it) at statement " + (statements.size() + 1);
                }
            } else {
                Token first = tokens.getFirst();
                Token last = tokens.getLast();
                statements.add(new Statement(first.start(), last.end(), code.toString(), tokens));
            }
            code = new StringBuilder();
            tokens = new ArrayList<>();
            blocks = new BlockTracker(settings.mariaDb());
            inExecutable = false; // the server lexes the next statement afresh
            return null;
        }

        private void comment() {
            code.append(' ');
        }

        /** A {@code /*} at {@code i}: returns the index after it, or a negative code. */
        private int blockComment(int i) {
            boolean maria = settings.mariaDb() && i + 3 < n && sql.charAt(i + 2) == 'M' && sql.charAt(i + 3) == '!';
            boolean executable = maria || (i + 2 < n && sql.charAt(i + 2) == '!');
            if (!executable) {
                comment();
                return consumeComment(i + 2, 0);
            }
            int p = i + (maria ? 4 : 3);
            int digits = 0;
            while (p + digits < n && isDigit(sql.charAt(p + digits))) {
                digits++;
            }
            if (digits < 5) {
                // not a version: the content (digits included) is code
                code.append(' ');
                inExecutable = true;
                return p;
            }
            int length = 5;
            if (settings.mariaDb()) {
                if (digits >= 6) {
                    length = 6;
                }
            } else if (settings.serverVersion() >= MYSQL_SIX_DIGIT_VERSIONS && digits >= 6
                    && p + 6 < n && isSpace(sql.charAt(p + 6))) {
                length = 6;
            }
            long version = Long.parseLong(sql.substring(p, p + length));
            boolean runs;
            if (settings.mariaDb()) {
                if (version == 99997) {
                    return AMBIGUOUS;
                }
                runs = version <= settings.serverVersion() && (version < 50700 || version > 99999 || maria);
            } else {
                runs = version <= settings.serverVersion();
            }
            code.append(' ');
            if (runs) {
                inExecutable = true;
                return p + length;
            }
            return consumeComment(p, 1);
        }

        /** The server's {@code consume_comment}: the index after the closing marker, or -1. */
        private int consumeComment(int from, int nestingAllowed) {
            int p = from;
            while (p < n) {
                char c = sql.charAt(p++);
                if (nestingAllowed > 0 && c == '/' && p < n && sql.charAt(p) == '*') {
                    int inner = consumeComment(p + 1, nestingAllowed - 1);
                    p = inner < 0 ? n : inner;
                    continue;
                }
                if (c == '*' && p < n && sql.charAt(p) == '/') {
                    return p + 1;
                }
            }
            return UNTERMINATED;
        }

        private int string(int i, char quote) {
            StringBuilder value = new StringBuilder();
            int p = i + 1;
            while (p < n) {
                char c = sql.charAt(p);
                if (c == '\\' && !settings.noBackslashEscapes()) {
                    if (p + 1 >= n) {
                        return UNTERMINATED;
                    }
                    value.append(unescape(sql.charAt(p + 1)));
                    p += 2;
                } else if (c == quote) {
                    if (p + 1 < n && sql.charAt(p + 1) == quote) {
                        value.append(quote);
                        p += 2;
                    } else {
                        return add(Type.STRING, i, p + 1, value.toString());
                    }
                } else {
                    value.append(c);
                    p++;
                }
            }
            return UNTERMINATED;
        }

        private int quotedIdentifier(int i, char quote) {
            StringBuilder value = new StringBuilder();
            int p = i + 1;
            while (p < n) {
                char c = sql.charAt(p);
                if (c == quote) {
                    if (p + 1 < n && sql.charAt(p + 1) == quote) {
                        value.append(quote);
                        p += 2;
                    } else {
                        return add(Type.IDENT, i, p + 1, value.toString());
                    }
                } else {
                    value.append(c);
                    p++;
                }
            }
            return UNTERMINATED;
        }

        /** The length of a dollar quote's opening tag at {@code i} ({@code $$} is 2), or 0 when none. */
        private int dollarTag(int i) {
            int p = i + 1;
            while (p < n && isIdentifierChar(sql.charAt(p)) && sql.charAt(p) != '$') {
                p++;
            }
            return p < n && sql.charAt(p) == '$' ? p + 1 - i : 0;
        }

        private int dollarString(int i, int tagLength) {
            String tag = sql.substring(i, i + tagLength);
            int close = sql.indexOf(tag, i + tagLength);
            if (close < 0) {
                return UNTERMINATED;
            }
            return add(Type.STRING, i, close + tagLength, sql.substring(i + tagLength, close));
        }

        private int number(int i) {
            int p = i;
            if (sql.charAt(p) == '0' && p + 1 < n && (sql.charAt(p + 1) == 'x' || sql.charAt(p + 1) == 'b')) {
                boolean hex = sql.charAt(p + 1) == 'x';
                int q = p + 2;
                while (q < n && (hex ? isHexDigit(sql.charAt(q)) : (sql.charAt(q) == '0' || sql.charAt(q) == '1'))) {
                    q++;
                }
                if (q > p + 2 && (q >= n || !isIdentifierChar(sql.charAt(q)))) {
                    return add(Type.NUMBER, i, q, sql.substring(i, q));
                }
            }
            while (p < n && isDigit(sql.charAt(p))) {
                p++;
            }
            if (p < n && sql.charAt(p) == '.') {
                p++;
                while (p < n && isDigit(sql.charAt(p))) {
                    p++;
                }
            }
            if (p < n && (sql.charAt(p) == 'e' || sql.charAt(p) == 'E')) {
                int q = p + 1;
                if (q < n && (sql.charAt(q) == '+' || sql.charAt(q) == '-')) {
                    q++;
                }
                if (q < n && isDigit(sql.charAt(q))) {
                    while (q < n && isDigit(sql.charAt(q))) {
                        q++;
                    }
                    p = q;
                }
            }
            if (p < n && isIdentifierChar(sql.charAt(p)) && sql.substring(i, p).indexOf('.') < 0) {
                return word(i); // 1abc is a name
            }
            return add(Type.NUMBER, i, p, sql.substring(i, p));
        }

        private int word(int i) {
            int p = i;
            while (p < n && isIdentifierChar(sql.charAt(p))) {
                char c = sql.charAt(p);
                if (Character.isHighSurrogate(c)) {
                    if (p + 1 >= n || !Character.isLowSurrogate(sql.charAt(p + 1))) {
                        return UNPAIRED;
                    }
                    p += 2;
                    continue;
                }
                if (Character.isLowSurrogate(c)) {
                    return UNPAIRED;
                }
                if (c > 0x7f && (Character.isWhitespace(c) || Character.isSpaceChar(c)
                        || Character.getType(c) == Character.FORMAT || Character.isISOControl(c))) {
                    return INVISIBLE;
                }
                p++;
            }
            return add(Type.WORD, i, p, sql.substring(i, p));
        }

        private int add(Type type, int start, int end, String value) {
            String text = sql.substring(start, end);
            Token token = new Token(type, text, value, start, end, code.length());
            code.append(text);
            tokens.add(token);
            blocks.accept(token);
            return end;
        }

        private String describe(char c) {
            return switch (c) {
                case '\'', '"' -> "string";
                case '`' -> "quoted identifier";
                case '$' -> "dollar-quoted string";
                default -> "literal";
            };
        }
    }

    private static final int UNTERMINATED = -1;
    private static final int AMBIGUOUS = -2;
    private static final int INVISIBLE = -3;
    private static final int UNPAIRED = -4;

    /** The character a backslash escape stands for ({@code \%} and {@code \_} keep their backslash). */
    private static String unescape(char c) {
        return switch (c) {
            case '0' -> "\0";
            case 'b' -> "\b";
            case 'n' -> "\n";
            case 'r' -> "\r";
            case 't' -> "\t";
            case 'Z' -> "\u001a";
            case '%' -> "\\%";
            case '_' -> "\\_";
            default -> String.valueOf(c);
        };
    }

    /** The server's whitespace ({@code my_isspace} of ASCII). */
    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == '\f';
    }

    private static boolean isSpaceOrControl(char c) {
        return isSpace(c) || c < 0x20 || c == 0x7f;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isHexDigit(char c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /** Characters of unquoted names: ASCII letters, digits, {@code _}, {@code $} and everything beyond ASCII. */
    static boolean isIdentifierChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_' || c == '$' || c > 0x7f;
    }
}
