package dev.gatehouse.policy.sql.mysql;

import dev.gatehouse.policy.sql.mysql.MySqlLexer.Token;
import dev.gatehouse.policy.sql.mysql.MySqlLexer.Type;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;

/**
 * Tells whether a {@code ;} ends the statement being read: in the server's grammar a semicolon
 * inside a compound statement ({@code BEGIN ... END}, {@code IF ... END IF}, {@code CASE ... END
 * [CASE]}, {@code LOOP}, {@code WHILE}, {@code REPEAT}, MariaDB's {@code FOR}) belongs to it.
 *
 * <p>Only statements that can hold one are tracked (every other statement ends at its first
 * {@code ;}): {@code CREATE [...] PROCEDURE | FUNCTION | TRIGGER | EVENT | PACKAGE} and
 * {@code ALTER [...] EVENT} (found among their first tokens), and statements that start with
 * {@code BEGIN NOT ATOMIC}, {@code IF}, {@code CASE}, {@code LOOP}, {@code WHILE}, {@code REPEAT},
 * {@code FOR} or a label (MariaDB runs these outside stored programs; MySQL rejects them). Inside,
 * by the token before and after, as the grammar tells them apart:
 * <ul>
 *   <li>{@code IF} opens a block unless it follows an object word ({@code DROP TABLE IF EXISTS})
 *       or is the function {@code IF(a, b, c)} (parentheses with a comma at their top);</li>
 *   <li>{@code REPEAT} opens one unless it is the function {@code REPEAT(...)}; {@code FOR} when
 *       {@code IN} follows its variable; {@code BEGIN} unless it follows {@code XA}, a dot or a
 *       word that makes it a name; {@code CASE}, {@code LOOP} and {@code WHILE} always;</li>
 *   <li>{@code END} closes the innermost block when that is a {@code CASE} or {@code REPEAT}, or
 *       when it follows a {@code ;} or {@code BEGIN} (an {@code end} elsewhere is a name, as the
 *       server allows); the {@code IF}, {@code CASE}, ... after it is part of it.</li>
 * </ul>
 * A misreading (a name the grammar allows where this reads a keyword) only splits wrongly: the
 * pieces then fail to parse, and the text is refused. Not thread-safe: one per statement.
 */
final class BlockTracker {

    private enum Mode { UNDECIDED, SIMPLE, COMPOUND }

    /** Objects of CREATE / ALTER whose definition may hold a compound statement. */
    private static final Set<String> COMPOUND_OBJECTS = Set.of("PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE");
    /** Objects of CREATE / ALTER that never do. */
    private static final Set<String> SIMPLE_OBJECTS = Set.of("TABLE", "VIEW", "INDEX", "DATABASE", "SCHEMA", "USER",
            "ROLE", "SEQUENCE", "SERVER", "TABLESPACE", "LOGFILE", "INSTANCE", "RESOURCE", "SPATIAL", "FULLTEXT",
            "UNIQUE", "TEMPORARY", "ONLINE", "OFFLINE", "IGNORE", "SYNONYM", "UNDO");
    /** Words after which {@code IF} is the clause {@code IF [NOT] EXISTS}. */
    private static final Set<String> OBJECT_WORDS = Set.of("TABLE", "COLUMN", "INDEX", "KEY", "PARTITION",
            "CONSTRAINT", "DATABASE", "SCHEMA", "VIEW", "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "USER", "ROLE",
            "SEQUENCE", "SERVER", "TABLESPACE", "PACKAGE", "BODY", "ADD", "DROP", "CHANGE", "MODIFY", "SYSTEM", "GROUP",
            "SYNONYM", "PERIOD", "CHECK");
    /** Words after which {@code BEGIN} is a name. */
    private static final Set<String> NOT_BEFORE_BEGIN = Set.of("XA", "AS", "SELECT", "BY", "ON", "SET", "AND", "OR",
            "NOT", "WHEN", "WHERE", "RETURN", "INTO", "FROM", "DECLARE");
    /** What {@code END} may be followed by as part of it. */
    private static final Set<String> END_WORDS = Set.of("IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR");
    /** Statements a compound statement may start with. */
    private static final Set<String> COMPOUND_STARTS = Set.of("IF", "CASE", "LOOP", "WHILE", "REPEAT");

    private final boolean mariaDb;
    private Mode mode = Mode.UNDECIDED;
    private int count;
    private boolean scanningDdl;
    private boolean firstIsBegin;
    private boolean firstIsName;
    /** Open blocks, innermost first: "BEGIN", "IF", "CASE", ... */
    private final Deque<String> open = new ArrayDeque<>();
    /** Function-or-block IFs being read: {paren level of their '(', 1 when a comma was seen}. */
    private final Deque<int[]> pendingIfs = new ArrayDeque<>();
    private int paren;
    private Token prev;
    private boolean ifAwaitsNext;
    private boolean repeatAwaitsNext;
    private int forCountdown;
    private boolean endAwaitsNext;

