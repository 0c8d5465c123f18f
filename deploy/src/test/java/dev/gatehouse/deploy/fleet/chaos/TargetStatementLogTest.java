package dev.gatehouse.deploy.fleet.chaos;

import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TargetStatementLogTest {

    /**
     * A real csvlog (PostgreSQL 15, log_destination=csvlog, log_statement=all): the server's start,
     * the superuser's setup, the launcher's table, a chaos client's simple-protocol statements (one
     * of several lines with quotes, one failing) and an edge-side extended-protocol query.
     */
    static final String SAMPLE = """
            2026-12-05 01:38:22.468 UTC,,,15579,,6b136b0e.3cdb,1,,2026-12-05 01:38:22 UTC,,0,LOG,00000,"ending log output to stderr",,"Future log output will go to log destination ""csvlog"".",,,,,,,"","postmaster",,0
            2026-12-05 01:38:22.474 UTC,,,15579,,6b136b0e.3cdb,5,,2026-12-05 01:38:22 UTC,,0,LOG,00000,"database system is ready to accept connections",,,,,,,,,"","postmaster",,0
            2026-12-05 01:38:23.087 UTC,"postgres","postgres",15588,"127.0.0.1:51568",6b136b0e.3ce4,1,"idle",2026-12-05 01:38:22 UTC,3/2,0,LOG,00000,"statement: SET application_name = 'PostgreSQL JDBC Driver'",,,,,,,,,"","client backend",,0
            2026-12-05 01:38:23.137 UTC,"postgres","postgres",15602,"127.0.0.1:51576",6b136b0f.3cf2,3,"CREATE DATABASE",2026-12-05 01:38:23 UTC,3/7,0,LOG,00000,"execute <unnamed>: CREATE DATABASE target OWNER app",,,,,,,,,"PostgreSQL JDBC Driver","client backend",,0
            2026-12-05 01:38:23.192 UTC,"app","target",15603,"127.0.0.1:51586",6b136b0f.3cf3,1,"idle",2026-12-05 01:38:23 UTC,4/2,0,LOG,00000,"statement: CREATE TABLE IF NOT EXISTS chaos_load (client int NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (client, seq))",,,,,,,,,"gatehouse-chaos-setup","client backend",,0
            2026-12-05 01:38:23.203 UTC,"app","target",15604,"127.0.0.1:51600",6b136b0f.3cf4,1,"idle",2026-12-05 01:38:23 UTC,3/9,0,LOG,00000,"statement: INSERT INTO chaos_load (client, seq) VALUES (1, 1)",,,,,,,,,"chaos-client-1","client backend",,0
            2026-12-05 01:38:23.204 UTC,"app","target",15604,"127.0.0.1:51600",6b136b0f.3cf4,2,"idle",2026-12-05 01:38:23 UTC,3/10,0,LOG,00000,"statement: SELECT count(*) FROM chaos_load WHERE client = 1 AND seq < 2",,,,,,,,,"chaos-client-1","client backend",,0
            2026-12-05 01:38:23.205 UTC,"app","target",15604,"127.0.0.1:51600",6b136b0f.3cf4,3,"idle",2026-12-05 01:38:23 UTC,3/11,0,LOG,00000,"statement: SELECT 'a ""quoted"", multi
            line' AS x",,,,,,,,,"chaos-client-1","client backend",,0
            2026-12-05 01:38:23.206 UTC,"app","target",15604,"127.0.0.1:51600",6b136b0f.3cf4,4,"idle",2026-12-05 01:38:23 UTC,3/12,0,LOG,00000,"statement: SELECT nope FROM chaos_load",,,,,,,,,"chaos-client-1","client backend",,0
            2026-12-05 01:38:23.206 UTC,"app","target",15604,"127.0.0.1:51600",6b136b0f.3cf4,5,"SELECT",2026-12-05 01:38:23 UTC,3/12,0,ERROR,42703,"column ""nope"" does not exist",,,,,,"SELECT nope FROM chaos_load",8,,"chaos-client-1","client backend",,0
            2026-12-05 01:38:23.224 UTC,"app","target",15607,"127.0.0.1:51616",6b136b0f.3cf7,1,"SELECT",2026-12-05 01:38:23 UTC,3/14,0,LOG,00000,"execute <unnamed>: SELECT relname FROM pg_class WHERE relname = $1","parameters: $1 = 'chaos_load'",,,,,,,,"gatehouse-catalog","client backend",,0
            """;

    @Test
    void readsEveryLoggedStatementWithItsSession() throws Exception {
        // When
        List<TargetStatementLog.Statement> statements = TargetStatementLog.parse(new StringReader(SAMPLE));

        // Then
        assertThat(statements).extracting(TargetStatementLog.Statement::sql).containsExactly(
                "SET application_name = 'PostgreSQL JDBC Driver'",
                "CREATE DATABASE target OWNER app",
                "CREATE TABLE IF NOT EXISTS chaos_load (client int NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (client, seq))",
                "INSERT INTO chaos_load (client, seq) VALUES (1, 1)",
                "SELECT count(*) FROM chaos_load WHERE client = 1 AND seq < 2",
                "SELECT 'a \"quoted\", multi\nline' AS x",
                "SELECT nope FROM chaos_load",
                "SELECT relname FROM pg_class WHERE relname = $1");
        TargetStatementLog.Statement insert = statements.get(3);
        assertThat(insert.at()).isEqualTo(Instant.parse("2026-12-05T01:38:23.203Z"));
        assertThat(insert.user()).isEqualTo("app");
        assertThat(insert.database()).isEqualTo("target");
        assertThat(insert.pid()).isEqualTo(15604);
        assertThat(insert.sessionId()).isEqualTo("6b136b0f.3cf4");
        assertThat(insert.kind()).isEqualTo("statement");
        assertThat(insert.applicationName()).isEqualTo("chaos-client-1");
        assertThat(statements.get(7).kind()).isEqualTo("execute");
    }

    @Test
    void tellsClientSessionsFromTheEdgesAndTheLaunchers() throws Exception {
        // When
        List<TargetStatementLog.Origin> origins = TargetStatementLog.parse(new StringReader(SAMPLE)).stream()
                .map(TargetStatementLog::origin).toList();

        // Then: a session of no known application counts as a client's
        assertThat(origins).containsExactly(TargetStatementLog.Origin.CLIENT, TargetStatementLog.Origin.CLIENT,
                TargetStatementLog.Origin.LAUNCHER, TargetStatementLog.Origin.CLIENT, TargetStatementLog.Origin.CLIENT,
                TargetStatementLog.Origin.CLIENT, TargetStatementLog.Origin.CLIENT, TargetStatementLog.Origin.EDGE_SIDE);
    }

    @Test
    void aRecordTheServerIsStillWritingIsLeftForLater() throws Exception {
        // Given: the file ends inside the quoted multi-line statement
        Path file = Files.createTempFile("statements", ".csv");
        String cut = SAMPLE.substring(0, SAMPLE.indexOf("line' AS x"));
        Files.writeString(file, cut);

        // When
        List<TargetStatementLog.Statement> statements = TargetStatementLog.read(file);

        // Then
        assertThat(statements).hasSize(5);
        assertThat(statements.getLast().sql()).startsWith("SELECT count(*)");
    }

    @Test
    void aFileThatIsNoCsvlogIsRefusedWithItsLine() {
        // Given
        String notCsvlog = "2026-12-05 01:38:22.468 UTC [15579] LOG:  statement: SELECT 1\n";

        // When / Then
        assertThatThrownBy(() -> TargetStatementLog.parse(new StringReader(notCsvlog)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a PostgreSQL csvlog record")
                .hasMessageContaining("line 1");
    }

    @Test
    void logTimesInOtherZonesAreReadAsInstants() {
        assertThat(TargetStatementLog.logTime("2026-12-05 02:38:23.2 +01")).isEqualTo(Instant.parse("2026-12-05T01:38:23.200Z"));
        assertThat(TargetStatementLog.logTime("2026-12-05 01:38:23 UTC")).isEqualTo(Instant.parse("2026-12-05T01:38:23Z"));
    }
}
