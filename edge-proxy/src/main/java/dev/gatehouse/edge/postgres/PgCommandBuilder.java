package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.edge.session.Refusal;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.ParsedStatement;
import dev.gatehouse.platform.core.SessionEffect;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Turns one unit of client input (a simple Query, an extended-protocol batch up to Sync or Flush,
 * a FunctionCall) into the command the core records and decides: every statement exactly as the
 * target will run it, and what the target will answer to each forwarded message with what that
 * does to the session.
 *
 * <p>The unit is played against a speculative copy of the session model, message by message, as
 * the backend would run it if every message succeeded: an Execute runs the text its portal was
 * bound to (fixed at Bind, after any re-Parse of the statement), an {@code EXECUTE p(...)} the
 * prepared statement with its arguments, a {@code FETCH} its cursor's query. Since the target
 * skips the rest of a batch after an error, what runs is a prefix of what is recorded. What the
 * edge cannot tie to analysed SQL is refused, never "unknown, so allowed":
 * <ul>
 *   <li>a Bind of a prepared statement, an Execute of a portal, an {@code EXECUTE}, {@code FETCH}
 *       or {@code MOVE} of a name the session does not have (as the edge tracks it);</li>
 *   <li>a change of a pinned setting ({@code standard_conforming_strings},
 *       {@code client_encoding}) other than back to its pinned value;</li>
 *   <li>in the same pipeline after statements that ran server-side code (which may have changed
 *       how the target lexes), a Parse whose text holds a backslash or a non-ASCII character: only
 *       such text lexes differently under another {@code standard_conforming_strings} or client
 *       encoding.</li>
 * </ul>
 * Not thread-safe; one build at a time, on the session's event loop.
 */
final class PgCommandBuilder {

    /** The settings the edge pins in the upstream startup packet, and their values. */
    static final Map<String, String> PINNED = Map.of("standard_conforming_strings", "on", "client_encoding", "UTF8");

    /** Resolves a statement's names as the target would, under a search_path (null: unknown). */
    @FunctionalInterface
    interface Resolver {
        StatementAnalysis resolve(StatementAnalysis raw, List<String> searchPath, boolean tempTables);

        Resolver AS_WRITTEN = (raw, path, temp) -> raw;
    }

    /** The command a unit makes, and what to expect from the target when it is forwarded. */
    record Plan(List<CommandStatement> statements, List<PgExpected> expected, Refusal refusal, boolean executes,
                boolean parseable, String parseError, String fingerprint, Set<String> tablesRead, boolean runsCode,
                boolean copyTo) {
    }

    private final int maxParameterBytes;

    /** The end of the catalog resolver's reason for a relation it does not know. */
    static final String MISSING_RELATION = " is not in the target's catalog";
    /** Statements that create the relation they write. */
    private static final java.util.Set<String> CREATING_TAGS = java.util.Set.of("CREATE TABLE", "CREATE TABLE AS",
            "SELECT INTO", "CREATE VIEW", "CREATE MATERIALIZED VIEW", "CREATE SEQUENCE", "CREATE FOREIGN TABLE");

    /** A relation's own name, without schema or database, quotes removed. */
    static String bare(String name) {
        String n = name.replace("\"", "");
        int dot = n.lastIndexOf('.');
        return (dot >= 0 ? n.substring(dot + 1) : n).toLowerCase(Locale.ROOT);
    }

    PgCommandBuilder(int maxParameterBytes) {
        this.maxParameterBytes = maxParameterBytes;
    }

    // ---------------------------------------------------------------- the units

