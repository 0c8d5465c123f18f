package dev.gatehouse.edge.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the {@code options} startup parameter as PostgreSQL does ({@code pg_split_opts}: words
 * separated by white space, a backslash makes the next character literal; then the server's
 * command-line switches), for the one kind of switch the edge passes on: settings, as
 * {@code -c name=value}, {@code -cname=value} or {@code --name=value}. Setting names are folded as
 * the server folds them (lower case, {@code -} read as {@code _}).
 */
final class PgStartupOptions {
    private PgStartupOptions() {
    }

    /**
     * The settings in {@code options}, each as {@code {name, value}}, or null when it holds
     * anything else (another switch, a setting without a value): the edge refuses what it cannot
     * check.
     */
    static List<String[]> settings(String options) {
        List<String> words = split(options);
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            String setting;
            if (word.equals("-c")) {
                if (i + 1 >= words.size()) return null;
                setting = words.get(++i);
            } else if (word.startsWith("-c")) {
                setting = word.substring(2);
            } else if (word.startsWith("--")) {
                setting = word.substring(2);
            } else {
                return null;
            }
            int eq = setting.indexOf('=');
            if (eq <= 0) return null;
            String name = setting.substring(0, eq).replace('-', '_').toLowerCase(Locale.ROOT);
            out.add(new String[]{name, setting.substring(eq + 1)});
        }
        return out;
    }

    /** pg_split_opts: white space separates words; a backslash takes the next character literally. */
    static List<String> split(String options) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (Character.isWhitespace(c) && c <= ' ') {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else if (c == '\\' && i + 1 < options.length()) {
                word.append(options.charAt(++i));
                inWord = true;
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) words.add(word.toString());
        return words;
    }
}
