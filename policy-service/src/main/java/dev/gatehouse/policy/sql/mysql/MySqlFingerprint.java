package dev.gatehouse.policy.sql.mysql;

import dev.gatehouse.policy.sql.mysql.MySqlLexer.Statement;
import dev.gatehouse.policy.sql.mysql.MySqlLexer.Token;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * A text's fingerprint: the SHA-256 (hex) of its statements' tokens as the server runs them
 * (executable comments expanded, comments left out), normalised: every literal (string, number,
 * hexadecimal, bit) and parameter marker is {@code ?}, a list of them ({@code IN (1, 2, 3)},
 * {@code VALUES (1, 'a'), (2, 'b')}) one {@code ?}, words and names lower case and unquoted,
 * whitespace and comments gone. {@code SELECT * FROM t WHERE id = 1} and
 * {@code select * from `t` where id = 2 -- x} share one.
 */
final class MySqlFingerprint {

    private MySqlFingerprint() {
    }

    static String of(List<Statement> statements) {
        StringBuilder text = new StringBuilder("mysql-fingerprint-1");
        for (Statement statement : statements) {
            text.append('\n');
            for (String token : normalised(statement.tokens())) {
                text.append(token).append(' ');
            }
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(text.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    static List<String> normalised(List<Token> tokens) {
        List<String> out = new ArrayList<>();
        for (Token token : tokens) {
            String t = switch (token.type()) {
                case STRING, NUMBER -> "?";
                case IDENT -> token.value().toLowerCase(Locale.ROOT);
                case WORD -> token.text().toLowerCase(Locale.ROOT);
                case PUNCT -> token.text();
            };
            out.add(t);
            collapse(out);
        }
        return out;
    }

    /** Folds "? , ?" into "?" and "( ? ) , ( ? )" into "( ? )" at the end of the list. */
    private static void collapse(List<String> out) {
        int n = out.size();
        if (n >= 3 && out.get(n - 1).equals("?") && out.get(n - 2).equals(",") && out.get(n - 3).equals("?")) {
            out.subList(n - 2, n).clear();
            return;
        }
        if (n >= 7 && out.subList(n - 7, n).equals(List.of("(", "?", ")", ",", "(", "?", ")"))) {
            out.subList(n - 4, n).clear();
        }
    }
}
