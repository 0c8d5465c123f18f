package dev.gatehouse.deploy.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Renders one session timeline of the audit indexer ({@code GET /api/v1/sessions/{id}}) as a
 * terminal transcript: a header (identity, CI provenance, connection, times), then per command a
 * psql-like prompt with the SQL and its parameters (for a command recorded statement by statement:
 * a simple Query as sent with what it runs through prepared statements and cursors, an extended
 * batch statement by statement, each with its step, statement and portal names, "continued", its
 * via and its own parameters), the refusal by the edge or the decision (denial, approval, masking), the
 * captured result sample as a small table, the command tags or the error with its SQLSTATE; other
 * events as one line each. ANSI colours only when asked for. Pure: returns lines, no I/O.
 */
final class Transcript {
    /** Widest cell of a result table; longer values are cut with "…". */
    static final int CELL_WIDTH = 40;

    private static final String RESET = "\u001b[0m";
    private static final String BOLD = "\u001b[1m";
    private static final String DIM = "\u001b[2m";
    private static final String RED = "\u001b[31m";
    private static final String GREEN = "\u001b[32m";
    private static final String YELLOW = "\u001b[33m";
    private static final String CYAN = "\u001b[36m";

    private final boolean ansi;

    Transcript(boolean ansi) {
        this.ansi = ansi;
    }

    /** The session's header lines. */
    List<String> header(JsonObject session) {
        List<String> lines = new ArrayList<>();
        lines.add(paint(BOLD, "Session " + session.getString("sessionId", "?")) + "  " + session.getString("status", "?")
                + (Boolean.TRUE.equals(session.getBoolean("sealed")) ? "  sealed" : ""));
        JsonObject identity = session.getJsonObject("identity");
        if (identity != null) {
            StringBuilder who = new StringBuilder(identity.getString("subject", "?"));
            JsonArray groups = identity.getJsonArray("groups");
            if (groups != null && !groups.isEmpty()) who.append("  groups ").append(join(groups));
            if (identity.getString("issuer") != null) who.append("  issuer ").append(identity.getString("issuer"));
            lines.add("  who         " + who);
            String chain = SearchFormat.chain(identity);
            if (chain != null) {
                JsonObject delegation = identity.getJsonObject("delegation");
                lines.add("  for         " + delegation.getString("originator") + "  (chain " + chain
                        + ", actor named in " + delegation.getString("via", "?") + ")");
            }
            String intent = SearchFormat.intent(identity.getJsonObject("intent"));
            if (intent != null) lines.add("  intent      " + intent);
            JsonObject ci = identity.getJsonObject("ci");
            if (ci != null) {
                StringBuilder s = new StringBuilder(ci.getString("provider", "ci"));
                field(s, "", ci.getString("repository"));
                field(s, "commit ", ci.getString("commitSha"));
                field(s, "ref ", ci.getString("ref"));
                field(s, "workflow ", ci.getString("workflow"));
                field(s, "job ", ci.getString("job"));
                field(s, "actor ", ci.getString("actor"));
                lines.add("  CI          " + s);
                String run = ci.getString("runUrl") != null ? ci.getString("runUrl") : ci.getString("runId");
                if (run != null) lines.add("  CI run      " + run);
            }
        }
        JsonObject connection = session.getJsonObject("connection");
        if (connection != null) {
            StringBuilder s = new StringBuilder(connection.getString("name", "?"));
            if (connection.getString("database") != null) s.append(" (database ").append(connection.getString("database"))
                    .append(connection.getString("protocol") != null ? ", " + connection.getString("protocol") : "").append(')');
            field(s, "from ", session.getString("clientAddress"));
            field(s, "via edge ", session.getString("edgeId"));
            lines.add("  connection  " + s);
        }
        StringBuilder times = new StringBuilder(SearchFormat.utc(session.getString("startedAt")));
        if (session.getString("endedAt") != null) {
            times.append(" to ").append(SearchFormat.utc(session.getString("endedAt")));
            Duration d = between(session.getString("startedAt"), session.getString("endedAt"));
            if (d != null) times.append(" (").append(human(d)).append(')');
        }
        if (session.getString("closeReason") != null) times.append("  ").append(session.getString("closeReason"));
        lines.add("  time        " + times);
        lines.add("  commands    " + session.getValue("commands", 0) + ", denied " + session.getValue("denied", 0)
                + ", approvals " + session.getValue("approvals", 0) + ", masked " + session.getValue("masked", 0));
        lines.add("");
        return lines;
    }

