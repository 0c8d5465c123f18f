package dev.gatehouse.edge;

import dev.gatehouse.edge.session.Scheduler;
import io.vertx.core.Context;

import java.time.Duration;

/** A session's {@link Scheduler} on its Vert.x event-loop context. */
public final class VertxScheduler implements Scheduler {
    private final Context context;

    public VertxScheduler(Context context) {
        this.context = context;
    }

    @Override
    public void execute(Runnable task) {
        context.runOnContext(v -> task.run());
    }

    @Override
    public long setTimer(Duration delay, Runnable task) {
        return context.owner().setTimer(Math.max(1, delay.toMillis()), id -> context.runOnContext(v -> task.run()));
    }

    @Override
    public long setPeriodic(Duration period, Runnable task) {
        long ms = Math.max(1, period.toMillis());
        return context.owner().setPeriodic(ms, ms, id -> context.runOnContext(v -> task.run()));
    }

    @Override
    public void cancelTimer(long id) {
        context.owner().cancelTimer(id);
    }
}
