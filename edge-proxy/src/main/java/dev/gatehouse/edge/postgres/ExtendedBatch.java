package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.FrontendMessage;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The extended-protocol messages of one batch (up to Sync or Flush), and the session's prepared
 * statements and portals, so that each Execute can be attributed the SQL text it runs and the
 * parameters it was bound with. Not thread-safe: one per session, used on its event loop.
 */
final class ExtendedBatch {
    /** The SQL a batch runs (or prepares), joined so that it still parses as a whole. */
    record Sql(List<String> statements, List<String> parameters) {
        String text() {
            return String.join("\n;\n", statements);
        }
    }

    private final List<FrontendMessage> messages = new ArrayList<>();
    private final Map<String, String> preparedStatements = new HashMap<>();

    void add(FrontendMessage m) {
        messages.add(m);
    }

    boolean isEmpty() {
        return messages.isEmpty();
    }

    /** Takes the batch's messages, leaving it empty. */
    List<FrontendMessage> drain() {
        List<FrontendMessage> out = new ArrayList<>(messages);
        messages.clear();
        return out;
    }

    /**
     * The statements a batch executes, in order, and the statements it prepares without
     * executing; and the parameters bound for the executions.
     */
    Sql sqlOf(List<FrontendMessage> batch, int maxParameterBytes) {
        List<String> statements = new ArrayList<>();
        List<String> parameters = new ArrayList<>();
        Map<String, String> parsedHere = new HashMap<>();
        Map<String, FrontendMessage.Bind> portals = new HashMap<>();
        List<String> executedStatementNames = new ArrayList<>();
        for (FrontendMessage m : batch) {
            switch (m) {
                case FrontendMessage.Parse p -> {
                    parsedHere.put(p.statement(), p.query());
                    preparedStatements.put(p.statement(), p.query());
                }
                case FrontendMessage.Bind b -> portals.put(b.portal(), b);
                case FrontendMessage.Execute e -> {
                    FrontendMessage.Bind b = portals.get(e.portal());
                    String name = b == null ? null : b.statement();
                    String sql = name == null ? null : preparedStatements.get(name);
                    statements.add(sql == null ? "-- execute of unknown portal \"" + e.portal() + "\"" : sql);
                    if (b != null) {
                        executedStatementNames.add(name);
                        parameters.addAll(renderParameters(b.parameterFormats(), b.parameters(), maxParameterBytes));
                    }
                }
                case FrontendMessage.Close c -> {
                    if (c.kind() == 'S') preparedStatements.remove(c.name());
                }
                default -> { }
            }
        }
        // statements prepared here and not executed reach the target too: record them
        parsedHere.forEach((name, sql) -> {
            if (!executedStatementNames.contains(name)) statements.add(sql);
        });
        return new Sql(statements, parameters);
    }

    /** Parameters as text for the record: text format as is, binary as \x hex, each bounded. */
    static List<String> renderParameters(short[] formats, List<byte[]> values, int maxBytes) {
        List<String> out = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            byte[] v = values.get(i);
            if (v == null) {
                out.add(null);
                continue;
            }
            short format = formats.length == 0 ? 0 : formats.length == 1 ? formats[0] : formats[i];
            boolean truncated = v.length > maxBytes;
            int len = Math.min(v.length, maxBytes);
            String text = format == 0
                    ? new String(v, 0, len, StandardCharsets.UTF_8)
                    : "\\x" + HexFormat.of().formatHex(v, 0, len);
            out.add(truncated ? text + "...(truncated, " + v.length + " bytes)" : text);
        }
        return out;
    }
}
