package dev.gatehouse.policy.sql.mysql;

import dev.gatehouse.platform.core.StatementKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The statements of {@value #RESOURCE} with the analysis expected of each (see the file's header). */
final class MySqlCorpus {

    static final String RESOURCE = "mysql-corpus.sql";

    /** One statement and what MySqlAnalyzer must say of it on MariaDB 11.4; {@code functions} null when not checked. */
    record Entry(int line, String sql, boolean unparseable, StatementKind kind, String tag, String objectType,
                 List<String> read, List<String> written, List<String> functions, List<String> settings,
                 boolean missingWhere, boolean runsCode, boolean uncertain) {

        /** A SELECT / INSERT / UPDATE / DELETE / REPLACE, whose tables any parser should find. */
        boolean dml() {
            return !unparseable && List.of("SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE").contains(tag);
        }

        @Override
        public String toString() {
            return "line " + line + ": " + (sql.length() > 80 ? sql.substring(0, 80) + "..." : sql);
        }
    }

    private MySqlCorpus() {
    }

    static List<Entry> entries() {
        String text;
        try (InputStream in = MySqlCorpus.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " missing");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Entry> entries = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        String head = null;
        int headLine = 0;
        StringBuilder sql = new StringBuilder();
        for (int i = 0; i <= lines.length; i++) {
            String line = i < lines.length ? lines[i] : "--@ END";
            if (line.startsWith("--@ ")) {
                if (head != null) {
                    entries.add(entry(headLine, head, sql.toString().strip()));
                }
                head = line.substring(4).strip();
                headLine = i + 1;
                sql.setLength(0);
            } else if (head != null) {
                sql.append(line).append('\n');
            }
        }
        return List.copyOf(entries);
    }

    private static Entry entry(int line, String head, String sql) {
        if (head.equals("UNPARSEABLE")) {
            return new Entry(line, sql, true, null, null, null, List.of(), List.of(), null, List.of(), false, false, false);
        }
        String[] parts = head.split("\\|");
        StatementKind kind = StatementKind.valueOf(parts[0].strip());
        String tag = parts[1].strip();
        String objectType = null;
        List<String> read = List.of();
        List<String> written = List.of();
        List<String> functions = null;
        List<String> settings = List.of();
        boolean missingWhere = false;
        boolean runsCode = false;
        boolean uncertain = false;
        for (int i = 2; i < parts.length; i++) {
            String part = parts[i].strip();
            if (part.startsWith("obj:")) {
                objectType = part.substring(4).strip();
            } else if (part.startsWith("r:")) {
                read = list(part);
            } else if (part.startsWith("w:")) {
                written = list(part);
            } else if (part.startsWith("f:")) {
                functions = list(part);
            } else if (part.startsWith("s:")) {
                settings = list(part);
            } else {
                switch (part) {
                    case "mw" -> missingWhere = true;
                    case "code" -> runsCode = true;
                    case "unc" -> uncertain = true;
                    default -> throw new IllegalArgumentException("line " + line + ": unknown fact " + part);
                }
            }
        }
        return new Entry(line, sql, false, kind, tag, objectType, read, written, functions, settings, missingWhere,
                runsCode, uncertain);
    }

    private static List<String> list(String part) {
        return Arrays.stream(part.substring(2).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
