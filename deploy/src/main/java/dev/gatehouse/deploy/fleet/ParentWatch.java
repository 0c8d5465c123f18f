package dev.gatehouse.deploy.fleet;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;

/**
 * Runs another class's {@code main} in a child JVM (of {@code gatehouse fleet}, of a load run) and
 * ends the JVM (shutdown hooks and all) when its standard input closes: the launcher holds the
 * other end of that pipe, so a child never outlives the launcher, even one killed with SIGKILL that
 * could run no shutdown hook. A {@code main} that throws ends the JVM too (exit code 1), rather than
 * leaving it half started with other threads running.
 *
 * <p>{@code java ... dev.gatehouse.deploy.fleet.ParentWatch MAIN-CLASS ARGS...}
 */
public final class ParentWatch {

    private ParentWatch() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 0) throw new IllegalArgumentException("usage: ParentWatch MAIN-CLASS [ARGS...]");
        Thread.ofPlatform().daemon().name("parent-watch").start(() -> {
            InputStream in = System.in;
            try {
                byte[] buffer = new byte[256];
                while (in.read(buffer) >= 0) {
                    // the launcher writes nothing; only the end of the stream matters
                }
            } catch (IOException e) {
                // a broken pipe is an end too
            }
            System.err.println("parent-watch: standard input closed (the launcher stopped this process or is gone); exiting");
            System.exit(0);
        });
        Class<?> main = Class.forName(args[0]);
        try {
            MethodHandles.publicLookup().findStatic(main, "main", MethodType.methodType(void.class, String[].class))
                    .invoke((Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (Throwable e) {
            // a main that failed must not leave a half-started JVM behind (its other threads would keep it alive)
            System.err.println("parent-watch: " + args[0] + " failed; exiting");
            e.printStackTrace();
            System.exit(1);
        }
    }
}
