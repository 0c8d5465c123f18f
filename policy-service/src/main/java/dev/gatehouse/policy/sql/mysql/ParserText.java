package dev.gatehouse.policy.sql.mysql;

import com.alibaba.druid.DbType;
import com.alibaba.druid.sql.SQLUtils;
import com.alibaba.druid.sql.ast.SQLStatement;
import dev.gatehouse.policy.sql.mysql.MySqlLexer.Token;
import dev.gatehouse.policy.sql.mysql.MySqlLexer.Type;
import java.util.List;

/**
 * Hands tokens to Druid's MySQL parser in a canonical spelling, so that the parser never lexes
 * anything the {@link MySqlLexer} has not already decided: every string literal is written
 * {@code '...'} with its value escaped the one way Druid reads by default (whatever quotes,
 * escapes, ANSI_QUOTES or NO_BACKSLASH_ESCAPES the text used), every quoted identifier in
 * backticks; tokens that touched in the text touch (a dot, {@code 'u'@'h'}), others are one space
 * apart, and two tokens that would read as a comment ({@code - -}, {@code / *}) never touch.
 */
final class ParserText {

    private ParserText() {
    }

    /** The canonical text of these tokens. */
    static String of(List<Token> tokens) {
        StringBuilder text = new StringBuilder();
        Token prev = null;
        for (Token token : tokens) {
            if (prev != null) {
                boolean touching = prev.codeStart() + prev.text().length() == token.codeStart();
                boolean commentLike = prev.type() == Type.PUNCT && token.type() == Type.PUNCT
                        && ((prev.text().equals("-") && token.text().equals("-"))
                            || (prev.text().equals("/") && token.text().equals("*")));
                if (!touching || commentLike) {
                    text.append(' ');
                }
            }
            text.append(canonical(token));
            prev = token;
        }
        return text.toString();
    }

    private static String canonical(Token token) {
        return switch (token.type()) {
            case STRING -> "'" + token.value().replace("\\", "\\\\").replace("'", "''") + "'";
            case IDENT -> "`" + token.value().replace("`", "``") + "`";
            default -> token.text();
        };
    }

    /**
     * Parses one statement; null when Druid rejects the text or reads other than exactly one
     * statement from it. Druid's exceptions (and its occasional runtime errors on odd input) are
     * a rejection.
     */
    static SQLStatement parse(String text, boolean mariaDb) {
        try {
            List<SQLStatement> statements = SQLUtils.parseStatements(text, mariaDb ? DbType.mariadb : DbType.mysql);
            return statements.size() == 1 ? statements.getFirst() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }
}
