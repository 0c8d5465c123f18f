package dev.gatehouse.loadtest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The harness's handle on the broker JVM ({@link BrokerMain}): its address and its request counts. */
public final class Broker implements AutoCloseable {
    private final ChildJvm jvm;
    private final BufferedReader out;
    private final PrintStream in;
    private final String bootstrapServers;

    private Broker(ChildJvm jvm, BufferedReader out, PrintStream in, String bootstrapServers) {
        this.jvm = jvm;
        this.out = out;
        this.in = in;
        this.bootstrapServers = bootstrapServers;
    }

    /** Starts the broker with its data under {@code dir} and waits (up to {@code timeout}) until it serves. */
    public static Broker start(Path dir, List<String> jvmOptions, Duration timeout) throws IOException, InterruptedException {
        ChildJvm jvm = ChildJvm.start("kafka broker", jvmOptions, BrokerMain.class.getName(),
                List.of(dir.resolve("kafka").toString(), "0"), dir.resolve("logs").resolve("broker.log"), false, true, Map.of());
        BufferedReader out = new BufferedReader(new InputStreamReader(jvm.process().getInputStream(), StandardCharsets.UTF_8));
        PrintStream in = new PrintStream(jvm.process().getOutputStream(), true, StandardCharsets.UTF_8);
        try {
            String line = answer(out, "bootstrap=", timeout, jvm);
            return new Broker(jvm, out, in, line.substring(line.indexOf("bootstrap=") + "bootstrap=".length()).strip());
        } catch (IOException | RuntimeException | InterruptedException e) {
            jvm.close();
            throw e;
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public long pid() {
        return jvm.pid();
    }

    public boolean isAlive() {
        return jvm.isAlive();
    }

    /** Requests the broker handled since it started, per request type (see {@link BrokerMain#requestCounts()}). */
    public synchronized Map<String, Long> requestCounts() throws IOException, InterruptedException {
        in.println("requests");
        String line = answer(out, " requests", Duration.ofSeconds(30), jvm);
        Map<String, Long> counts = new TreeMap<>();
        String body = line.substring(line.indexOf(" requests") + " requests".length()).strip();
        if (body.isEmpty()) return counts;
        for (String pair : body.split(" ")) {
            int eq = pair.indexOf('=');
            counts.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return counts;
    }

    /** The next line of the broker's protocol that contains {@code marker}; other output is skipped. */
    private static String answer(BufferedReader out, String marker, Duration timeout, ChildJvm jvm)
            throws IOException, InterruptedException {
        return jvm.awaitLine(out, BrokerMain.PREFIX, marker, timeout);
    }

    /** Asks the broker to stop (it closes Kafka cleanly), SIGTERM and SIGKILL if it does not. */
    @Override
    public void close() {
        if (jvm.isAlive()) in.println("stop");
        in.close();
        jvm.close();
    }
}
