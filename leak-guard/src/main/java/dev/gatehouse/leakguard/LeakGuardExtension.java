package dev.gatehouse.leakguard;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test, or its class for what its {@code @BeforeAll}/{@code @AfterAll} fixtures leaked,
 * when Netty reported a leak while it ran. Registered for every test through JUnit's extension
 * autodetection ({@code META-INF/services}; the root pom enables
 * {@code junit.jupiter.extensions.autodetection.enabled} for Surefire and Failsafe).
 */
public final class LeakGuardExtension implements AfterEachCallback, AfterAllCallback {

    @Override
    public void afterEach(ExtensionContext context) {
        LeakGuard.failIfAny(LeakGuard.pollAndDrain(), "test " + describe(context));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        LeakGuard.failIfAny(LeakGuard.pollAndDrain(), "the class-level fixtures of " + describe(context));
    }

    private static String describe(ExtensionContext context) {
        String className = context.getTestClass().map(Class::getName).orElse("?");
        return context.getTestMethod().isPresent() ? className + " > " + context.getDisplayName() : className;
    }
}
