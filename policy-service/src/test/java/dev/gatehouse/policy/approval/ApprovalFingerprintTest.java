package dev.gatehouse.policy.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.policy.sql.LibPgQuery;
import java.util.Arrays;
import java.util.List;
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
