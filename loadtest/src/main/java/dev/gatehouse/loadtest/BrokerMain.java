package dev.gatehouse.loadtest;

import dev.gatehouse.dev.EmbeddedKafka;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Kafka broker of a load run, in a JVM of its own so that its CPU time is its own: the
 * single-node KRaft {@link EmbeddedKafka} that {@code gatehouse dev} runs in-process. A small line
 * protocol on standard input and output (every answer starts with {@value #PREFIX}):
 *
 * <ul>
 *   <li>at start it prints {@code <prefix> bootstrap=127.0.0.1:PORT};</li>
 *   <li>{@code requests} answers {@code <prefix> requests NAME=COUNT ...}: the broker's
 *       {@code kafka.network:type=RequestMetrics,name=RequestsPerSec} counts since start, per request
 *       type (summed over API versions);</li>
 *   <li>{@code stop}, or the end of standard input (the harness ended), stops the broker and the JVM.</li>
 * </ul>
 *
 * <p>{@code java ... dev.gatehouse.loadtest.BrokerMain DATA-DIR PORT} (PORT 0: a free one)
 */
public final class BrokerMain {
    /** Starts every line of the protocol; anything else on standard output is not for the harness. */
    public static final String PREFIX = "gatehouse-loadtest-broker";

    private BrokerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) throw new IllegalArgumentException("usage: BrokerMain DATA-DIR PORT");
        EmbeddedKafka kafka = EmbeddedKafka.start(Path.of(args[0]), Integer.parseInt(args[1]));
        Runtime.getRuntime().addShutdownHook(new Thread(kafka::close, "broker-shutdown"));
        System.out.println(PREFIX + " bootstrap=" + kafka.bootstrapServers());
        System.out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                switch (line.strip()) {
                    case "requests" -> {
                        StringBuilder sb = new StringBuilder(PREFIX).append(" requests");
                        requestCounts().forEach((name, count) -> sb.append(' ').append(name).append('=').append(count));
                        System.out.println(sb);
                        System.out.flush();
                    }
                    case "stop" -> {
                        System.exit(0);
                    }
                    default -> System.err.println("broker: unknown command '" + line + "'");
                }
            }
        }
        System.exit(0);
    }

    /**
     * Requests handled since start per request type, from the broker's own request metrics (the
     * meters behind {@code RequestsPerSec}; their {@code Count} only grows). A consumer's fetch is
     * counted under {@code Fetch} and again under {@code FetchConsumer}, the KRaft metadata fetches
     * under {@code Fetch} and {@code FetchFollower}.
     */
    static Map<String, Long> requestCounts() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Map<String, Long> counts = new TreeMap<>();
        for (ObjectName name : server.queryNames(new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
            String request = name.getKeyProperty("request");
            if (request == null) continue;
            long count = ((Number) server.getAttribute(name, "Count")).longValue();
            counts.merge(request, count, Long::sum);
        }
        return counts;
    }
}
