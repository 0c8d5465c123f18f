package dev.gatehouse.deploy.dev;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * What a local {@code gatehouse dev} wrote for the CLI (its ports, its issuer), and whether the
 * development parts are here at all. Needs nothing of the {@code dev} module, so that the CLI
 * commands that fall back on a local dev environment still load where that module is absent (the
 * container image, {@code image/}): there they find no state and say what to pass instead.
 */
public final class DevState {
    private static final Logger LOGGER = LoggerFactory.getLogger(DevState.class);

    /** The file {@code gatehouse dev} writes into its data directory. */
    public static final String STATE_FILE = "dev.properties";
    /** The subject of the development administrator whose tokens the CLI mints for a local {@code gatehouse dev}. */
    public static final String DEV_ADMIN = "dev-admin";

    private DevState() {
    }

    /** Reads what a running (or last) {@code gatehouse dev} wrote, or empty properties. */
    public static Properties read(Path dataDir) {
        Properties p = new Properties();
        Path file = dataDir.resolve(STATE_FILE);
        if (Files.exists(file)) {
            try (var in = Files.newBufferedReader(file)) {
                p.load(in);
            } catch (IOException e) {
                LOGGER.warn("cannot read {}: {}", file, e.toString());
            }
        }
        return p;
    }

    /**
     * Whether the development parts (embedded Kafka, development token issuer, demo targets) are on
     * the class path: in a source checkout yes, in the container image no.
     */
    public static boolean developmentPartsPresent() {
        try {
            Class.forName("dev.gatehouse.dev.DevTokenIssuer", false, DevState.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /**
     * Fails with a clear message when {@code command} needs the development parts and they are absent.
     *
     * @throws IllegalStateException naming the command and where it runs
     */
    public static void requireDevelopmentParts(String command) {
        if (!developmentPartsPresent()) {
            throw new IllegalStateException("'gatehouse " + command + "' is a development command and is not part of this"
                    + " distribution (the container image has no embedded Kafka, development token issuer or demo targets);"
                    + " run it from a source checkout: ./gatehouse " + command);
        }
    }
}
