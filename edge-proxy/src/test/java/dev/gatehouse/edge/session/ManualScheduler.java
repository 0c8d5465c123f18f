package dev.gatehouse.edge.session;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * A deterministic {@link Scheduler} for tests: tasks run when the test calls {@link #runAll()},
 * timers fire when it advances the clock ({@link #advance(Duration)}). Single-threaded. Public for the
 * session's fuzz target, which drives a PostgreSQL session with it.
 */
public final class ManualScheduler implements Scheduler {
    private record Timer(long id, Instant due, Duration period, Runnable task) {
    }

    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private final Map<Long, Timer> timers = new TreeMap<>();
    private Instant now = Instant.parse("2026-12-02T10:00:00Z");
    private long nextId;

    @Override
    public synchronized void execute(Runnable task) {
        tasks.add(task);
    }

    @Override
    public synchronized long setTimer(Duration delay, Runnable task) {
        long id = nextId++;
        timers.put(id, new Timer(id, now.plus(delay), null, task));
        return id;
    }

    @Override
    public synchronized long setPeriodic(Duration period, Runnable task) {
        long id = nextId++;
        timers.put(id, new Timer(id, now.plus(period), period, task));
        return id;
    }

    @Override
    public synchronized void cancelTimer(long id) {
        timers.remove(id);
    }

    @Override
    public synchronized Instant now() {
        return now;
    }

    /** Runs queued tasks (and the tasks they queue) until none is left. */
    public void runAll() {
        while (true) {
            Runnable next;
            synchronized (this) {
                next = tasks.poll();
            }
            if (next == null) return;
            next.run();
        }
    }

    /** Moves the clock forward, firing due timers in order, and runs what they queue. */
    public void advance(Duration by) {
        Instant until = now.plus(by);
        while (true) {
            Timer due;
            synchronized (this) {
                due = timers.values().stream().filter(t -> !t.due().isAfter(until))
                        .min((a, b) -> a.due().compareTo(b.due())).orElse(null);
                if (due == null) {
                    now = until;
                    break;
                }
                now = due.due();
                if (due.period() == null) timers.remove(due.id());
                else timers.put(due.id(), new Timer(due.id(), due.due().plus(due.period()), due.period(), due.task()));
            }
            due.task().run();
            runAll();
        }
        runAll();
    }

    public synchronized int pendingTimers() {
        return timers.size();
    }
}
