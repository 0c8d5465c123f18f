package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
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
    void scanGivesTokensWithUtf8ByteOffsets() {
        // Given: 'é' is 2 bytes, '😀' 4
        String sql = "SELECT 'é😀' -- c\n;";

        // When
        LibPgQuery.ScanResult result = lib.scan(sql);

        // Then: SELECT (reserved keyword), the string, the comment, ';'
        assertThat(result.ok()).isTrue();
        assertThat(result.tokens()).containsExactly(
                new LibPgQuery.Token(0, 6, 625, 4),
                new LibPgQuery.Token(7, 15, 261, 0),
                new LibPgQuery.Token(16, 20, 275, 0),
                new LibPgQuery.Token(21, 22, ';', 0));
    }

    @Test
    void scanReportsUnterminatedLiterals() {
        // Given
        String sql = "SELECT 'unterminated";

        // When
        LibPgQuery.ScanResult result = lib.scan(sql);

        // Then
        assertThat(result.ok()).isFalse();
        assertThat(result.error().message()).contains("unterminated");
        assertThat(result.tokens()).isEmpty();
    }

    @Test
    void parsesPlpgsqlBodies() {
        // Given
        String ok = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT 1 FROM t); END $$";
        String bad = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1 END $$";

        // When
        LibPgQuery.PlpgsqlResult parsed = lib.parsePlpgsql(ok);
        LibPgQuery.PlpgsqlResult failed = lib.parsePlpgsql(bad);

        // Then
        assertThat(parsed.ok()).isTrue();
        assertThat(parsed.functions()).contains("\"PLpgSQL_function\"").contains("(SELECT 1 FROM t)");
        assertThat(failed.ok()).isFalse();
        assertThat(failed.functions()).isNull();
        assertThat(failed.error().message()).isNotBlank();
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

    @Test
    void freesEveryScanAndPlpgsqlResult() throws Throwable {
        // Given: a 40 KB statement (its scan result is about 100 KB), a 400 KB PL/pgSQL body (its
        // JSON is as large), and glibc's count of the bytes malloc has handed out (every arena,
        // the parser threads' too)
        String statement = "SELECT " + "coalesce(a, 'value'), ".repeat(2_000) + "1 FROM t";
        String function = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT "
                + "coalesce(a, 'value'), ".repeat(20_000) + "1); END $$";
        Runnable scan = () -> {
            assertThat(lib.scan(statement).ok()).isTrue();
            assertThat(lib.scan(statement + " 'unterminated").ok()).isFalse();
        };
        Runnable plpgsql = () -> {
            assertThat(lib.parsePlpgsql(function).ok()).isTrue();
            assertThat(lib.parsePlpgsql("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1 END $$").ok())
                    .isFalse();
        };
        repeat(scan, 100); // JIT compilation and malloc arenas settle
        repeat(plpgsql, 10);

        // When: each batch of unfreed results would leak about 20 MB (scans) and 18 MB (PL/pgSQL)
        long scans = leastGrowth(scan, 200);
        long plpgsqls = leastGrowth(plpgsql, 40);

        // Then: the JVM's own malloc use moves the count by several MB (20 MB in one batch was
        // seen on a loaded machine), a leak moves it in every batch
        assertThat(scans).isLessThan(6L * 1024 * 1024);
        assertThat(plpgsqls).isLessThan(6L * 1024 * 1024);
    }

    /** The least growth of malloc'd bytes over three batches of {@code count} rounds. */
    private static long leastGrowth(Runnable round, int count) throws Throwable {
        long least = Long.MAX_VALUE;
        for (int batch = 0; batch < 3; batch++) {
            System.gc();
            long before = mallocatedBytes();
            repeat(round, count);
            least = Math.min(least, mallocatedBytes() - before);
        }
        return least;
    }

    private static void repeat(Runnable round, int count) {
        for (int i = 0; i < count; i++) {
            round.run();
        }
    }

    /** glibc's {@code mallinfo2()}: bytes in use from the heap arenas ({@code uordblks}) plus mmapped blocks ({@code hblkhd}). */
    private static long mallocatedBytes() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MemoryLayout[] fields = new MemoryLayout[10];
        Arrays.fill(fields, ValueLayout.JAVA_LONG);
        StructLayout mallinfo2 = MemoryLayout.structLayout(fields);
        MethodHandle call = linker.downcallHandle(linker.defaultLookup().find("mallinfo2").orElseThrow(),
                FunctionDescriptor.of(mallinfo2));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) call.invokeExact(
                    (SegmentAllocator) arena);
            return info.getAtIndex(ValueLayout.JAVA_LONG, 7) + info.getAtIndex(ValueLayout.JAVA_LONG, 4);
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
