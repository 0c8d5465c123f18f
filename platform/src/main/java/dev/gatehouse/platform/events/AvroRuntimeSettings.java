package dev.gatehouse.platform.events;

import org.apache.avro.SystemLimitException;
import org.apache.avro.util.ClassSecurityValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide Avro settings our codecs rely on, applied once before the first codec is used.
 *
 * <ul>
 *   <li>Trusted classes. Since Avro 1.12.2, {@code SpecificData} only instantiates classes a
 *       {@link ClassSecurityValidator} trusts, by default a few {@code java.lang} types, so decoding
 *       a {@code dev.gatehouse.schemas.v1} record fails with "Forbidden ... not trusted". The
 *       documented switch is the system property {@code org.apache.avro.SERIALIZABLE_PACKAGES};
 *       Avro reads it only once, when its validator initializes, so the property is extended here
 *       and, in case Avro initialized earlier, the global validator is widened to the generated
 *       package as well.</li>
 *   <li>String and bytes length limits. A corrupt record can declare a string of 2 GiB and Avro
 *       allocates it before noticing the input is shorter. Unless the operator set them,
 *       {@code org.apache.avro.limits.string.maxLength} and {@code ...bytes.maxLength} are set to
 *       {@value #MAX_LENGTH} bytes, far above any event (Kafka's default message limit is 1 MiB).
 *       Avro also reads these once; when it was initialized earlier a warning is logged.</li>
 * </ul>
 */
final class AvroRuntimeSettings {

    private static final Logger LOGGER = LoggerFactory.getLogger(AvroRuntimeSettings.class);
    static final String SERIALIZABLE_PACKAGES = "org.apache.avro.SERIALIZABLE_PACKAGES";
    static final String GENERATED_PACKAGE = "dev.gatehouse.schemas.v1";
    static final int MAX_LENGTH = 64 * 1024 * 1024;

    private static boolean applied;

    private AvroRuntimeSettings() {
    }

    static synchronized void ensure() {
        if (applied) {
            return;
        }
        applied = true;
        String packages = System.getProperty(SERIALIZABLE_PACKAGES);
        if (packages == null || packages.isBlank()) {
            System.setProperty(SERIALIZABLE_PACKAGES, GENERATED_PACKAGE);
        } else if (!java.util.Arrays.asList(packages.split(",")).contains(GENERATED_PACKAGE)) {
            System.setProperty(SERIALIZABLE_PACKAGES, packages + "," + GENERATED_PACKAGE);
        }
        System.getProperties().putIfAbsent(SystemLimitException.MAX_STRING_LENGTH_PROPERTY, Integer.toString(MAX_LENGTH));
        System.getProperties().putIfAbsent(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, Integer.toString(MAX_LENGTH));

        var global = ClassSecurityValidator.getGlobal();
        if (!global.isTrusted(dev.gatehouse.schemas.v1.AuditRecord.class)) {
            ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(global,
                    c -> GENERATED_PACKAGE.equals(c.getPackageName())));
            LOGGER.debug("Avro class validator widened to package={}", GENERATED_PACKAGE);
        }
        if (!stringLimitEffective()) {
            LOGGER.warn("Avro was initialized before the Gatehouse codecs; string length limit of {} bytes not applied,"
                    + " a corrupt record may allocate up to 2 GiB. Set -D{}={} to apply it", MAX_LENGTH,
                    SystemLimitException.MAX_STRING_LENGTH_PROPERTY, MAX_LENGTH);
        }
    }

    private static boolean stringLimitEffective() {
        try {
            SystemLimitException.checkMaxStringLength((long) MAX_LENGTH + 1);
            return false;
        } catch (SystemLimitException expected) {
            return true;
        }
    }
}
