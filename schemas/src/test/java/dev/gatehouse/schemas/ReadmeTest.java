package dev.gatehouse.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import dev.gatehouse.schemas.v1.AuditRecord;

/** The README's event table lists every event type the envelope's payload may hold, and nothing else. */
class ReadmeTest {

    private static final Path README = Path.of(System.getProperty("basedir", ".")).resolve("README.md");
    private static final String TABLE_HEADER = "| event | written by | what |";

    @Test
    void theEventTableListsEveryBranchOfThePayload() throws IOException {
        // Given
        List<String> branches = AuditRecord.getClassSchema().getField("payload").schema().getTypes().stream()
                .map(Schema::getName).toList();

        // When
        String table = eventTable(Files.readString(README, StandardCharsets.UTF_8));
        List<String> listed = Pattern.compile("^\\| ([^|]+)\\|", Pattern.MULTILINE)
                .matcher(table).results()
                .flatMap(m -> Pattern.compile("`(\\w+)`").matcher(m.group(1)).results())
                .map(m -> m.group(1)).toList();

        // Then
        assertThat(listed).containsExactlyInAnyOrderElementsOf(branches);
    }

    private static String eventTable(String readme) {
        int start = readme.indexOf(TABLE_HEADER);
        assertThat(start).as("README.md has a table headed %s", TABLE_HEADER).isNotNegative();
        int end = readme.indexOf("\n\n", start);
        return readme.substring(start + TABLE_HEADER.length(), end < 0 ? readme.length() : end);
    }
}
