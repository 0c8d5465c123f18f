package dev.gatehouse.edge.fuzz;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs the fuzz targets ({@link FuzzTarget}s) with the Jazzer command line, each in a JVM of its
 * own (Jazzer fuzzes one target per JVM), and sums up what libFuzzer reports: inputs run,
 * executions per second, coverage, and every crash, hang or leak with the file that holds its
 * input. {@code ./gatehouse-fuzz} runs it by hand; {@link ShortFuzzingTest} runs every target
 * briefly in {@code ./mvnw verify}.
 *
 * <pre>
 *   FuzzRun [TARGET...] [--inputs N] [--seconds S] [--leak-detection LEVEL]
 * </pre>
 * Without targets it lists them. With neither bound a target runs until stopped (Ctrl-C).
 * Netty's leak detection is {@code paranoid} unless {@code --leak-detection} says otherwise:
 * {@code advanced} samples one buffer in 128 and fuzzes about four times faster, while the
 * target's {@link LeakCheckingAllocator} still finds every unreleased buffer of every input.
 * Exit status 0 without findings, 1 with one or more, 2 on bad arguments.
 */
public final class FuzzRun {

    /** Netty's leak detection level unless told otherwise. */
    public static final String PARANOID = "paranoid";

    private static final Pattern STAT = Pattern.compile("^stat::(\\w+):\\s+(\\d+)");
    private static final Pattern PROGRESS = Pattern.compile("^#(\\d+)\\s+\\w+\\s+cov: (\\d+) ft: (\\d+) corp: (\\d+)/");
    private static final Pattern ARTIFACT = Pattern.compile("Test unit written to (\\S+)");
    private static final Pattern JAVA_EXCEPTION = Pattern.compile("^== Java Exception: ([\\w.$]+)");

    /** A fuzz target: the class and its name on the command line. */
    public record Target(String name, String className) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** How long to fuzz: at most this many inputs and seconds (0 = no bound). */
    public record Bounds(long inputs, long seconds) {
    }

    /** One finding: its kind (crash, hang, leak) and the file holding the input, if libFuzzer wrote one. */
    public record Finding(String kind, String input) {
    }

