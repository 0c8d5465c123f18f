package dev.gatehouse.deploy.roles;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;

/** What was started, stopped in reverse order; a failure to stop one is logged, not fatal. */
public final class Closer implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Closer.class);
    private final Deque<AutoCloseable> started = new ArrayDeque<>();

    /** Registers {@code c} to be closed before everything registered earlier; returns it. */
    public <T extends AutoCloseable> T add(T c) {
        started.push(c);
        return c;
    }

    @Override
    public void close() {
        while (!started.isEmpty()) {
            AutoCloseable c = started.pop();
            try {
                c.close();
            } catch (Exception e) {
                LOGGER.warn("error while stopping {}: {}", c, e.toString());
            }
        }
    }
}