    BlockTracker(boolean mariaDb) {
        this.mariaDb = mariaDb;
    }

    /** Whether a {@code ;} now ends the statement. */
    boolean endsStatement() {
        return mode != Mode.COMPOUND || open.isEmpty();
    }

    void accept(Token t) {
        count++;
        if (mode == Mode.UNDECIDED) {
            decide(t);
        }
        if (mode == Mode.COMPOUND) {
            track(t);
        }
        prev = t;
    }

    private void decide(Token t) {
        if (count == 1) {
            if (t.isWord("CREATE") || t.isWord("ALTER")) {
                scanningDdl = true;
            } else if (t.isWord("BEGIN")) {
                firstIsBegin = true;
            } else if (t.isWordIn(COMPOUND_STARTS) || (mariaDb && t.isWord("FOR"))) {
                mode = Mode.COMPOUND;
            } else if (t.isName()) {
                firstIsName = true;
            } else {
                mode = Mode.SIMPLE;
            }
            return;
        }
        if (count == 2 && firstIsBegin) {
            if (t.isWord("NOT")) {
                mode = Mode.COMPOUND;
                open.push("BEGIN");
            } else {
                mode = Mode.SIMPLE;
            }
            return;
        }
        if (count == 2 && firstIsName) {
            mode = t.isPunct(":") ? Mode.COMPOUND : Mode.SIMPLE;
            return;
        }
        if (scanningDdl) {
            if (t.isWordIn(COMPOUND_OBJECTS)) {
                mode = Mode.COMPOUND;
            } else if (t.isWordIn(SIMPLE_OBJECTS) || count > 40) {
                mode = Mode.SIMPLE;
            }
        }
    }

    private void track(Token t) {
        // decisions the previous tokens waited for
        if (endAwaitsNext) {
            endAwaitsNext = false;
            if (t.isWordIn(END_WORDS)) {
                return; // END IF, END CASE, ...: part of the END
            }
        }
        if (ifAwaitsNext) {
            ifAwaitsNext = false;
            if (t.isPunct("(")) {
                pendingIfs.push(new int[] {paren + 1, 0}); // decided at its ')'
            } else {
                open.push("IF");
            }
        }
        if (repeatAwaitsNext) {
            repeatAwaitsNext = false;
            if (!t.isPunct("(")) {
                open.push("REPEAT");
            }
        }
        if (forCountdown > 0 && --forCountdown == 0 && t.isWord("IN")) {
            open.push("FOR");
        }
        if (t.type() == Type.PUNCT) {
            punct(t);
            return;
        }
        if (t.type() != Type.WORD) {
            return;
        }
        switch (t.upper()) {
            case "IF" -> {
                if (prev == null || !prev.isWordIn(OBJECT_WORDS)) {
                    ifAwaitsNext = true; // a block unless IF( a, b, c )
                }
            }
            case "REPEAT" -> repeatAwaitsNext = true;
            case "FOR" -> {
                if (mariaDb) {
                    forCountdown = 2;
                }
            }
            case "CASE", "LOOP", "WHILE" -> open.push(t.upper());
            case "BEGIN" -> {
                if (prev == null || !(prev.isPunct(".") || prev.isPunct(",") || prev.isPunct("(") || prev.isPunct("=")
                        || prev.isWordIn(NOT_BEFORE_BEGIN))) {
                    open.push("BEGIN");
                }
            }
            case "END" -> {
                String innermost = open.peek();
                if (innermost != null && (innermost.equals("CASE") || innermost.equals("REPEAT")
                        || (prev != null && (prev.isPunct(";") || prev.isWord("BEGIN") || prev.isWord("ATOMIC"))))) {
                    open.pop();
                    endAwaitsNext = true;
                }
            }
            default -> { }
        }
    }

    private void punct(Token t) {
        switch (t.text()) {
            case "(" -> paren++;
            case "," -> {
                int[] pending = pendingIfs.peek();
                if (pending != null && pending[0] == paren) {
                    pending[1] = 1;
                }
            }
            case ")" -> {
                int[] pending = pendingIfs.peek();
                if (pending != null && pending[0] == paren) {
                    pendingIfs.pop();
                    if (pending[1] == 0) {
                        open.push("IF"); // IF (condition) THEN
                    }
                }
                paren = Math.max(0, paren - 1);
            }
            default -> { }
        }
    }
}