    /** The lines of one timeline entry; {@code prompt} is the psql-like prompt, e.g. {@code demo=>}. */
    List<String> entry(JsonObject entry, String prompt) {
        return "command".equals(entry.getString("type")) ? command(entry, prompt) : event(entry);
    }

    /** The mark printed for a gap longer than the replay waits, e.g. {@code … 3m elapsed}. */
    String gap(Duration elapsed) {
        return paint(DIM, "… " + human(elapsed) + " elapsed");
    }

    private List<String> event(JsonObject entry) {
        String text = "-- " + clock(entry.getString("at")) + " " + entry.getString("event", "event")
                + (entry.getString("detail") != null ? ": " + entry.getString("detail") : "");
        return List.of(paint(DIM, text));
    }

    private List<String> command(JsonObject c, String prompt) {
        List<String> lines = new ArrayList<>();
        lines.add(paint(DIM, "-- " + clock(c.getString("at", c.getString("receivedAt"))) + " #" + c.getValue("sequence", "?")
                + (c.getString("form") != null ? " " + c.getString("form") : "")));
        List<JsonObject> runs = ReplayExecutor.runs(c);
        if (runs.isEmpty() || "simple".equals(c.getString("form"))) {
            // the text as sent (a simple Query's statements are cut from it), then what it runs beyond that text
            sql(prompt + " ", c.getString("sql", ""), lines);
            if (runs.isEmpty()) parameters("  ", c.getJsonArray("parameters"), lines);
            for (JsonObject run : runs) {
                String how = how(run);
                if (how.isEmpty() && (run.getJsonArray("parameters") == null || run.getJsonArray("parameters").isEmpty())) continue;
                sql("  runs" + (how.isEmpty() ? "" : " (" + how + ")") + ": ", run.getString("sql", ""), lines);
                parameters("    ", run.getJsonArray("parameters"), lines);
            }
        } else {
            // each statement as the target ran it, with its own parameters
            for (JsonObject run : runs) {
                sql(prompt + " ", run.getString("sql", ""), lines);
                String how = how(run);
                if (!how.isEmpty()) lines.add(paint(DIM, "  " + how));
                parameters("  ", run.getJsonArray("parameters"), lines);
            }
        }
        decision(c, lines);
        JsonObject sample = c.getJsonObject("sample");
        if (sample != null) lines.addAll(table(sample));
        outcome(c, lines);
        lines.add("");
        return lines;
    }

    /** {@code lead} and the first line of {@code text}, its further lines indented under it. */
    private void sql(String lead, String text, List<String> lines) {
        String[] sql = text.strip().split("\\R");
        for (int i = 0; i < sql.length; i++) {
            lines.add((i == 0 ? paint(BOLD, lead) : " ".repeat(lead.length())) + sql[i]);
        }
    }

    private static void parameters(String indent, JsonArray parameters, List<String> lines) {
        if (parameters == null || parameters.isEmpty()) return;
        List<String> ps = new ArrayList<>();
        for (int i = 0; i < parameters.size(); i++) {
            Object v = parameters.getValue(i);
            ps.add("$" + (i + 1) + "=" + (v == null ? "NULL" : "'" + String.valueOf(v).replace("'", "''") + "'"));
        }
        lines.add(indent + "parameters: " + String.join("  ", ps));
    }

    /**
     * How a recorded statement runs beyond a plain statement of a simple Query: its step, statement
     * and portal, "continued", its row limit, and the SQL-level statement it came through ({@code via}).
     */
    private static String how(JsonObject run) {
        List<String> how = new ArrayList<>();
        String step = run.getString("step", "");
        if (!step.equals("QUERY")) how.add(step.toLowerCase(Locale.ROOT));
        if (run.getString("statementName") != null) how.add("statement \"" + run.getString("statementName") + "\"");
        if (run.getString("portalName") != null) how.add("portal \"" + run.getString("portalName") + "\"");
        if (Boolean.TRUE.equals(run.getBoolean("continued"))) how.add("continued");
        if (run.getValue("rowLimit") instanceof Number n && n.longValue() > 0) how.add("row limit " + n);
        if (run.getString("via") != null) how.add("via " + run.getString("via").strip().replaceAll("\\s+", " "));
        return String.join(", ", how);
    }

