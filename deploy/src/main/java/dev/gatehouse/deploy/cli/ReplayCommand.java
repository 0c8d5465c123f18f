package dev.gatehouse.deploy.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code gatehouse replay SESSION}: a recorded session from the audit indexer, as a terminal
 * transcript with its original timing (at a speed, or step by step), or, with {@code --execute},
 * re-run against a scratch database and compared statement by statement with the recording.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Replay a recorded session from the audit indexer: as a transcript with its original timing, "
                + "or with --execute re-run its forwarded statements against a SCRATCH database and report, statement by "
                + "statement, where the outcome differs from the recording (exit code " + ReplayCommand.DIFFERS
                + " when any differs).")
final class ReplayCommand implements Callable<Integer> {
    private static final Logger LOGGER = LoggerFactory.getLogger(ReplayCommand.class);

    /** The exit code when at least one replayed statement's outcome differs from the recording. */
    static final int DIFFERS = 6;

    /** How the transcript waits between entries. */
    interface Pacer {
        /** Waits (for the given time, or for the user). */
        void pause(Duration wait) throws InterruptedException;
    }

    /** Whether to colour the transcript. */
    enum Colour { auto, always, never }

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    AdminClient.IndexerOptions indexer = new AdminClient.IndexerOptions();

    @Parameters(index = "0", paramLabel = "SESSION", description = "The session id (see gatehouse audit search).")
    String session;
    @Option(names = "--speed", defaultValue = "1.0", description = "Replay speed: 1.0 is the original timing, 10 ten times "
            + "faster (default: ${DEFAULT-VALUE}). Gaps longer than 5 s are announced, not waited for.")
    double speed;
    @Option(names = "--step", description = "Wait for Enter between entries.")
    boolean step;
    @Option(names = "--no-wait", description = "Print the whole transcript at once.")
    boolean noWait;
    @Option(names = "--color", defaultValue = "auto", description = "Colours: auto (when writing to a terminal), always, never.")
    Colour colour;
    @Option(names = "--execute", description = "Re-run the recorded statements against --target and compare the outcomes.")
    boolean execute;
    @Option(names = "--target", description = "With --execute: the scratch database, jdbc:postgresql://host:port/db or "
            + "postgresql://user@host:port/db.")
    String target;
    @Option(names = "--target-user", description = "With --execute: the database user.")
    String targetUser;
    @Option(names = "--target-password-env", paramLabel = "VAR",
            description = "With --execute: the environment variable holding the database password.")
    String targetPasswordEnv;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (execute && target == null) {
            throw new IllegalArgumentException("--execute needs --target: the scratch database to run the recorded statements on");
        }
        if (!execute && (target != null || targetUser != null || targetPasswordEnv != null)) {
            throw new IllegalArgumentException("--target, --target-user and --target-password-env need --execute");
        }
        if (!(speed > 0) || Double.isInfinite(speed)) throw new IllegalArgumentException("--speed must be a positive number");
        ReplayTarget scratch = execute ? ReplayTarget.parse(target, targetUser, password()) : null;
        JsonObject timeline;
        try {
            timeline = AdminClient.indexer(indexer).get("/sessions/" + URLEncoder.encode(session, StandardCharsets.UTF_8), Map.of());
        } catch (AdminClient.ApiError e) {
            err.println("gatehouse replay: " + (e.status == 404 ? "no session " + session + " in the indexer" : e.getMessage()));
            err.flush();
            return 1;
        }
        if (execute) return executeOn(scratch, timeline, out, err);
        boolean ansi = colour == Colour.always || colour == Colour.auto && System.console() != null && System.console().isTerminal();
        play(timeline, new Transcript(ansi), out, pacer(out), speed);
        return 0;
    }

    private String password() {
        if (targetPasswordEnv == null) return null;
        String value = System.getenv(targetPasswordEnv);
        if (value == null) throw new IllegalArgumentException("--target-password-env: the variable " + targetPasswordEnv + " is not set");
        return value;
    }

    private Pacer pacer(PrintWriter out) {
        if (noWait) return wait -> { };
        if (step) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            return wait -> {
                out.print("[Enter for the next entry] ");
                out.flush();
                try {
                    in.readLine();
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read the terminal: " + e.getMessage(), e);
                }
            };
        }
        return wait -> {
            if (!wait.isZero()) Thread.sleep(wait);
        };
    }

    /**
     * Prints the timeline's header, then each entry after its pause at {@code speed} (long gaps
     * announced), then the end.
     */
    static void play(JsonObject timeline, Transcript transcript, PrintWriter out, Pacer pacer, double speed)
            throws InterruptedException {
        JsonObject summary = timeline.getJsonObject("session", new JsonObject());
        JsonArray entries = timeline.getJsonArray("entries", new JsonArray());
        transcript.header(summary).forEach(out::println);
        JsonObject connection = summary.getJsonObject("connection");
        String prompt = (connection != null && connection.getString("name") != null ? connection.getString("name") : "db") + "=>";
        String previous = null;
        boolean first = true;
        for (Object o : entries) {
            JsonObject entry = (JsonObject) o;
            String at = entry.getString("at");
            if (!first) {
                ReplayPacing.Pause pause = ReplayPacing.between(previous, at, speed);
                if (pause.longGap() != null) out.println(transcript.gap(pause.longGap()));
                out.flush();
                pacer.pause(pause.delay());
            }
            transcript.entry(entry, prompt).forEach(out::println);
            out.flush();
            previous = at != null ? at : previous;
            first = false;
        }
        out.println(entries.isEmpty() ? "(the timeline has no entries)" : "(end of session)");
        out.flush();
    }

    private int executeOn(ReplayTarget scratch, JsonObject timeline, PrintWriter out, PrintWriter err) {
        err.println("WARNING: replay --execute runs the recorded statements (writes, DDL, everything that was forwarded) "
                + "against " + scratch.display() + ". The target must be a SCRATCH database, never the original.");
        err.flush();
        JsonArray entries = timeline.getJsonArray("entries", new JsonArray());
        LOGGER.info("replaying session={} against target={}", session, scratch.display());
        List<ReplayExecutor.Step> steps;
        try (Connection connection = DriverManager.getConnection(scratch.jdbcUrl(), scratch.properties())) {
            steps = ReplayExecutor.run(connection, entries, s -> {
                out.println(ExecutionReport.line(s));
                out.flush();
            });
        } catch (SQLException e) {
            throw new IllegalStateException("cannot replay on " + scratch.display() + ": " + e.getMessage()
                    + (e.getSQLState() != null ? " (SQLSTATE " + e.getSQLState() + ")" : ""), e);
        }
        out.println(ExecutionReport.summary(steps));
        out.flush();
        return steps.stream().anyMatch(s -> s.status() == ReplayExecutor.Status.DIFFERS) ? DIFFERS : 0;
    }
}
