package dev.gatehouse.loadtest;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;

/**
 * Runs another class's {@code main} in a child JVM of a load run and ends the JVM (shutdown hooks
 * and all) when the standard input closes: the harness holds the other end of that pipe, so a
 * child never outlives the harness, even one killed with SIGKILL that could run no shutdown hook.
 *
 * <p>{@code java ... dev.gatehouse.loadtest.ParentWatch MAIN-CLASS ARGS...}
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
                    // the harness writes nothing; only the end of the stream matters
                }
            } catch (IOException e) {
                // a broken pipe is an end too
            }
            System.err.println("parent-watch: standard input closed (the load harness stopped this process or is gone); exiting");
            System.exit(0);
        });
        Class<?> main = Class.forName(args[0]);
        MethodHandles.publicLookup().findStatic(main, "main", MethodType.methodType(void.class, String[].class))
                .invoke((Object) Arrays.copyOfRange(args, 1, args.length));
    }
}