    private void decision(JsonObject c, List<String> lines) {
        JsonObject d = c.getJsonObject("decision");
        JsonObject approval = c.getJsonObject("approval");
        if (c.getString("refusal") != null) {
            lines.add(paint(RED, "  refused by gatehouse: " + c.getString("refusal")));
        }
        if (d != null) {
            String verdict = d.getString("verdict", "?").toLowerCase(Locale.ROOT);
            String rule = d.getString("ruleId", "?");
            String version = d.getValue("policyVersion") != null ? " (policy version " + d.getValue("policyVersion") + ")" : "";
            switch (verdict) {
                case "deny" -> lines.add(paint(RED, "  DENIED by rule " + rule + ": " + d.getString("reason", "(no reason)")
                        + version));
                case "mask" -> lines.add(paint(CYAN, "  MASKED profile " + d.getString("maskProfile", "?") + " by rule " + rule
                        + version));
                case "require_approval" -> lines.add(paint(YELLOW, "  APPROVAL required by rule " + rule + ": "
                        + d.getString("reason", "(no reason)") + version));
                default -> {
                    if (!"default".equals(rule) && d.getString("ruleId") != null) {
                        lines.add(paint(DIM, "  allowed by rule " + rule + version));
                    }
                }
            }
            JsonArray dryRun = d.getJsonArray("dryRun");
            if (dryRun != null && !dryRun.isEmpty()) {
                List<String> would = new ArrayList<>();
                for (Object o : dryRun) {
                    would.add(o instanceof JsonObject v ? v.getString("verdict", "?") + " by rule " + v.getString("ruleId", "?")
                            + (Boolean.TRUE.equals(v.getBoolean("staged")) ? " (staged policy)" : "") : String.valueOf(o));
                }
                lines.add(paint(DIM, "  dry run would have decided: " + String.join(", ", would)));
            }
        }
        if (approval != null) {
            String state = approval.getString("state", "?").toLowerCase(Locale.ROOT);
            StringBuilder s = new StringBuilder("  APPROVAL " + approval.getString("approvalId", "?") + " " + state);
            JsonArray approvers = approval.getJsonArray("approvers");
            if (approvers != null && !approvers.isEmpty()) s.append(", approved by ").append(join(approvers));
            if (approval.getString("deniedBy") != null) s.append(", denied by ").append(approval.getString("deniedBy"));
            if (approval.getString("reason") != null) s.append(": ").append(approval.getString("reason"));
            lines.add(paint(state.contains("grant") || state.contains("approv") ? GREEN : YELLOW, s.toString()));
        }
    }

    private void outcome(JsonObject c, List<String> lines) {
        JsonObject o = c.getJsonObject("outcome");
        if (o == null) {
            JsonObject d = c.getJsonObject("decision");
            if (c.getString("refusal") == null && (d == null || !"deny".equalsIgnoreCase(d.getString("verdict")))) {
                lines.add(paint(YELLOW, "  (no outcome recorded: the command never completed)"));
            }
            return;
        }
        String duration = o.getValue("durationMicros") instanceof Number n ? "  " + millis(n.longValue()) : "";
        if (!Boolean.TRUE.equals(o.getBoolean("forwarded", true))) {
            lines.add(paint(DIM, "  (not forwarded to the target)"));
        }
        JsonArray tags = o.getJsonArray("tags");
        if (tags != null && !tags.isEmpty()) lines.add(paint(GREEN, join(tags)) + paint(DIM, duration));
        if (o.getString("sqlState") != null || o.getString("error") != null) {
            lines.add(paint(RED, "ERROR " + o.getString("sqlState", "?????") + ": " + o.getString("error", "(no message)"))
                    + paint(DIM, duration));
        } else if ((tags == null || tags.isEmpty()) && o.getValue("rows") != null) {
            lines.add(paint(GREEN, "(" + o.getValue("rows") + " rows)") + paint(DIM, duration));
        }
        int statements = ReplayExecutor.runs(c).size();
        if (o.getValue("statementsRun") instanceof Number ran && ran.intValue() < statements) {
            lines.add(paint(YELLOW, "  (" + ran + " of " + statements + " statements ran)"));
        }
        if (o.getJsonObject("masking") != null) lines.add(paint(CYAN, "  masked: " + o.getJsonObject("masking").encode()));
    }