    /** What a run of one target reported. */
    public record Result(Target target, int exitCode, long inputs, long inputsPerSecond, long coveredEdges,
                         long features, long corpus, List<Finding> findings, Path log) {

        public boolean clean() {
            return exitCode == 0 && findings.isEmpty();
        }

        public String summary() {
            long crashes = findings.stream().filter(f -> f.kind().equals("crash")).count();
            long hangs = findings.stream().filter(f -> f.kind().equals("hang")).count();
            long leaks = findings.stream().filter(f -> f.kind().equals("leak")).count();
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                    "%s: %,d inputs (%,d/s), coverage %,d edges and %,d features, corpus %,d inputs;"
                            + " crashes %d, hangs %d, leaks %d",
                    target.name(), inputs, inputsPerSecond, coveredEdges, features, corpus, crashes, hangs, leaks));
            findings.forEach(f -> b.append(System.lineSeparator()).append("  ").append(f.kind()).append(": ")
                    .append(f.input() == null ? "(no input file)" : f.input()));
            if (exitCode != 0 && findings.isEmpty()) {
                b.append(System.lineSeparator()).append("  Jazzer exited with ").append(exitCode)
                        .append(" without a finding: see ").append(log);
            }
            return b.toString();
        }
    }

    private FuzzRun() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        List<String> names = new ArrayList<>();
        long inputs = 0;
        long seconds = 0;
        String leakDetection = PARANOID;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--inputs" -> inputs = Long.parseLong(value(args, ++i));
                case "--seconds" -> seconds = Long.parseLong(value(args, ++i));
                case "--leak-detection" -> leakDetection = value(args, ++i);
                case "-h", "--help" -> {
                    usage(System.out);
                    return;
                }
                default -> names.add(args[i]);
            }
        }
        List<Target> all = targets();
        if (names.isEmpty()) {
            usage(System.out);
            System.out.println("targets: " + all.stream().map(Target::name).toList());
            return;
        }
        List<Target> chosen = new ArrayList<>();
        for (String name : names) {
            Target t = all.stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
            if (t == null) {
                System.err.println("no fuzz target '" + name + "'; targets: " + all.stream().map(Target::name).toList());
                System.exit(2);
            }
            chosen.add(t);
        }
        List<Result> results = new ArrayList<>();
        for (Target t : chosen) {
            results.add(fuzz(t, new Bounds(inputs, seconds), leakDetection, System.out));
        }
        System.out.println();
        results.forEach(r -> System.out.println(r.summary()));
        System.exit(results.stream().allMatch(Result::clean) ? 0 : 1);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            usage(System.err);
            System.exit(2);
        }
        return args[i];
    }

    private static void usage(PrintStream out) {
        out.println("usage: gatehouse-fuzz [TARGET...] [--inputs N] [--seconds S] [--leak-detection LEVEL]");
        out.println("  Fuzzes each TARGET (Jazzer) until N inputs ran or S seconds passed (no bound: until Ctrl-C),");
        out.println("  then prints inputs, executions per second, coverage, crashes, hangs and leaks.");
        out.println("  Netty's leak detection LEVEL is paranoid by default; advanced is about 4 times faster, and");
        out.println("  every buffer of every input is still checked for release.");
        out.println("  A finding's input is written to edge-proxy/src/test/resources/dev/gatehouse/edge/fuzz/"
                + "<Target>FuzzTestInputs/fuzz/, where it is replayed by every build from then on.");
    }

    /** Every {@code *FuzzTest} class next to {@link FuzzTarget}, named in kebab case without the suffix. */
    public static List<Target> targets() {
        Path dir = classesDirectory().resolve(FuzzTarget.class.getPackageName().replace('.', '/'));
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(f -> f.endsWith("FuzzTest.class") && !f.contains("$"))
                    .map(f -> f.substring(0, f.length() - ".class".length()))
                    .sorted()
                    .map(c -> new Target(kebab(c.substring(0, c.length() - "FuzzTest".length())),
                            FuzzTarget.class.getPackageName() + "." + c))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Fuzzes {@code target} in a new JVM with this one's class path, from the module directory (the
     * working directory of Maven's tests), where Jazzer keeps its corpus ({@code .cifuzz-corpus/})
     * and finds the inputs directory. Echoes libFuzzer's output to {@code echo} and keeps it in
     * {@code target/fuzz/<name>.log}.
     */
    public static Result fuzz(Target target, Bounds bounds, String leakDetection, PrintStream echo)
            throws IOException, InterruptedException {
        Path out = Paths.get("target", "fuzz");
        Files.createDirectories(out);
        Path log = out.resolve(target.name() + ".log");
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+EnableDynamicAgentLoading", "-Xmx1g",
                // Paranoid: Netty tracks every buffer, with where it was created, retained and released;
                // not every access (a stack trace each, twice as slow again). The target's
                // LeakCheckingAllocator checks every buffer of every input at any level.
                "-Dio.netty.leakDetection.level=" + leakDetection,
                "-Dio.netty.leakDetection.acquireAndReleaseOnly=true",
                "-Dlogback.configurationFile=dev/gatehouse/edge/fuzz/logback-fuzz.xml",
                "-cp", System.getProperty("java.class.path"),
                "com.code_intelligence.jazzer.Jazzer",
                "--target_class=" + target.className(),
                "--target_method=fuzz",
                "-print_final_stats=1",
                "-max_total_time=" + bounds.seconds()));
        if (bounds.inputs() > 0) {
            command.add("-runs=" + bounds.inputs());
        }
        echo.printf("fuzzing %s (%s), Netty leak detection %s, log %s%n", target.name(), target.className(),
                leakDetection, log.toAbsolutePath());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Parser parser = new Parser();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             PrintStream file = new PrintStream(Files.newOutputStream(log), true, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                echo.println(line);
                file.println(line);
                parser.accept(line);
            }
        }
        return parser.result(target, process.waitFor(), log);
    }

    /** Reads libFuzzer's and Jazzer's output line by line. */
    static final class Parser {
        long inputs;
        long perSecond;
        long edges;
        long features;
        long corpus;
        final List<Finding> findings = new ArrayList<>();
        private String pendingKind;

        void accept(String line) {
            Matcher m;
            if ((m = PROGRESS.matcher(line)).find()) {
                inputs = Long.parseLong(m.group(1));
                edges = Long.parseLong(m.group(2));
                features = Long.parseLong(m.group(3));
                corpus = Long.parseLong(m.group(4));
            } else if ((m = STAT.matcher(line)).find()) {
                switch (m.group(1)) {
                    case "number_of_executed_units" -> inputs = Long.parseLong(m.group(2));
                    case "average_exec_per_sec" -> perSecond = Long.parseLong(m.group(2));
                    default -> { }
                }
            } else if ((m = JAVA_EXCEPTION.matcher(line)).find()) {
                String type = m.group(1);
                pendingKind = type.endsWith("LeakError") ? "leak" : "crash";
            } else if (line.contains("ERROR: libFuzzer: timeout")) {
                pendingKind = "hang";
            } else if ((m = ARTIFACT.matcher(line)).find()) {
                String file = m.group(1);
                String kind = pendingKind != null ? pendingKind
                        : Paths.get(file).getFileName().toString().startsWith("timeout-") ? "hang" : "crash";
                findings.add(new Finding(kind, Paths.get(file).toAbsolutePath().normalize().toString()));
                pendingKind = null;
            }
        }

        Result result(Target target, int exitCode, Path log) {
            return new Result(target, exitCode, inputs, perSecond, edges, features, corpus, List.copyOf(findings), log);
        }
    }

    private static Path classesDirectory() {
        try {
            return Paths.get(FuzzTarget.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String kebab(String camel) {
        return Arrays.stream(camel.split("(?<=[a-z0-9])(?=[A-Z])"))
                .map(s -> s.toLowerCase(Locale.ROOT))
                .reduce((a, b) -> a + "-" + b)
                .orElse(camel);
    }
}
