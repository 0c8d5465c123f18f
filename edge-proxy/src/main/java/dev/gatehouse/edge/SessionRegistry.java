package dev.gatehouse.edge;

import dev.gatehouse.platform.core.SessionId;

import java.security.SecureRandom;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live sessions of one edge, by the process id the edge gave the client (for
 * CancelRequest) and by session id (for kills).
 */
public final class SessionRegistry<S extends SessionRegistry.LiveSession> {

    /** What the registry needs of a session. */
    public interface LiveSession {
        SessionId sessionId();

        int processId();

        int secretKey();

        /** Cancels the running query at the target. Called on any thread. */
        void cancel();

        /** Ends the session with a fatal error naming the reason. Called on any thread. */
        void kill(String reason);

        /**
         * The edge is shutting down: end the session with the target's shutdown error once no command
         * of it is in flight, or at once when {@code now}. Called on any thread.
         */
        void drain(boolean now);
    }

    private final SecureRandom random = new SecureRandom();
    private final Map<Integer, S> byProcessId = new ConcurrentHashMap<>();
    private final Map<SessionId, S> bySessionId = new ConcurrentHashMap<>();
    private volatile Runnable changeListener = () -> { };

    /** Called (on the adding or removing thread) after a session is added or removed; must be quick. */
    public void onChange(Runnable listener) {
        this.changeListener = listener == null ? () -> { } : listener;
    }

    /** A fresh process id not used by a live session of this edge. */
    public int newProcessId() {
        while (true) {
            int pid = random.nextInt(1, Integer.MAX_VALUE);
            if (!byProcessId.containsKey(pid)) return pid;
        }
    }

    public int newSecretKey() {
        return random.nextInt();
    }

    public void add(S session) {
        byProcessId.put(session.processId(), session);
        bySessionId.put(session.sessionId(), session);
        changeListener.run();
    }

    public void remove(S session) {
        byProcessId.remove(session.processId(), session);
        if (bySessionId.remove(session.sessionId(), session)) changeListener.run();
    }

    /** The session a CancelRequest names, when it lives here and the secret matches. */
    public Optional<S> forCancel(int processId, int secretKey) {
        S s = byProcessId.get(processId);
        return s != null && s.secretKey() == secretKey ? Optional.of(s) : Optional.empty();
    }

    public Optional<S> find(SessionId id) {
        return Optional.ofNullable(bySessionId.get(id));
    }

    public Collection<S> all() {
        return bySessionId.values();
    }

    /**
     * Drains the sessions of a listener that takes no new connections: asks each to end once its
     * command in flight completes, waits until all have ended or {@code timeout} passed, then ends the
     * rest at once. Blocks the calling thread (never an event loop).
     *
     * @return the sessions that were ended at once, with a command in flight, after the timeout
     */
    public int drain(java.time.Duration timeout) {
        all().forEach(s -> s.drain(false));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!bySessionId.isEmpty() && System.nanoTime() - deadline < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
        }
        var rest = java.util.List.copyOf(all());
        rest.forEach(s -> s.drain(true));
        return rest.size();
    }

    public int size() {
        return bySessionId.size();
    }
}
