package dev.gatehouse.edge.masking;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MaskingProfilesTest {

    private static final Supplier<HmacKey> KEY = () -> HmacKey.of("a-test-key-of-enough-bytes");

    private static final String VALID = """
            profiles:
              - name: pii
                copy: mask
                columns:
                  - column: public.users.email
                    method: hmac
                  - column: "*.ssn"
                    method: {keep_last: 4}
                  - column: "*.*.card_number"
                    method: redact
                  - column: birth_date
                    method: "null"
                detectors:
                  - detector: email
                    method: redact
                  - detector: regex
                    name: employee_id
                    pattern: 'EMP-[0-9]{6}'
                    method: {replace: EMP-XXXXXX}
              - name: cards-only
                detectors:
                  - detector: payment_card
                    method: {keep_last: 4}
            """;

    @Test
    void loadsProfilesAndMatchesColumns() {
        // Given / When
        MaskingProfiles profiles = MaskingProfiles.parse(VALID, KEY);

        // Then
        assertThat(profiles.names()).containsExactlyInAnyOrder("pii", "cards-only");
        MaskingProfile pii = profiles.find("pii").orElseThrow();
        assertThat(pii.copy()).isEqualTo(MaskingProfile.CopyMode.MASK);
        assertThat(pii.columnRule("public", "users", "email")).get().extracting(r -> r.method().label()).isEqualTo("hmac");
        assertThat(pii.columnRule("crm", "people", "SSN")).get().extracting(r -> r.method().label()).isEqualTo("keep_last");
        assertThat(pii.columnRule("billing", "cards", "card_number")).get().extracting(r -> r.method().label()).isEqualTo("redact");
        assertThat(pii.columnRule("x", "y", "birth_date")).get().extracting(r -> r.method().label()).isEqualTo("null");
        assertThat(pii.columnRule("other", "users", "email")).isEmpty();
        assertThat(profiles.find("cards-only").orElseThrow().copy()).isEqualTo(MaskingProfile.CopyMode.REFUSE);
        assertThat(profiles.find("nope")).isEmpty();
    }

    @Test
    void tellsWhetherAProfileMasksAnyColumnOfARelation() {
        // Given
        MaskingProfiles profiles = MaskingProfiles.parse(VALID, KEY);
        MaskingProfile pii = profiles.find("pii").orElseThrow();
        MaskingProfile cardsOnly = profiles.find("cards-only").orElseThrow();

        // When / Then: by schema.table.column, table.column or column pattern, ignoring case
        assertThat(pii.masksAnyColumnOf("public", "users", List.of("id", "email"))).isTrue();
        assertThat(pii.masksAnyColumnOf("crm", "People", List.of("id", "SSN"))).isTrue();
        assertThat(pii.masksAnyColumnOf("billing", "cards", List.of("card_number"))).isTrue();
        assertThat(pii.masksAnyColumnOf("public", "orders", List.of("id", "total", "email"))).isFalse();
        assertThat(pii.masksAnyColumnOf("other", "users", List.of("email"))).isFalse();
        // columns not known: whether some rule could select a column of the relation at all
        assertThat(pii.masksAnyColumnOf("public", "orders", List.of())).isTrue();
        // a profile with detectors only masks no column as a whole
        assertThat(cardsOnly.masksAnyColumnOf("crm", "people", List.of("ssn"))).isFalse();
        assertThat(cardsOnly.masksAnyColumnOf("crm", "people", List.of())).isFalse();
        // the planner statistics hold values of every column
        assertThat(pii.masksAnyColumnOf("pg_catalog", "pg_stats", List.of("attname", "histogram_bounds"))).isTrue();
        assertThat(pii.masksAnyColumnOf("PG_CATALOG", "pg_statistic", List.of("stavalues1"))).isTrue();
        assertThat(cardsOnly.masksAnyColumnOf("pg_catalog", "pg_stats", List.of("histogram_bounds"))).isFalse();
        assertThat(pii.masksAnyColumnOf("pg_catalog", "pg_class", List.of("relname"))).isFalse();
    }

    @Test
    void scansValuesAndCountsDetectors() {
        // Given
        MaskingProfile pii = MaskingProfiles.parse(VALID, KEY).find("pii").orElseThrow();
        MaskingStats stats = new MaskingStats();

        // When
        String masked = pii.scan("ask alice@example.com about EMP-004211", stats);
        String untouched = "nothing to see";

        // Then
        assertThat(masked).isEqualTo("ask [REDACTED] about EMP-XXXXXX");
        assertThat(pii.scan(untouched, stats)).isSameAs(untouched);
        assertThat(stats.detectors()).containsEntry("email", 1L).containsEntry("employee_id", 1L);
        assertThat(stats.values()).isEqualTo(1);
    }

    @Test
    void looseDetectorsRunAfterStrictOnesWhateverTheOrderWritten() {
        // Given a profile listing phone before iban and card
        MaskingProfile p = MaskingProfiles.parse("""
                profiles:
                  - name: order
                    detectors:
                      - {detector: phone, method: redact}
                      - {detector: payment_card, method: {keep_last: 4}}
                      - {detector: iban, method: {replace: IBAN}}
                """, KEY).find("order").orElseThrow();

        // When
        String masked = p.scan("GB82 WEST 1234 5698 7654 32 / 4111 1111 1111 1111 / +1 415 555 2671", new MaskingStats());

        // Then each value is masked by the detector that knows it
        assertThat(masked).isEqualTo("IBAN / **** **** **** 1111 / [REDACTED]");
    }

    @Test
    void theHmacKeyIsOnlyAskedForWhenUsed() {
        // Given a supplier that fails, and a profile without hmac
        Supplier<HmacKey> none = () -> {
            throw new MaskingException("no key configured (set masking.hmac-key-env)");
        };

        // When / Then
        assertThat(MaskingProfiles.parse("profiles: [{name: a, detectors: [{detector: email, method: redact}]}]", none).names())
                .containsExactly("a");
        assertThatThrownBy(() -> MaskingProfiles.parse("profiles: [{name: a, columns: [{column: x, method: hmac}]}]", none))
                .isInstanceOf(MaskingException.class).hasMessageContaining("profile \"a\"").hasMessageContaining("no key configured");
    }

    @Test
    void rejectsBadProfilesNamingThem() {
        // Given / When / Then
        assertError("profiles: [{name: broken, detectors: [{detector: regex, pattern: '[a-', method: redact}]}]",
                "profile \"broken\"", "invalid regex \"[a-\"");
        assertError("profiles: [{name: typo, detectors: [{detector: emial, method: redact}]}]",
                "profile \"typo\"", "unknown detector \"emial\"", "email");
        assertError("profiles: [{name: m, detectors: [{detector: email, method: scramble}]}]",
                "profile \"m\"", "unknown method \"scramble\"");
        assertError("profiles: [{name: empty}]", "profile \"empty\" can never mask anything");
        assertError("profiles: [{name: e2, columns: [], detectors: []}]", "profile \"e2\" can never mask anything");
        assertError("profiles: [{name: k, columns: [{column: a.b.c.d, method: redact}]}]", "profile \"k\"", "4 parts");
        assertError("profiles: [{name: n, columns: [{column: x, method: {keep_last: many}}]}]", "profile \"n\"", "keep_last needs a whole number");
        assertError("profiles: [{name: c, copy: maybe, detectors: [{detector: email, method: redact}]}]", "profile \"c\"", "copy");
        assertError("profiles: [{name: u, colums: []}]", "profile \"u\"", "unknown field \"colums\"");
        assertError("profiles: [{name: d, detectors: [{detector: email}]}]", "profile \"d\"", "no method");
        assertError("profiles: [{detectors: [{detector: email, method: redact}]}]", "profile #1", "no name");
        assertError("profiles: [{name: t, detectors: [{detector: ipv4, method: redact}]}, {name: t, detectors: [{detector: ipv4, method: redact}]}]",
                "profile \"t\"", "defined twice");
        assertError("nope: 1", "\"profiles\" list");
    }

    @Test
    void columnPatterns() {
        // Given / When / Then
        assertThat(ColumnPattern.parse("public.users.email").matches("public", "users", "email")).isTrue();
        assertThat(ColumnPattern.parse("public.users.email").matches("public", "users", "emails")).isFalse();
        assertThat(ColumnPattern.parse("*.ssn").matches("any", "table", "ssn")).isTrue();
        assertThat(ColumnPattern.parse("ssn").matches("a", "b", "ssn")).isTrue();
        assertThat(ColumnPattern.parse("crm.*.phone_*").matches("crm", "people", "phone_mobile")).isTrue();
        assertThat(ColumnPattern.parse("crm.*.phone_*").matches("crm", "people", "fax")).isFalse();
        assertThat(ColumnPattern.parse("a.b+c.d").matches("a", "b+c", "d")).isTrue();
        assertThat(ColumnPattern.parse("a.b+c.d").matches("a", "bbc", "d")).isFalse();
    }

    private static void assertError(String yaml, String... parts) {
        assertThatThrownBy(() -> MaskingProfiles.parse(yaml, KEY)).isInstanceOf(MaskingException.class)
                .satisfies(e -> assertThat(e.getMessage()).contains(parts));
    }
}
