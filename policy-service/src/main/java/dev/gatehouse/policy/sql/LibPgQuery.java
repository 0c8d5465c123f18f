package dev.gatehouse.policy.sql;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The binding to libpg_query 15 (PostgreSQL's own parser as a library) through the FFM API.
 *
 * <p>Thread-safe. Every native result is freed. libpg_query's tree printers and fingerprinter
 * recurse once per nesting level of the statement, so a statement such as {@code SELECT 1+1+...}
 * with 100,000 terms overflows an ordinary thread stack and would kill the JVM. Every native call
 * therefore runs on one of this binding's parser threads, which have a {@value #PARSER_STACK_MB}
 * MiB stack, and input is limited to {@value #MAX_INPUT_BYTES} bytes of UTF-8, which bounds the
 * nesting well inside that stack. Text PostgreSQL could never receive (a NUL character, unpaired
 * UTF-16 surrogates) and text over the limit is refused with an {@link IllegalArgumentException}
 * before it reaches native code.
 *
 * <p>The library is found through the system property {@value #PATH_PROPERTY} (a file path), else
 * by the names {@code libpg_query.so} and {@code libpg_query.so.1504.0} on the loader path and in
 * the standard library directories.
 */
public final class LibPgQuery {

    /** System property naming the shared library file to load. */
    public static final String PATH_PROPERTY = "gatehouse.libpgquery.path";
    /** Largest query text accepted, in bytes of UTF-8. */
    public static final int MAX_INPUT_BYTES = 1 << 20;
    /** Stack size of the parser threads, in MiB. */
    public static final int PARSER_STACK_MB = 256;

    static final String INSTALL_HINT =
            "install the Debian package libpg-query-dev (apt-get install libpg-query-dev)";

    private static final Logger LOGGER = LoggerFactory.getLogger(LibPgQuery.class);
    private static final List<String> LIBRARY_NAMES = List.of("libpg_query.so", "libpg_query.so.1504.0");
    private static final List<String> LIBRARY_DIRS = List.of(
            "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/x86_64-linux-gnu",
            "/lib/aarch64-linux-gnu", "/usr/local/lib", "/usr/lib64", "/usr/lib");

    // Layouts from pg_query.h (libpg_query 15-4.0.0).
    private static final StructLayout ERROR = MemoryLayout.structLayout(
            ADDRESS.withName("message"), ADDRESS.withName("funcname"), ADDRESS.withName("filename"),
            JAVA_INT.withName("lineno"), JAVA_INT.withName("cursorpos"), ADDRESS.withName("context"));
    private static final StructLayout PARSE_RESULT = MemoryLayout.structLayout(
            ADDRESS.withName("parse_tree"), ADDRESS.withName("stderr_buffer"), ADDRESS.withName("error"));
    private static final StructLayout FINGERPRINT_RESULT = MemoryLayout.structLayout(
            JAVA_LONG.withName("fingerprint"), ADDRESS.withName("fingerprint_str"),
            ADDRESS.withName("stderr_buffer"), ADDRESS.withName("error"));
    private static final StructLayout NORMALIZE_RESULT = MemoryLayout.structLayout(
            ADDRESS.withName("normalized_query"), ADDRESS.withName("error"));
    private static final StructLayout SCAN_RESULT = MemoryLayout.structLayout(
            JAVA_LONG.withName("len"), ADDRESS.withName("data"),
            ADDRESS.withName("stderr_buffer"), ADDRESS.withName("error"));
    private static final StructLayout PLPGSQL_RESULT = MemoryLayout.structLayout(
            ADDRESS.withName("plpgsql_funcs"), ADDRESS.withName("error"));

    private static final Object LOCK = new Object();
    private static LibPgQuery shared;

    private final MethodHandle parse;
    private final MethodHandle freeParse;
    private final MethodHandle fingerprint;
    private final MethodHandle freeFingerprint;
    private final MethodHandle normalize;
    private final MethodHandle freeNormalize;
    private final MethodHandle scan;
    private final MethodHandle freeScan;
    private final MethodHandle parsePlpgsql;
    private final MethodHandle freePlpgsql;
    private final ExecutorService parserThreads;

    /** The result of {@code pg_query_parse}: the JSON parse tree, or the parser's error. */
    public record ParseResult(String parseTree, PgQueryError error) {
        public boolean ok() {
            return error == null;
        }
    }

    /** The result of {@code pg_query_fingerprint}: the 64-bit fingerprint and its hex form, or the error. */
    public record FingerprintResult(long value, String hex, PgQueryError error) {
        public boolean ok() {
            return error == null;
        }
    }

    /** The result of {@code pg_query_normalize}: the text with constants replaced by $n, or the error. */
    public record NormalizeResult(String normalizedQuery, PgQueryError error) {
        public boolean ok() {
            return error == null;
        }
    }

    /**
     * The result of {@code pg_query_scan}: the tokens of the text in order (comments included),
     * or the scanner's error.
     */
    public record ScanResult(List<Token> tokens, PgQueryError error) {
        public ScanResult {
            tokens = tokens == null ? List.of() : List.copyOf(tokens);
        }

        public boolean ok() {
            return error == null;
        }
    }

    /**
     * One token of {@code pg_query_scan}.
     *
     * @param start       byte offset of its first byte in the UTF-8 text
     * @param end         byte offset just after its last byte
     * @param token       its number in {@code pg_query.proto}'s {@code Token} enum (the ASCII code for
     *                    single-character tokens)
     * @param keywordKind {@code pg_query.proto}'s {@code KeywordKind}: 0 not a keyword, 1 unreserved,
     *                    2 column name, 3 type or function name, 4 reserved
     */
    public record Token(int start, int end, int token, int keywordKind) {
    }

    /** The result of {@code pg_query_parse_plpgsql}: the JSON of the PL/pgSQL functions, or the error. */
    public record PlpgsqlResult(String functions, PgQueryError error) {
        public boolean ok() {
            return error == null;
        }
    }

    private LibPgQuery(SymbolLookup lookup) {
        Linker linker = Linker.nativeLinker();
        parse = downcall(linker, lookup, "pg_query_parse", FunctionDescriptor.of(PARSE_RESULT, ADDRESS));
        freeParse = downcall(linker, lookup, "pg_query_free_parse_result", FunctionDescriptor.ofVoid(PARSE_RESULT));
        fingerprint = downcall(linker, lookup, "pg_query_fingerprint", FunctionDescriptor.of(FINGERPRINT_RESULT, ADDRESS));
        freeFingerprint = downcall(linker, lookup, "pg_query_free_fingerprint_result",
                FunctionDescriptor.ofVoid(FINGERPRINT_RESULT));
        normalize = downcall(linker, lookup, "pg_query_normalize", FunctionDescriptor.of(NORMALIZE_RESULT, ADDRESS));
        freeNormalize = downcall(linker, lookup, "pg_query_free_normalize_result",
                FunctionDescriptor.ofVoid(NORMALIZE_RESULT));
        scan = downcall(linker, lookup, "pg_query_scan", FunctionDescriptor.of(SCAN_RESULT, ADDRESS));
        freeScan = downcall(linker, lookup, "pg_query_free_scan_result", FunctionDescriptor.ofVoid(SCAN_RESULT));
        parsePlpgsql = downcall(linker, lookup, "pg_query_parse_plpgsql", FunctionDescriptor.of(PLPGSQL_RESULT, ADDRESS));
        freePlpgsql = downcall(linker, lookup, "pg_query_free_plpgsql_parse_result",
                FunctionDescriptor.ofVoid(PLPGSQL_RESULT));
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        parserThreads = Executors.newFixedThreadPool(threads, new ParserThreadFactory());
    }

    /**
     * The process-wide binding, loaded on first use.
     *
     * @throws LibPgQueryUnavailableException when the library cannot be found or bound; the
     *                                        message says what to install
     */
    public static LibPgQuery load() {
        synchronized (LOCK) {
            if (shared == null) {
                shared = new LibPgQuery(findLibrary());
            }
            return shared;
        }
    }

    /** Parses SQL text into libpg_query's JSON parse tree. */
    public ParseResult parse(String sql) {
        return callNative(sql, parse, freeParse, result -> {
            PgQueryError error = readError(address(result, PARSE_RESULT, "error"));
            return new ParseResult(error == null ? readString(address(result, PARSE_RESULT, "parse_tree")) : null, error);
        });
    }

    /** Fingerprints SQL text: statements that differ only in constants share a fingerprint. */
    public FingerprintResult fingerprint(String sql) {
        return callNative(sql, fingerprint, freeFingerprint, result -> {
            PgQueryError error = readError(address(result, FINGERPRINT_RESULT, "error"));
            if (error != null) {
                return new FingerprintResult(0L, null, error);
            }
            long value = result.get(JAVA_LONG, FINGERPRINT_RESULT.byteOffset(PathElement.groupElement("fingerprint")));
            return new FingerprintResult(value, readString(address(result, FINGERPRINT_RESULT, "fingerprint_str")), null);
        });
    }

    /** Replaces the constants of SQL text with parameter references ($1, $2, ...). */
    public NormalizeResult normalize(String sql) {
        return callNative(sql, normalize, freeNormalize, result -> {
            PgQueryError error = readError(address(result, NORMALIZE_RESULT, "error"));
            return new NormalizeResult(error == null ? readString(address(result, NORMALIZE_RESULT, "normalized_query")) : null, error);
        });
    }

    /**
     * Splits SQL text into PostgreSQL's tokens, with their byte positions: what cuts exact source
     * text (a statement, an argument) out of a text without a second lexer.
     */
    public ScanResult scan(String sql) {
        return callNative(sql, scan, freeScan, LibPgQuery::readScan);
    }

    /**
     * {@link #scan} on the calling thread, without a trip to the parser threads. Safe on any
     * thread, unlike the parser's other calls: the scanner is a loop over the input (flex), its
     * result a flat list, so its stack use does not grow with the text, which is limited to
     * {@value #MAX_INPUT_BYTES} bytes as for every call.
     */
    public ScanResult scanHere(String sql) {
        return callHere(encode(sql), scan, freeScan, LibPgQuery::readScan);
    }

    private static ScanResult readScan(MemorySegment result) {
        PgQueryError error = readError(address(result, SCAN_RESULT, "error"));
        if (error != null) {
            return new ScanResult(List.of(), error);
        }
        long length = result.get(JAVA_LONG, SCAN_RESULT.byteOffset(PathElement.groupElement("len")));
        MemorySegment data = address(result, SCAN_RESULT, "data");
        byte[] protobuf = length == 0 ? new byte[0] : data.reinterpret(length).toArray(JAVA_BYTE);
        return new ScanResult(ScanProtobuf.tokens(protobuf), null);
    }

    /**
     * Parses the PL/pgSQL bodies of the {@code CREATE FUNCTION} statements in a text into
     * libpg_query's JSON (one {@code PLpgSQL_function} per function, the embedded SQL as text).
     */
    public PlpgsqlResult parsePlpgsql(String sql) {
        return callNative(sql, parsePlpgsql, freePlpgsql, result -> {
            PgQueryError error = readError(address(result, PLPGSQL_RESULT, "error"));
            return new PlpgsqlResult(error == null ? readString(address(result, PLPGSQL_RESULT, "plpgsql_funcs")) : null, error);
        });
    }

    /** Reads what a libpg_query call returned, before it is freed. */
    @FunctionalInterface
    private interface ResultReader<T> {
        T read(MemorySegment result) throws Throwable;
    }

    /**
     * Calls a libpg_query function that takes the SQL text and returns a struct, on a parser
     * thread: reads the struct, then frees it with {@code free}, whatever happened.
     */
    private <T> T callNative(String sql, MethodHandle function, MethodHandle free, ResultReader<T> reader) {
        byte[] input = encode(sql);
        return onParserThread(() -> callHere(input, function, free, reader));
    }

    /** The call of {@link #callNative} on the calling thread. */
    private static <T> T callHere(byte[] input, MethodHandle function, MethodHandle free, ResultReader<T> reader) {
        return invokeNative(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment result = (MemorySegment) function.invokeExact((SegmentAllocator) arena, toCString(arena, input));
                try {
                    return reader.read(result);
                } finally {
                    free.invokeExact(result);
                }
            }
        });
    }

    /**
     * Runs a task on one of the binding's large-stack parser threads and waits for it; native
     * calls made inside run directly. Callers that walk deep parse trees recursively use this to
     * get the same stack.
     */
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        return CompletableFuture.supplyAsync(() -> call(task), parserThreads);
    }

    /**
     * Runs a task on one of the binding's large-stack parser threads and waits for it (see
     * {@link #submit} for the variant that does not wait).
     */
    public <T> T onParserThread(Callable<T> task) {
        if (Thread.currentThread() instanceof ParserThread) {
            return call(task);
        }
        Future<T> future = parserThreads.submit(() -> call(task));
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the SQL parser", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("SQL parser failed", e.getCause());
        }
    }

    @FunctionalInterface
    private interface NativeCall<T> {
        T call() throws Throwable;
    }

    private static <T> T invokeNative(NativeCall<T> call) {
        try {
            return call.call();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("native call to libpg_query failed", e);
        }
    }

    private static <T> T call(Callable<T> task) {
        try {
            return task.call();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("task on the SQL parser thread failed", e);
        }
    }

    /** Strict UTF-8 encoding: refuses what PostgreSQL could not receive instead of altering it. */
    static byte[] encode(String sql) {
        if (sql == null) {
            throw new IllegalArgumentException("SQL text is null");
        }
        if (sql.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("SQL text contains a NUL character (U+0000), which PostgreSQL rejects");
        }
        if (sql.length() > MAX_INPUT_BYTES) {
            throw new IllegalArgumentException(tooLarge(sql.length()));
        }
        CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer encoded;
        try {
            encoded = encoder.encode(CharBuffer.wrap(sql));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("SQL text is not valid Unicode (unpaired surrogate)", e);
        }
        if (encoded.remaining() > MAX_INPUT_BYTES) {
            throw new IllegalArgumentException(tooLarge(encoded.remaining()));
        }
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        return bytes;
    }

    private static String tooLarge(int size) {
        return "SQL text of " + size + " bytes exceeds the analysable limit of " + MAX_INPUT_BYTES + " bytes";
    }

    private static MemorySegment toCString(Arena arena, byte[] bytes) {
        MemorySegment segment = arena.allocate(bytes.length + 1L);
        MemorySegment.copy(bytes, 0, segment, JAVA_BYTE, 0, bytes.length);
        segment.set(JAVA_BYTE, bytes.length, (byte) 0);
        return segment;
    }

    private static MemorySegment address(MemorySegment struct, StructLayout layout, String field) {
        return struct.get(ADDRESS, layout.byteOffset(PathElement.groupElement(field)));
    }

    private static String readString(MemorySegment pointer) {
        if (pointer.equals(MemorySegment.NULL)) {
            return null;
        }
        return pointer.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
    }

    private static PgQueryError readError(MemorySegment pointer) {
        if (pointer.equals(MemorySegment.NULL)) {
            return null;
        }
        MemorySegment error = pointer.reinterpret(ERROR.byteSize());
        return new PgQueryError(
                readString(address(error, ERROR, "message")),
                readString(address(error, ERROR, "funcname")),
                readString(address(error, ERROR, "filename")),
                error.get(JAVA_INT, ERROR.byteOffset(PathElement.groupElement("lineno"))),
                error.get(JAVA_INT, ERROR.byteOffset(PathElement.groupElement("cursorpos"))),
                readString(address(error, ERROR, "context")));
    }

    private static MethodHandle downcall(Linker linker, SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = lookup.find(name)
                .orElseThrow(() -> unavailable("libpg_query has no symbol " + name + " (expected libpg_query 15)", null));
        return linker.downcallHandle(symbol, descriptor);
    }

    private static SymbolLookup findLibrary() {
        return findLibrary(System.getProperty(PATH_PROPERTY));
    }

    static SymbolLookup findLibrary(String configured) {
        if (configured != null && !configured.isBlank()) {
            return lookup(configured).orElseThrow(() -> unavailable(
                    "libpg_query not loadable from " + configured + " (system property " + PATH_PROPERTY + ")", null));
        }
        List<String> candidates = new ArrayList<>(LIBRARY_NAMES);
        for (String dir : LIBRARY_DIRS) {
            for (String name : LIBRARY_NAMES) {
                Path file = Path.of(dir, name);
                if (Files.exists(file)) {
                    candidates.add(file.toString());
                }
            }
        }
        for (String candidate : candidates) {
            var found = lookup(candidate);
            if (found.isPresent()) {
                LOGGER.debug("libpg_query loaded library={}", candidate);
                return found.get();
            }
        }
        throw unavailable("libpg_query not found (tried " + candidates + ")", null);
    }

    private static java.util.Optional<SymbolLookup> lookup(String nameOrPath) {
        try {
            return java.util.Optional.of(SymbolLookup.libraryLookup(nameOrPath, Arena.global()));
        } catch (IllegalArgumentException e) {
            return java.util.Optional.empty();
        }
    }

    private static LibPgQueryUnavailableException unavailable(String what, Throwable cause) {
        return new LibPgQueryUnavailableException(what + ": " + INSTALL_HINT, cause);
    }

    private static final class ParserThread extends Thread {
        ParserThread(Runnable task, String name) {
            super(null, task, name, PARSER_STACK_MB * 1024L * 1024L);
            setDaemon(true);
        }
    }

    private static final class ParserThreadFactory implements ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable task) {
            return new ParserThread(task, "pg-query-" + count.incrementAndGet());
        }
    }
}