    /** A simple Query: its statements cut from the text, each as the target runs it. */
    Plan query(String text, ParsedSql parsed, PgSessionModel model, Resolver resolver) {
        Build b = new Build(model.copy(), resolver);
        // after a Flush, code of the same pipeline may have changed how the target lexes this text
        if (b.spec.codeRanInPipeline && lexingSensitive(text)) b.refuse(LEXING_AFTER_CODE);
        b.spec.simpleQueryStarts();
        b.note(parsed);
        List<Consumer<PgSessionModel>> perStatement = new ArrayList<>();
        if (!parsed.analysis().parseable()) {
            b.add(CommandStatement.query(text, StatementAnalysis.unknown("UNPARSEABLE", "the SQL could not be parsed: "
                    + parsed.analysis().parseError())));
        }
        for (ParsedStatement st : parsed.statements()) {
            String sql = st.text(text);
            Step step = b.statement(new PgSessionModel.PgStatement(sql, st.analysis(), st.effect()), null,
                    CommandStatement.Step.QUERY, sql, text);
            perStatement.add(step.onSuccess());
        }
        int first = b.statements.isEmpty() ? -1 : 0;
        b.expected.add(new PgExpected.Query(perStatement, parsed.analysis().parseable() ? first : -1, false));
        return b.plan(true);
    }

    /** A FunctionCall: code chosen by OID, nothing to analyse. */
    Plan functionCall(FrontendMessage.FunctionCall f, PgSessionModel model) {
        Build b = new Build(model.copy(), Resolver.AS_WRITTEN);
        StatementAnalysis analysis = new StatementAnalysis(StatementKind.UNKNOWN, "FUNCTION CALL", null, List.of(), List.of(),
                List.of("oid:" + Integer.toUnsignedString(f.functionOid())), false, true, true,
                List.of("calls the function with OID " + Integer.toUnsignedString(f.functionOid())
                        + " through the FunctionCall message: what it does is not analysed"), List.of(), List.of());
        b.add(new CommandStatement(CommandStatement.Step.FUNCTION_CALL, "-- FunctionCall oid=" + Integer.toUnsignedString(f.functionOid()),
                null, null, PgArguments.render(f.argumentFormats(), f.arguments(), maxParameterBytes),
                PgArguments.digest(f.argumentFormats(), f.arguments()), 0, false, null, analysis));
        b.ranCode();
        b.expected.add(new PgExpected.FunctionCall(b.confirm(), 0, false));
        return b.plan(true);
    }

    /**
     * An extended-protocol batch, its terminator (Sync or Flush) last. {@code parsed} holds the
     * parse of every Parse text of the batch.
     */
    Plan batch(List<FrontendMessage> messages, Map<String, ParsedSql> parsed, PgSessionModel model, Resolver resolver) {
        Build b = new Build(model.copy(), resolver);
        boolean executes = false;
        for (int i = 0; i < messages.size() && b.refusal == null; i++) {
            FrontendMessage m = messages.get(i);
            switch (m) {
                case FrontendMessage.Parse p -> {
                    ParsedSql sql = parsed.get(p.query());
                    b.note(sql);
                    if (b.spec.codeRanInPipeline && lexingSensitive(p.query())) {
                        b.refuse(LEXING_AFTER_CODE);
                        break;
                    }
                    var prepared = new PgSessionModel.Prepared(p.statement(), p.query(), statementsOf(p.query(), sql), false,
                            p.query());
                    b.spec.statements.put(p.statement(), prepared);
                    b.expected.add(new PgExpected.Parse(mm -> mm.statements.put(prepared.name(), prepared)));
                }
                case FrontendMessage.Bind bind -> {
                    executes = true;
                    PgSessionModel.Prepared prepared = b.spec.statements.get(bind.statement());
                    if (prepared == null) {
                        b.refuse(new Refusal(Refusal.Kind.EDGE, "gatehouse: prepared statement \"" + bind.statement()
                                + "\" does not exist", "Gatehouse binds only statements it saw prepared in this session",
                                "26000"));
                        break;
                    }
                    List<PgSessionModel.PgStatement> resolved = new ArrayList<>();
                    for (PgSessionModel.PgStatement st : prepared.statements()) {
                        resolved.add(new PgSessionModel.PgStatement(st.sql(), b.resolve(st.analysis()), st.effect()));
                    }
                    var portal = new PgSessionModel.Portal(bind.portal(), bind.statement(), prepared.sql(), resolved,
                            PgArguments.render(bind.parameterFormats(), bind.parameters(), maxParameterBytes),
                            PgArguments.digest(bind.parameterFormats(), bind.parameters()), bind.resultFormats(), false,
                            false, false, b.spec.txSerial, prepared.serverText());
                    int index = -1;
                    if (!executedLater(messages, i, bind.portal())) {
                        // planned (where functions may run) but not executed in this batch: recorded as a bind
                        for (PgSessionModel.PgStatement st : resolved) {
                            index = b.add(new CommandStatement(CommandStatement.Step.BIND, st.sql(), bind.statement(),
                                    bind.portal(), portal.parameters(), portal.digest(), 0, false, null, st.analysis()));
                            if (st.analysis().runsCode()) b.ranCode();
                        }
                    }
                    b.effect(mm -> mm.portals.put(portal.name(), portal));
                    b.expected.add(new PgExpected.Bind(b.confirm(), index));
                }
                case FrontendMessage.Describe d -> b.expected.add(new PgExpected.Describe(d.kind() == PgProtocol.TARGET_STATEMENT));
                case FrontendMessage.Execute e -> {
                    executes = true;
                    PgSessionModel.Portal portal = b.spec.portals.get(e.portal());
                    if (portal == null) {
                        b.refuse(new Refusal(Refusal.Kind.EDGE, "gatehouse: portal \"" + e.portal() + "\" does not exist",
                                "Gatehouse executes only portals it saw bound in this session", "34000"));
                        break;
                    }
                    b.executePortal(portal, e.maxRows());
                }
                case FrontendMessage.Close c -> {
                    String name = c.name();
                    if (c.kind() == PgProtocol.TARGET_STATEMENT) {
                        b.spec.statements.remove(name);
                        b.expected.add(new PgExpected.Close(mm -> mm.statements.remove(name)));
                    } else {
                        b.spec.portals.remove(name);
                        b.expected.add(new PgExpected.Close(mm -> mm.portals.remove(name)));
                    }
                }
                case FrontendMessage.Sync s -> b.expected.add(new PgExpected.Sync());
                case FrontendMessage.Flush f -> { }
                default -> throw new IllegalArgumentException("not an extended-protocol message: " + m.getClass().getSimpleName());
            }
        }
        return b.plan(executes);
    }

