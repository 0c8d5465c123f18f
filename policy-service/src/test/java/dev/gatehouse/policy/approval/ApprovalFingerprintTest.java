package dev.gatehouse.policy.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import dev.gatehouse.policy.sql.LibPgQuery;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ApprovalFingerprintTest {

    private final ApprovalFingerprint fingerprint = new ApprovalFingerprint(LibPgQuery.load());

    private String of(String sql, String... parameters) {
        return fingerprint.of("prod", "https://issuer.example", "bob", sql, Arrays.asList(parameters));
    }

    @Test
    void whitespaceCommentsAndKeywordCaseDoNotChangeIt() {
        // Given
        String plain = "ALTER TABLE orders ADD COLUMN note text";

        // When
        String reformatted = of("alter   table orders\n  add column note TEXT -- for the support team");
        String commented = of("/* ticket 42 */ ALTER TABLE orders ADD COLUMN note text;");

        // Then
        assertThat(reformatted).isEqualTo(of(plain)).startsWith("sha256:").hasSize("sha256:".length() + 64);
        assertThat(commented).isEqualTo(of(plain));
    }

    @Test
    void constantsIdentifiersAndParametersDo() {
        // Given
        String base = of("DELETE FROM orders WHERE id = 1");

        // When
        String otherConstant = of("DELETE FROM orders WHERE id = 2");
        String otherTable = of("DELETE FROM invoices WHERE id = 1");
        String withParameter = of("DELETE FROM orders WHERE id = $1", "1");
        String otherParameter = of("DELETE FROM orders WHERE id = $1", "2");
        String emptyParameter = of("DELETE FROM orders WHERE id = $1", "");
        String nullParameter = of("DELETE FROM orders WHERE id = $1", (String) null);

        // Then
        assertThat(List.of(base, otherConstant, otherTable, withParameter, otherParameter, emptyParameter, nullParameter))
                .doesNotHaveDuplicates();
    }

    @Test
    void theConnectionAndTheIdentityArePartOfIt() {
        // Given
        String sql = "DROP TABLE audit_old";

        // When
        String bob = fingerprint.of("prod", "https://issuer.example", "bob", sql, List.of());
        String carol = fingerprint.of("prod", "https://issuer.example", "carol", sql, List.of());
        String otherIssuer = fingerprint.of("prod", "https://other.example", "bob", sql, List.of());
        String staging = fingerprint.of("staging", "https://issuer.example", "bob", sql, List.of());

        // Then
        assertThat(List.of(bob, carol, otherIssuer, staging)).doesNotHaveDuplicates();
    }

    @Test
    void unparseableSqlFallsBackToItsExactText() {
        // Given
        String broken = "ALTER TABLE orders ADD COLUM note text";

        // When
        String first = of(broken);
        String sameText = of(broken);
        String otherSpacing = of("ALTER TABLE orders  ADD COLUM note text");

        // Then
        assertThat(first).isEqualTo(sameText);
        assertThat(otherSpacing).isNotEqualTo(first);
        assertThat(fingerprint.normalized(broken)).isEqualTo("text:" + broken);
        assertThat(fingerprint.normalized("SELECT 1")).startsWith("tree:").doesNotContain("location");
    }

    // --- commands recorded statement by statement ---

    private static final ConnectionRef PROD = new ConnectionRef("prod", "postgres", "db:5432/app", Map.of());
    private static final Identity BOB = new Identity("bob", "https://issuer.example", List.of(), List.of(), Map.of(), null);
    private static final StatementAnalysis UPDATE = new StatementAnalysis(StatementKind.WRITE, "UPDATE", null, List.of(),
            List.of("payouts"), List.of(), false);

    /** An Execute of {@code sql} with its bounded parameter texts and the digest of the complete values. */
    private static CommandStatement execute(String statement, String sql, List<String> shown, String digest) {
        return new CommandStatement(CommandStatement.Step.EXECUTE, sql, statement, "", shown, digest, 0, false, null, UPDATE);
    }

    private static SqlCommand command(CommandStatement... statements) {
        return SqlCommand.of(CommandId.random(), new SessionId("s-1"), 1, Instant.EPOCH, SqlCommand.Form.EXTENDED,
                SqlCommand.POSTGRES, List.of(statements), null, true, null, "fp");
    }

    private String of(SqlCommand command) {
        return fingerprint.of(PROD, BOB, command);
    }

    @Test
    void twoArgumentsThatDifferOnlyBeyondTheRecordedTextDiffer() {
        // Given: two long notes the edge recorded with the same bounded text, but whose complete values differ
        String sql = "UPDATE payouts SET note = $1 WHERE id = 7";
        List<String> shown = List.of("x".repeat(64) + "...(truncated, 70000 bytes)");

        // When
        String first = of(command(execute("", sql, shown, "sha256:" + "1".repeat(64))));
        String second = of(command(execute("", sql, shown, "sha256:" + "2".repeat(64))));

        // Then
        assertThat(first).isNotEqualTo(second);
    }

    @Test
    void theSamePreparedStatementWithOtherArgumentsDiffers() {
        // Given: an approved execution of the prepared statement S_1, then the same statement again
        String sql = "UPDATE payouts SET amount = $1 WHERE id = $2";
        SqlCommand approved = command(execute("S_1", sql, List.of("40", "7"), digest("40", "7")));

        // When
        String same = of(command(execute("S_1", sql, List.of("40", "7"), digest("40", "7"))));
        String otherArguments = of(command(execute("S_1", sql, List.of("4000", "7"), digest("4000", "7"))));
        String twice = of(command(execute("S_1", sql, List.of("40", "7"), digest("40", "7")),
                execute("S_1", sql, List.of("40", "7"), digest("40", "7"))));

        // Then: the approval covers that one execution, not the statement
        assertThat(of(approved)).isEqualTo(same);
        assertThat(List.of(of(approved), otherArguments, twice)).doesNotHaveDuplicates();
    }

    @Test
    void orderRowLimitAndContinuationArePartOfItHowTheClientGotThereIsNot() {
        // Given
        String update = "UPDATE payouts SET amount = 1 WHERE id = 7";
        String read = "SELECT * FROM payouts";
        CommandStatement base = execute("", update, List.of(), null);
        CommandStatement select = new CommandStatement(CommandStatement.Step.QUERY, read, null, "c1", List.of(), null, 10,
                true, "FETCH 10 FROM c1", UPDATE);

        // When
        List<String> different = List.of(
                of(command(base, select)),
                of(command(select, base)),
                of(command(base, new CommandStatement(CommandStatement.Step.QUERY, read, null, "c1", List.of(), null, 0,
                        true, "FETCH ALL FROM c1", UPDATE))),
                of(command(base, new CommandStatement(CommandStatement.Step.QUERY, read, null, "c1", List.of(), null, 10,
                        false, "FETCH 10 FROM c1", UPDATE))));
        List<String> same = List.of(
                of(command(base, select)),
                of(command(execute("S_2", update, List.of(), null), select)),
                of(command(new CommandStatement(CommandStatement.Step.QUERY, update, null, null, List.of(), null, 0, false,
                        "EXECUTE p(7)", UPDATE), select)),
                of(command(new CommandStatement(CommandStatement.Step.EXECUTE, update, "", "p2", List.of(), null, 0,
                        false, null, UPDATE), select)));

        // Then: what runs decides, not the names a driver gave its statements or portals
        assertThat(different).doesNotHaveDuplicates();
        assertThat(same).containsOnly(same.getFirst());
    }

    @Test
    void eachStatementsSqlIsNormalized() {
        // When
        String plain = of(command(execute("", "UPDATE payouts SET amount = 1 WHERE id = 7", List.of(), null)));
        String reformatted = of(command(execute("", "update payouts\n   set amount = 1 -- fix\n where id = 7",
                List.of(), null)));

        // Then
        assertThat(reformatted).isEqualTo(plain);
    }

    @Test
    void aCommandRecordedAsOneTextKeepsTheFirstEncoding() {
        // Given
        SqlCommand oneText = new SqlCommand(CommandId.random(), new SessionId("s-1"), 1, Instant.EPOCH,
                SqlCommand.Form.EXTENDED, "UPDATE payouts SET amount = $1 WHERE id = $2", List.of("40", "7"),
                new SqlAnalysis(true, null, "fp", List.of(UPDATE)));
        SqlCommand statements = command(execute("", oneText.sql(), List.of("40", "7"), digest("40", "7")));

        // When
        String first = of(oneText);

        // Then: an approval recorded before statements existed still matches, and never a statements command
        assertThat(first).isEqualTo(fingerprint.of("prod", "https://issuer.example", "bob", oneText.sql(),
                List.of("40", "7")));
        assertThat(statements.sql()).isEqualTo(oneText.sql());
        assertThat(of(statements)).isNotEqualTo(first);
    }

    /** A stand-in for the edge's digest of the complete argument values. */
    private static String digest(String... values) {
        try {
            byte[] hash = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(String.join("\u0000", values).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "sha256:" + java.util.HexFormat.of().formatHex(hash);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void withoutLibPgQueryTheRawTextIsUsed() {
        // Given
        ApprovalFingerprint raw = new ApprovalFingerprint(null);

        // When
        String a = raw.of("prod", "i", "bob", "SELECT 1", List.of());
        String b = raw.of("prod", "i", "bob", "select 1", List.of());

        // Then
        assertThat(a).isNotEqualTo(b);
        assertThat(a).isNotEqualTo(fingerprint.of("prod", "i", "bob", "SELECT 1", List.of()));
    }
}