    /** A psql-like table of a captured sample, with truncation and masking marked. */
    List<String> table(JsonObject sample) {
        JsonArray columns = sample.getJsonArray("columns", new JsonArray());
        JsonArray rows = sample.getJsonArray("rows", new JsonArray());
        int n = columns.size();
        int[] width = new int[n];
        List<String[]> cells = new ArrayList<>();
        for (int i = 0; i < n; i++) width[i] = cut(String.valueOf(columns.getValue(i))).length();
        for (Object r : rows) {
            JsonArray row = (JsonArray) r;
            String[] line = new String[n];
            for (int i = 0; i < n; i++) {
                Object v = i < row.size() ? row.getValue(i) : null;
                line[i] = v == null ? "NULL" : cut(String.valueOf(v).replace("\n", "\\n"));
                width[i] = Math.max(width[i], line[i].length());
            }
            cells.add(line);
        }
        List<String> lines = new ArrayList<>();
        if (n == 0) return lines;
        StringBuilder head = new StringBuilder();
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < n; i++) {
            head.append(i == 0 ? " " : " | ").append(pad(cut(String.valueOf(columns.getValue(i))), width[i]));
            rule.append(i == 0 ? "-" : "-+-").append("-".repeat(width[i]));
        }
        lines.add(head.toString().stripTrailing());
        lines.add(rule.append('-').toString());
        for (String[] line : cells) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < n; i++) s.append(i == 0 ? " " : " | ").append(pad(line[i], width[i]));
            lines.add(s.toString().stripTrailing());
        }
        StringBuilder foot = new StringBuilder("(" + rows.size() + (rows.size() == 1 ? " row" : " rows") + " captured");
        if (Boolean.TRUE.equals(sample.getBoolean("truncated"))) {
            foot.append("; TRUNCATED: the result had more rows or bytes than the capture limit");
        }
        if (Boolean.TRUE.equals(sample.getBoolean("masked"))) foot.append("; masked");
        lines.add(paint(Boolean.TRUE.equals(sample.getBoolean("truncated")) ? YELLOW : DIM, foot.append(')').toString()));
        return lines;
    }

    /** {@code 3m}, {@code 1h05m}, {@code 12s}, {@code 2d3h}. */
    static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 60) return s + "s";
        if (s < 3600) return (s / 60) + "m" + (s % 60 == 0 ? "" : String.format("%02ds", s % 60));
        if (s < 86400) return (s / 3600) + "h" + String.format("%02dm", (s % 3600) / 60);
        return (s / 86400) + "d" + ((s % 86400) / 3600) + "h";
    }

    static Duration between(String from, String to) {
        try {
            return from == null || to == null ? null : Duration.between(Instant.parse(from), Instant.parse(to));
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static String clock(String at) {
        String utc = SearchFormat.utc(at);
        return utc.length() == 20 ? utc.substring(11, 19) + "Z" : utc;
    }

    private static String millis(long micros) {
        return micros < 1000 ? micros + " µs" : String.format(Locale.ROOT, "%.1f ms", micros / 1000.0);
    }

    private static String cut(String s) {
        return s.length() <= CELL_WIDTH ? s : s.substring(0, CELL_WIDTH - 1) + "…";
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(Math.max(0, width - s.length()));
    }

    private static String join(JsonArray a) {
        List<String> s = new ArrayList<>();
        a.forEach(v -> s.add(v instanceof JsonObject o ? o.encode() : String.valueOf(v)));
        return String.join(", ", s);
    }

    private static void field(StringBuilder s, String label, String value) {
        if (value != null && !value.isBlank()) s.append("  ").append(label).append(value);
    }

    private String paint(String colour, String text) {
        return ansi ? colour + text + RESET : text;
    }
}
