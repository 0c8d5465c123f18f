package dev.gatehouse.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.schemas.v1.AuditRecord;
import dev.gatehouse.schemas.v1.ControlRecord;
import dev.gatehouse.schemas.v1.EdgeSessionsRecord;
import dev.gatehouse.schemas.v1.RevocationRecord;

/**
 * The schemas the records on Gatehouse's topics were ever written with ({@code writers/} under
 * {@code src/main/resources/dev/gatehouse/schemas/v1}, each named by its record's name and its
 * CRC-64-AVRO fingerprint and listed in {@code writers/index}): {@code AuditRecord} (the audit
 * topic), {@code ControlRecord} (the edges' control channel), {@code EdgeSessionsRecord} and
 * {@code RevocationRecord} (the compacted sessions and revocations topics). A consumer decodes a
 * record by the fingerprint it carries, so every schema a Gatehouse version wrote must stay known,
 * or the records already in a topic (or written by a not yet upgraded process) become undecodable.
 * The current schemas must be among them: a change to any schema fails
 * {@link #theCurrentSchemaIsAmongTheWriters} until it is recorded, and the earlier ones stay.
 */
class WriterSchemasTest {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", "."));
    private static final Path WRITERS = BASEDIR.resolve("src/main/resources/dev/gatehouse/schemas/v1/writers");
    private static final Path RELEASED = BASEDIR.resolve("src/test/resources/released/v1");
    /** Rewrites the current schemas' files and the index. */
    private static final String REGENERATE = "./mvnw -q test -pl schemas -Dtest=WriterSchemasTest "
            + "-Dgatehouse.regenerateSchemas=true";

    /** The records written to topics in Avro single-object encoding. */
    static Stream<Schema> topicRecords() {
        return Stream.of(AuditRecord.getClassSchema(), ControlRecord.getClassSchema(), EdgeSessionsRecord.getClassSchema(),
                RevocationRecord.getClassSchema());
    }

    @ParameterizedTest
    @MethodSource("topicRecords")
    void theCurrentSchemaIsAmongTheWriters(Schema current) throws IOException {
        // Given
        String name = fileName(current);
        if (Boolean.getBoolean("gatehouse.regenerateSchemas")) {
            Files.writeString(WRITERS.resolve(name), current.toString(true) + "\n", StandardCharsets.UTF_8);
            Files.writeString(WRITERS.resolve("index"), String.join("\n", files()) + "\n", StandardCharsets.UTF_8);
        }

        // When
        Path file = WRITERS.resolve(name);

        // Then
        assertThat(file)
                .as("the %s schema changed: record it (the earlier ones stay) with%n  %s%nand commit %s",
                        current.getName(), REGENERATE, WRITERS)
                .exists();
        assertThat(SchemaNormalization.toParsingForm(parse(file))).isEqualTo(SchemaNormalization.toParsingForm(current));
        assertThat(index()).contains(name);
    }

    @Test
    void everyWriterIsNamedByItsFingerprintAndListedInTheIndex() throws IOException {
        // When
        List<String> files = files();

        // Then
        assertThat(index()).containsExactlyInAnyOrderElementsOf(files);
        assertThat(files).allSatisfy(f -> assertThat(fileName(parse(WRITERS.resolve(f)))).isEqualTo(f));
    }

    @Test
    void theReleasedSchemasAreAmongTheWriters() throws IOException {
        // Given
        List<Schema> released = SchemaCompatibilityTest.parseDirectory(RELEASED).values().stream()
                .filter(s -> s.getName().equals("AuditRecord") || s.getName().equals("ControlRecord")).toList();
        if (Boolean.getBoolean("gatehouse.regenerateSchemas")) {
            for (Schema s : released) Files.writeString(WRITERS.resolve(fileName(s)), s.toString(true) + "\n", StandardCharsets.UTF_8);
            Files.writeString(WRITERS.resolve("index"), String.join("\n", files()) + "\n", StandardCharsets.UTF_8);
        }

        // Then
        assertThat(released).hasSize(2).allSatisfy(s -> assertThat(WRITERS.resolve(fileName(s))).exists());
        assertThat(index()).containsAll(released.stream().map(WriterSchemasTest::fileName).toList());
    }

    @ParameterizedTest
    @MethodSource("topicRecords")
    void theCurrentSchemaReadsRecordsOfEveryWriter(Schema current) throws IOException {
        // When
        Map<String, SchemaCompatibility.SchemaCompatibilityType> results = new java.util.TreeMap<>();
        for (String f : files()) {
            if (!f.startsWith(current.getName() + "-")) continue;
            results.put(f, SchemaCompatibility.checkReaderWriterCompatibility(current, parse(WRITERS.resolve(f))).getType());
        }

        // Then
        assertThat(results).isNotEmpty()
                .allSatisfy((f, type) -> assertThat(type).as(f).isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE));
    }

    /** The record's name, {@code -} and the 16 hex digits of the schema's CRC-64-AVRO parsing fingerprint. */
    static String fileName(Schema schema) {
        return String.format("%s-%016x.avsc", schema.getName(), SchemaNormalization.parsingFingerprint64(schema));
    }

    private static Schema parse(Path file) {
        try {
            return new Schema.Parser().parse(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> files() throws IOException {
        try (Stream<Path> files = Files.list(WRITERS)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".avsc")).sorted().toList();
        }
    }

    private static List<String> index() throws IOException {
        return Files.readAllLines(WRITERS.resolve("index"), StandardCharsets.UTF_8).stream()
                .map(String::strip).filter(l -> !l.isEmpty()).toList();
    }
}
