package dev.gatehouse.testsupport;

import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.platform.kafka.TopicInitializer;
import dev.gatehouse.platform.kafka.TopicSettings;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One embedded Kafka per test JVM, shared by every test class that uses it, with the Gatehouse
 * topics created ({@link #PARTITIONS} partitions each, policies 1). Started on first use in a
 * temporary directory; stopped and deleted by a shutdown hook.
 *
 * <p>As an extension: {@code @ExtendWith(KafkaFixture.class)}, then take an
 * {@link EmbeddedKafka} parameter, or call {@link #bootstrapServers()}. Without JUnit:
 * {@link #kafka()}.
 *
 * <p>Tests share topics and the {@code gatehouse-policy} group: use fresh session ids, edge ids
 * and command ids, and do not assume a topic is empty.
 */
public final class KafkaFixture implements BeforeAllCallback, ParameterResolver {

    private static final Logger LOGGER = LoggerFactory.getLogger(KafkaFixture.class);

    /** Partitions of the audit, decisions and control topics. */
    public static final int PARTITIONS = 4;

    private static EmbeddedKafka shared;

    /** The shared node, started (and its topics created) on first call. */
    public static synchronized EmbeddedKafka kafka() {
        if (shared == null) {
            Path dir;
            try {
                dir = Files.createTempDirectory("gatehouse-kafka-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a temporary directory for Kafka", e);
            }
            EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                kafka.close();
                deleteQuietly(dir);
            }, "gatehouse-kafka-fixture-stop"));
            TopicInitializer.ensure(kafka.bootstrapServers(), TopicSettings.defaults(PARTITIONS, (short) 1), Duration.ofSeconds(30));
            LOGGER.info("Kafka fixture ready bootstrap={} startMs={}", kafka.bootstrapServers(), kafka.startTime().toMillis());
            shared = kafka;
        }
        return shared;
    }

    /** {@code 127.0.0.1:port} of the shared node. */
    public static String bootstrapServers() {
        return kafka().bootstrapServers();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        kafka();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
        return parameter.getParameter().getType() == EmbeddedKafka.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
        return kafka();
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temporary directory; the OS cleans it eventually
        }
    }
}