    /** Whether an Execute of {@code portal} follows message {@code index} in the batch. */
    private static boolean executedLater(List<FrontendMessage> messages, int index, String portal) {
        for (int j = index + 1; j < messages.size(); j++) {
            FrontendMessage m = messages.get(j);
            if (m instanceof FrontendMessage.Execute e && e.portal().equals(portal)) return true;
            if (m instanceof FrontendMessage.Bind b && b.portal().equals(portal)) return false;
            if (m instanceof FrontendMessage.Close c && c.kind() == PgProtocol.TARGET_PORTAL && c.name().equals(portal)) return false;
        }
        return false;
    }

    /**
     * A Parse text's statements as parsed (an unparseable text is one statement nothing is known
     * about). A text of one statement is recorded whole, as the target logs it (a trailing
     * semicolon, comments and all).
     */
    static List<PgSessionModel.PgStatement> statementsOf(String text, ParsedSql parsed) {
        if (parsed == null || !parsed.analysis().parseable()) {
            String why = parsed == null ? "not analysed" : parsed.analysis().parseError();
            return List.of(new PgSessionModel.PgStatement(text, StatementAnalysis.unknown("UNPARSEABLE",
                    "the SQL could not be parsed: " + why), null));
        }
        if (parsed.statements().size() == 1) {
            ParsedStatement st = parsed.statements().getFirst();
            return List.of(new PgSessionModel.PgStatement(text, st.analysis(), st.effect()));
        }
        List<PgSessionModel.PgStatement> out = new ArrayList<>();
        for (ParsedStatement st : parsed.statements()) {
            out.add(new PgSessionModel.PgStatement(st.text(text), st.analysis(), st.effect()));
        }
        return out;
    }

