package dev.gatehouse.deploy.it;

import org.awaitility.Awaitility;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real psql running in the background on a statement the policy holds for approval, its output
 * in files so the NOTICE naming the approval can be read while it waits.
 */
record HeldPsql(Process process, Path out, Path err) {

    /** How the edge's NOTICE (and a deferred refusal) names the approval. */
    static final Pattern APPROVAL_ID = Pattern.compile("request (ap-[0-9a-f]{12})");

    /** Starts {@code psql -c sql} on the demo database as {@code subject} of the group dba. */
    static HeldPsql start(Gateway gw, String subject, String sql) throws IOException {
        return start(gw, subject, gw.token(subject, "dba"), sql);
    }

    /** Starts {@code psql -c sql} on the demo database as {@code user} with {@code token} (e.g. a delegation token). */
    static HeldPsql start(Gateway gw, String user, String token, String sql) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-U", user, "-d", "demo",
                "-c", sql);
        pb.environment().put("PGPASSWORD", token);
        pb.environment().put("PGHOST", "127.0.0.1");
        pb.environment().put("PGPORT", String.valueOf(gw.edgePort()));
        pb.environment().put("PGCONNECT_TIMEOUT", "30");
        pb.environment().remove("PGSSLMODE");
        pb.environment().remove("PGDATABASE");
        Path out = Files.createTempFile("gatehouse-held-out", ".txt");
        Path err = Files.createTempFile("gatehouse-held-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        p.getOutputStream().close();
        return new HeldPsql(p, out, err);
    }

    /** The approval id from psql's NOTICE; fails when psql ends without one. */
    String approvalId() {
        String[] id = new String[1];
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            Matcher m = APPROVAL_ID.matcher(Files.readString(err));
            if (m.find()) id[0] = m.group(1);
            return id[0] != null || !process.isAlive();
        });
        if (id[0] == null) throw new AssertionError("psql ended without an approval notice:\n" + read(out) + read(err));
        return id[0];
    }

    /** Waits for psql to end (two minutes at most) and returns what it printed. */
    Gateway.Result await() throws InterruptedException {
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("psql still waiting:\n" + read(err));
        }
        return new Gateway.Result(process.exitValue(), read(out), read(err));
    }

    /** What psql wrote to stderr so far (its NOTICEs and errors). */
    String stderr() {
        return read(err);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
