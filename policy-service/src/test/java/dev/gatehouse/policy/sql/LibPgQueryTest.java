package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LibPgQueryTest {

    private final LibPgQuery lib = LibPgQuery.load();

    @Test
    void parsesIntoJsonTree() {
        // Given
        String sql = "SELECT id FROM public.users WHERE id = 1";

        // When
        LibPgQuery.ParseResult result = lib.parse(sql);

        // Then
        assertThat(result.ok()).isTrue();
        assertThat(result.parseTree()).contains("\"SelectStmt\"").contains("\"relname\":\"users\"");
    }

    @Test
    void reportsSyntaxErrorWithPosition() {
        // Given
        String sql = "SELECT * FRM users";

        // When
        LibPgQuery.ParseResult result = lib.parse(sql);

        // Then
        assertThat(result.ok()).isFalse();
        assertThat(result.parseTree()).isNull();
        assertThat(result.error().message()).isEqualTo("syntax error at or near \"FRM\"");
        assertThat(result.error().cursorpos()).isEqualTo(10);
        assertThat(result.error().describe()).isEqualTo("syntax error at or near \"FRM\" (at character 10)");
    }

    @Test
    void fingerprintIgnoresConstants() {
        // Given
        String one = "SELECT * FROM users WHERE id = 1";
        String two = "select * from users where id = 42";

        // When
        LibPgQuery.FingerprintResult a = lib.fingerprint(one);
        LibPgQuery.FingerprintResult b = lib.fingerprint(two);
        LibPgQuery.FingerprintResult other = lib.fingerprint("SELECT * FROM accounts WHERE id = 1");

        // Then
        assertThat(a.hex()).hasSize(16).isEqualTo(b.hex()).isNotEqualTo(other.hex());
        assertThat(a.value()).isEqualTo(Long.parseUnsignedLong(a.hex(), 16));
    }

    @Test
    void normalizeReplacesConstants() {
        // Given
        String sql = "SELECT * FROM users WHERE name = 'alice' AND id = 7";

        // When
        LibPgQuery.NormalizeResult result = lib.normalize(sql);

        // Then
        assertThat(result.normalizedQuery()).isEqualTo("SELECT * FROM users WHERE name = $1 AND id = $2");
    }

    @Test
    void refusesNulCharacterInsteadOfTruncating() {
        // Given
        String sql = "SELECT 1;\0DROP TABLE users";

        // When / Then
        assertThatThrownBy(() -> lib.parse(sql)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NUL");
    }

    @Test
    void refusesUnpairedSurrogate() {
        // Given
        String sql = "SELECT '\uD800'";

        // When / Then
        assertThatThrownBy(() -> lib.parse(sql)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("surrogate");
    }

    @Test
    void refusesInputOverTheLimit() {
        // Given
        String sql = "SELECT '" + "x".repeat(LibPgQuery.MAX_INPUT_BYTES) + "'";

        // When / Then
        assertThatThrownBy(() -> lib.fingerprint(sql)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exceeds");
    }

    @Test
    void survivesDeepNestingThatWouldOverflowAnOrdinaryThreadStack() {
        // Given: 200,000 left-nested additions; libpg_query recurses once per level
        String sql = "SELECT " + "1+".repeat(200_000) + "1";

        // When
        LibPgQuery.ParseResult parsed = lib.parse(sql);
        LibPgQuery.FingerprintResult fingerprint = lib.fingerprint(sql);

        // Then
        assertThat(parsed.ok()).isTrue();
        assertThat(fingerprint.ok()).isTrue();
    }

    @Test
    void survivesGarbageAndMultibyteText() {
        // Given
        Random random = new Random(42);
        StringBuilder garbage = new StringBuilder();
        for (int i = 0; i < 2_000; i++) {
            garbage.append((char) (1 + random.nextInt(0xD7FF)));
        }

        // When
        LibPgQuery.ParseResult parsed = lib.parse(garbage.toString());
        LibPgQuery.ParseResult unicode = lib.parse("SELECT 'zoë 😀' AS \"naïve\"");

        // Then
        assertThat(parsed.ok()).isFalse();
        assertThat(parsed.error().message()).isNotBlank();
        assertThat(unicode.ok()).isTrue();
        assertThat(unicode.parseTree()).contains("zoë 😀").contains("naïve");
    }

    @Test
    void freesEveryResult() throws Exception {
        // Given: a 40 KB statement whose JSON tree is several times larger
        String ok = "SELECT " + "coalesce(a, 'value'), ".repeat(2_000) + "1 FROM t";
        String bad = ok + " WHERE";
        rounds(ok, bad, 1_000); // the Java heap and malloc arenas settle
        System.gc();
        long before = residentKb();

        // When: another 1,000 rounds would leak well over 300 MB if native results were not freed
        rounds(ok, bad, 1_000);

        // Then: well below the leak, with room for the Java heap growing on a busy machine
        // (124 MB of growth was seen once under heavy load without a leak)
        System.gc();
        assertThat(residentKb() - before).isLessThan(200 * 1024);
    }

    private void rounds(String ok, String bad, int count) {
        for (int i = 0; i < count; i++) {
            assertThat(lib.parse(ok).ok()).isTrue();
            assertThat(lib.parse(bad).ok()).isFalse();
            assertThat(lib.fingerprint(ok).ok()).isTrue();
        }
    }

    private static long residentKb() throws java.io.IOException {
        return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith("VmRSS:"))
                .mapToLong(line -> Long.parseLong(line.replaceAll("\\D", "")))
                .findFirst().orElseThrow();
    }

    @Test
    void missingLibraryNamesThePackageToInstall() {
        // Given
        String path = "/nonexistent/libpg_query.so";

        // When / Then
        assertThatThrownBy(() -> LibPgQuery.findLibrary(path))
                .isInstanceOf(LibPgQueryUnavailableException.class)
                .hasMessageContaining("/nonexistent/libpg_query.so")
                .hasMessageContaining("install the Debian package libpg-query-dev (apt-get install libpg-query-dev)");
    }
}