    /**
     * Why a statement is refused after an uncommitted change of the catalog in its transaction (or
     * earlier in its command): the edge decides on the committed catalog, and the session now sees
     * another one (a function's new body, a new trigger, a renamed table).
     */
    private static final Refusal AFTER_CATALOG_CHANGE = new Refusal(Refusal.Kind.EDGE, "gatehouse: this statement"
            + " cannot run in the same transaction after a schema change that is not committed yet (a function,"
            + " trigger, rule, view or name changed): Gatehouse decides on the committed schema",
            "commit the schema change first, then run the statement in a transaction of its own; within the"
                    + " transaction only further schema changes and COMMIT or ROLLBACK are accepted",
            PgProtocol.FEATURE_NOT_SUPPORTED);

    /** Statements that create something new that carries no code and changes no existing object's meaning. */
    private static final Set<String> NEUTRAL_CREATIONS = Set.of("CREATE TABLE", "CREATE TABLE AS", "SELECT INTO",
            "CREATE SEQUENCE", "CREATE SCHEMA", "CREATE INDEX", "COMMENT", "GRANT", "REVOKE");

    /**
     * Whether a statement may change what the edge's catalog says about the statements after it in
     * the same transaction: DDL and DCL (but new tables, sequences, schemas and indexes, comments and
     * privileges), DO blocks and CALL (their code may run DDL). A new table that is a partition or
     * child of another one changes where writes go: that counts (read from the text, a mention in
     * a string too).
     */
    static boolean changesCatalogForLaterStatements(StatementAnalysis analysis, String sql) {
        if (!mayChangeCatalog(analysis)) return false;
        String tag = String.valueOf(analysis.tag());
        if (!NEUTRAL_CREATIONS.contains(tag)) return true;
        String upper = sql.toUpperCase(Locale.ROOT);
        return tag.equals("CREATE TABLE") && (upper.contains("PARTITION") || upper.contains("INHERITS"));
    }

    /** Whether a statement may change what the target's catalog says: DDL, DCL, and DO and CALL (their code may run DDL). */
    static boolean mayChangeCatalog(StatementAnalysis analysis) {
        String tag = String.valueOf(analysis.tag());
        return analysis.kind() == StatementKind.DDL || analysis.kind() == StatementKind.DCL
                || "DO".equals(tag) || "CALL".equals(tag);
    }

    /**
     * Whether a statement is decided correctly on the committed catalog after an uncommitted
     * change: transaction control, settings, and DDL or DCL that runs no code (decided as what they are).
     */
    static boolean decidableAfterCatalogChange(StatementAnalysis analysis) {
        return switch (analysis.kind()) {
            case TRANSACTION -> true;
            // SET, SHOW, RESET and the like: nothing of the catalog involved
            case UTILITY -> analysis.tablesRead().isEmpty() && analysis.tablesWritten().isEmpty()
                    && analysis.functions().isEmpty() && !analysis.runsCode();
            case DDL, DCL -> !analysis.runsCode();
            default -> false;
        };
    }

    /** Why a text that lexes differently under other settings is refused after code in its pipeline. */
    private static final Refusal LEXING_AFTER_CODE = new Refusal(Refusal.Kind.EDGE, "gatehouse: a statement with a"
            + " backslash or a non-ASCII character cannot follow, in the same pipeline, a statement that ran server-side code",
            "code may have changed how the target reads the text (standard_conforming_strings, client_encoding);"
                    + " send it after a Sync", PgProtocol.FEATURE_NOT_SUPPORTED);

    /** Whether a text could lex differently under another standard_conforming_strings or client encoding. */
    static boolean lexingSensitive(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' || c > 0x7f) return true;
        }
        return false;
    }

    /** Whether a value means "on" for a boolean setting, as PostgreSQL parses it. */
    static boolean isOn(String value) {
        if (value == null) return false;
        String v = value.trim().toLowerCase(Locale.ROOT);
        return v.equals("on") || v.equals("true") || v.equals("yes") || v.equals("1") || v.equals("t") || v.equals("y");
    }

    /** Whether a value names PostgreSQL's UTF8 encoding (its aliases included). */
    static boolean isUtf8(String value) {
        if (value == null) return false;
        String v = value.trim().replace("'", "").replace("\"", "").toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return v.equals("utf8") || v.equals("unicode");
    }

    /** Whether {@code value} is the pinned value of setting {@code name}. */
    static boolean pinnedValue(String name, String value) {
        return name.equals("client_encoding") ? isUtf8(value) : isOn(value);
    }

    /** Splits a search_path as the target shows it ({@code "$user", public}) into its items. */
    static List<String> searchPathItems(String value) {
        return dev.gatehouse.edge.postgres.catalog.SearchPath.split(value);
    }

    /** One statement's record and what it does to the session once it ran. */
    private record Step(int index, Consumer<PgSessionModel> onSuccess) {
    }

    /** The state of one build. */
    private final class Build {
        final PgSessionModel spec;
        final Resolver resolver;
        final List<CommandStatement> statements = new ArrayList<>();
        final List<PgExpected> expected = new ArrayList<>();
        final Set<String> tablesRead = new LinkedHashSet<>();
        /** Effects of the statement being built, applied to the confirmed model when it completes. */
        List<Consumer<PgSessionModel>> effects = new ArrayList<>();
        Refusal refusal;
        boolean parseable = true;
        String parseError;
        List<String> fingerprints = new ArrayList<>();
        boolean runsCode;
        boolean copyTo;

        Build(PgSessionModel spec, Resolver resolver) {
            this.spec = spec;
            this.resolver = resolver;
        }

        void note(ParsedSql parsed) {
            if (parsed == null) {
                parseable = false;
                parseError = parseError == null ? "not analysed" : parseError;
                return;
            }
            if (!parsed.analysis().parseable()) {
                parseable = false;
                if (parseError == null) parseError = parsed.analysis().parseError();
            } else if (parsed.analysis().fingerprint() != null) {
                fingerprints.add(parsed.analysis().fingerprint());
            }
        }

        void refuse(Refusal why) {
            if (refusal == null) refusal = why;
        }

        int add(CommandStatement statement) {
            statements.add(statement);
            tablesRead.addAll(statement.analysis().tablesRead());
            if ("COPY".equals(statement.analysis().tag()) && statement.analysis().tablesWritten().isEmpty()) copyTo = true;
            return statements.size() - 1;
        }

        StatementAnalysis resolve(StatementAnalysis raw) {
            StatementAnalysis resolved = resolver.resolve(raw, spec.searchPath, spec.tempTables);
            if (createdHere.isEmpty() || resolved.uncertainty().isEmpty()) return resolved;
            // a relation an earlier statement of this unit creates is not in the catalog yet, and is known
            List<String> reasons = resolved.uncertainty().stream().filter(reason -> !createdEarlier(reason)).toList();
            if (reasons.size() == resolved.uncertainty().size()) return resolved;
            return new StatementAnalysis(resolved.kind(), resolved.tag(), resolved.objectType(), resolved.tablesRead(),
                    resolved.tablesWritten(), resolved.functions(), resolved.missingWhere(), resolved.runsCode(),
                    !reasons.isEmpty(), reasons, resolved.settings(), resolved.filterColumns());
        }

        /** Relations (bare names) that statements of this unit create, as far as built. */
        final java.util.Set<String> createdHere = new java.util.HashSet<>();

        private boolean createdEarlier(String reason) {
            if (!reason.startsWith("relation ") || !reason.endsWith(MISSING_RELATION)) return false;
            return createdHere.contains(bare(reason.substring("relation ".length(), reason.length() - MISSING_RELATION.length())));
        }

        /** Notes the relations a creating statement makes, for the statements after it. */
        void noteCreated(StatementAnalysis analysis) {
            if (!CREATING_TAGS.contains(String.valueOf(analysis.tag()))) return;
            analysis.tablesWritten().forEach(name -> createdHere.add(bare(name)));
        }

        /** Takes the effects gathered for the statement just built, as one confirmation. */
        Consumer<PgSessionModel> confirm() {
            List<Consumer<PgSessionModel>> taken = effects;
            effects = new ArrayList<>();
            return taken.isEmpty() ? PgExpected.NOTHING : mm -> taken.forEach(e -> e.accept(mm));
        }

        /** Applies an effect to the speculative model now and to the confirmed one when the statement completes. */
        void effect(Consumer<PgSessionModel> change) {
            change.accept(spec);
            effects.add(change);
        }

        void ranCode() {
            runsCode = true;
            effect(mm -> {
                mm.codeRanInPipeline = true;
                mm.namesUncertain = true;
                mm.tempTables = true;
                mm.searchPathUnknown();
            });
        }

        /**
         * What a statement's analysis says about the session beyond its effect: code ran, settings
         * changed in a way the edge cannot follow ({@code set_config}), temporary tables created.
         */
        void noteCode(StatementAnalysis analysis, SessionEffect effect) {
            if (analysis.runsCode()) ranCode();
            if (!(effect instanceof SessionEffect.Setting) && !(effect instanceof SessionEffect.Discard)
                    && (analysis.settings().contains("*") || analysis.settings().contains("search_path"))) {
                effect(PgSessionModel::searchPathUnknown);
            }
            if (analysis.settings().contains("*")) {
                // settings the analyser cannot name may have changed, those the lexer depends on too
                effect(mm -> mm.codeRanInPipeline = true);
            }
            for (String written : analysis.tablesWritten()) {
                if (written.startsWith("pg_temp.") || written.startsWith("pg_temp_")) {
                    effect(mm -> mm.tempTables = true);
                    break;
                }
            }
        }

        /**
         * One statement as the session runs it: a statement of a Query, or the statement of a
         * portal being executed ({@code portal} non-null, already resolved). Returns its index in
         * the command and what confirms it.
         */
        Step statement(PgSessionModel.PgStatement st, PgSessionModel.Portal portal, CommandStatement.Step kind, String via,
                       String source) {
            StatementAnalysis analysis = portal == null ? resolve(st.analysis()) : st.analysis();
            String sql = st.sql();
            String statementName = portal == null ? null : portal.statementName();
            String portalName = portal == null ? null : portal.name();
            List<String> parameters = portal == null ? List.of() : portal.parameters();
            String digest = portal == null ? null : portal.digest();
            boolean continued = portal != null && portal.ran();
            String viaText = null;
            SessionEffect effect = st.effect();
            switch (effect) {
                case null -> { }
                case SessionEffect.Execute x -> {
                    PgSessionModel.Prepared prepared = spec.statements.get(x.name());
                    if (prepared == null || prepared.statements().size() != 1) {
                        refuse(new Refusal(Refusal.Kind.EDGE, "gatehouse: prepared statement \"" + x.name()
                                + "\" does not exist", "Gatehouse executes only statements it saw prepared in this session",
                                "26000"));
                        return new Step(-1, PgExpected.NOTHING);
                    }
                    PgSessionModel.PgStatement inner = prepared.statements().getFirst();
                    if (inner.effect() != null) {
                        refuse(new Refusal(Refusal.Kind.EDGE, "gatehouse: EXECUTE of a prepared statement that itself"
                                + " changes the session (" + inner.analysis().tag() + ") is not supported", null, "0A000"));
                        return new Step(-1, PgExpected.NOTHING);
                    }
                    analysis = merge(analysis, resolve(inner.analysis()), resolve(x.argumentsAnalysis()));
                    viaText = via;
                    sql = inner.sql();
                    statementName = x.name();
                    parameters = x.arguments();
                    digest = PgArguments.digestOfTexts(x.arguments());
                }
                case SessionEffect.Fetch f -> {
                    PgSessionModel.Portal cursor = spec.portals.get(f.name());
                    if (cursor == null || cursor.statements().size() != 1) {
                        refuse(new Refusal(Refusal.Kind.EDGE, "gatehouse: cursor \"" + f.name() + "\" does not exist",
                                "Gatehouse fetches only from cursors it saw declared in this session", "34000"));
                        return new Step(-1, PgExpected.NOTHING);
                    }
                    StatementAnalysis query = cursor.statements().getFirst().analysis();
                    analysis = merge(analysis, query);
                    viaText = via;
                    sql = cursor.sql();
                    statementName = cursor.statementName();
                    portalName = f.name();
                    parameters = cursor.parameters();
                    digest = cursor.digest();
                    continued = cursor.ran();
                    String name = f.name();
                    effect(mm -> mm.portals.computeIfPresent(name, (k, p) -> p.run()));
                }
                case SessionEffect.Prepare p -> {
                    var prepared = new PgSessionModel.Prepared(p.name(), p.sql(),
                            List.of(new PgSessionModel.PgStatement(p.sql(), p.statement(), null)), true, source);
                    effect(mm -> mm.statements.put(prepared.name(), prepared));
                }
                case SessionEffect.Deallocate d -> {
                    String name = d.name();
                    effect(mm -> {
                        if (name == null) mm.statements.keySet().removeIf(k -> !k.isEmpty());
                        else mm.statements.remove(name);
                    });
                }
                case SessionEffect.Declare d -> {
                    StatementAnalysis query = resolve(d.query());
                    analysis = merge(analysis, query);
                    var cursor = new PgSessionModel.Portal(d.name(), null, d.sql(),
                            List.of(new PgSessionModel.PgStatement(d.sql(), query, null)), List.of(), null,
                            d.binary() ? new short[]{1} : new short[0], true, d.hold(), false, spec.txSerial, source);
                    effect(mm -> mm.portals.put(cursor.name(), new PgSessionModel.Portal(cursor.name(), null, cursor.sql(),
                            cursor.statements(), List.of(), null, cursor.resultFormats(), true, cursor.hold(), false, mm.txSerial,
                            cursor.serverText())));
                }
                case SessionEffect.ClosePortal c -> {
                    String name = c.name();
                    effect(mm -> {
                        if (name == null) mm.portals.clear();
                        else mm.portals.remove(name);
                    });
                }
                case SessionEffect.Discard d -> {
                    switch (d.what()) {
                        case "ALL" -> effect(PgSessionModel::discardAll);
                        case "TEMP" -> effect(mm -> mm.tempTables = false);
                        default -> { }
                    }
                }
                case SessionEffect.Setting s -> {
                    if (s.name().equals("search_path")) {
                        List<String> value = s.reset() || s.value() == null ? null : searchPathItems(s.value());
                        boolean local = s.local();
                        effect(mm -> mm.searchPathSet(value, local));
                    } else if (s.name().equals("*")) {
                        effect(mm -> mm.searchPathSet(null, false));
                    }
                }
            }
            if (spec.catalogChangedInTx && !decidableAfterCatalogChange(analysis)) {
                refuse(AFTER_CATALOG_CHANGE);
                return new Step(-1, PgExpected.NOTHING);
            }
            noteCode(analysis, effect);
            checkPinned(analysis, effect);
            noteCreated(analysis);
            if (changesCatalogForLaterStatements(analysis, sql)) effect(mm -> mm.catalogChangedInTx = true);
            int index = add(new CommandStatement(kind, sql, statementName, portalName, parameters, digest,
                    0, continued, viaText, analysis));
            return new Step(index, confirm());
        }

        /** An Execute of a portal: each statement of its text (one, unless the target will refuse it). */
        void executePortal(PgSessionModel.Portal portal, int maxRows) {
            String name = portal.name();
            List<Consumer<PgSessionModel>> confirmations = new ArrayList<>();
            int first = -1;
            for (PgSessionModel.PgStatement st : portal.statements()) {
                Step step = statement(st, portal, CommandStatement.Step.EXECUTE, st.sql(), portal.serverText());
                if (refusal != null) return;
                if (first < 0) first = step.index();
                confirmations.add(step.onSuccess());
                // the row limit belongs to the Execute
                CommandStatement s = statements.get(step.index());
                statements.set(step.index(), new CommandStatement(s.step(), s.sql(), s.statementName(), s.portalName(),
                        s.parameters(), s.parametersDigest(), maxRows, s.continued(), s.via(), s.analysis()));
            }
            if (portal.statements().isEmpty()) {
                first = add(new CommandStatement(CommandStatement.Step.EXECUTE, portal.sql(), portal.statementName(), name,
                        portal.parameters(), portal.digest(), maxRows, portal.ran(), null,
                        new StatementAnalysis(StatementKind.UTILITY, "EMPTY", null, List.of(), List.of(), List.of(), false)));
            }
            spec.portals.put(name, portal.run());
            Consumer<PgSessionModel> ran = mm -> mm.portals.computeIfPresent(name, (k, p) -> p.run());
            confirmations.add(ran);
            expected.add(new PgExpected.Execute(mm -> confirmations.forEach(c -> c.accept(mm)), ran, first));
        }

        /**
         * A statement's changes of pinned settings: an explicit change of one (SET, set_config with its
         * name, ALTER ROLE/DATABASE/SYSTEM ... SET, a function's SET clause) is refused unless back to
         * the pinned value (a plain SET to it, RESET, RESET ALL, DISCARD ALL: the startup values are
         * the pinned ones). A change of settings the analyser cannot name ({@code set_config} with a
         * computed name, as pg_dump uses) is not refused: the target reports a pinned setting's
         * every change (ParameterStatus), which ends the session, and until the pipeline's
         * ReadyForQuery no text that would lex differently may follow ({@link #noteCode}).
         */
        void checkPinned(StatementAnalysis analysis, SessionEffect effect) {
            for (String name : analysis.settings()) {
                if (!PINNED.containsKey(name)) continue;
                boolean back = switch (effect) {
                    case SessionEffect.Setting s -> s.reset() || (s.name().equals(name) && pinnedValue(name, s.value()));
                    case SessionEffect.Discard d -> d.what().equals("ALL");
                    case null, default -> false;
                };
                if (back) continue;
                refuse(new Refusal(Refusal.Kind.EDGE, "gatehouse: " + name + " is fixed to " + PINNED.get(name)
                        + " in sessions through Gatehouse and cannot be changed",
                        "Gatehouse reads SQL exactly as the target does only with these settings", "55P02"));
                return;
            }
        }

        Plan plan(boolean executes) {
            String fingerprint = fingerprints.isEmpty() ? null : String.join("+", new LinkedHashSet<>(fingerprints));
            return new Plan(statements, expected, refusal, executes, parseable, parseError, fingerprint, tablesRead,
                    runsCode, copyTo);
        }
    }

    /** The union of what several analyses read, write and call; the first one's kind and tag. */
    static StatementAnalysis merge(StatementAnalysis outer, StatementAnalysis... inner) {
        StatementKind kind = outer.kind();
        String tag = outer.tag();
        String objectType = outer.objectType();
        Set<String> read = new LinkedHashSet<>(outer.tablesRead());
        Set<String> written = new LinkedHashSet<>(outer.tablesWritten());
        Set<String> functions = new LinkedHashSet<>(outer.functions());
        Set<String> settings = new LinkedHashSet<>(outer.settings());
        Set<String> filters = new LinkedHashSet<>(outer.filterColumns());
        List<String> uncertainty = new ArrayList<>();
        boolean missingWhere = outer.missingWhere();
        boolean runsCode = outer.runsCode();
        boolean replacesOuter = "EXECUTE".equals(tag) || "FETCH".equals(tag) || "MOVE".equals(tag)
                || kind == StatementKind.UNKNOWN;
        if (!replacesOuter) uncertainty.addAll(outer.uncertainty());
        boolean first = true;
        for (StatementAnalysis a : inner) {
            if (first && replacesOuter) {
                kind = a.kind();
                tag = a.tag();
                objectType = a.objectType();
            } else if (a.kind() == StatementKind.WRITE && kind == StatementKind.READ) {
                kind = StatementKind.WRITE;
            }
            first = false;
            read.addAll(a.tablesRead());
            written.addAll(a.tablesWritten());
            functions.addAll(a.functions());
            settings.addAll(a.settings());
            filters.addAll(a.filterColumns());
            for (String u : a.uncertainty()) if (!uncertainty.contains(u)) uncertainty.add(u);
            missingWhere |= a.missingWhere();
            runsCode |= a.runsCode();
        }
        return new StatementAnalysis(kind, tag, objectType, List.copyOf(read), List.copyOf(written), List.copyOf(functions),
                missingWhere, runsCode, !uncertainty.isEmpty(), uncertainty, List.copyOf(settings), List.copyOf(filters));
    }
}
