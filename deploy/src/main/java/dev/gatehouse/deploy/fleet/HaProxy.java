package dev.gatehouse.deploy.fleet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fleet's load balancer: Debian's {@code haproxy} in TCP mode in front of the edges' PostgreSQL
 * listeners, each edge health-checked over HTTP against its {@code /health/ready} on its
 * observability port, so that an edge that died, or drains (not ready), leaves the rotation within
 * about two seconds ({@code inter 1s fall 2}); it comes back after two good checks ({@code rise 2}).
 * A connection that cannot reach the edge it was sent to (refused: a dead edge not yet marked down)
 * is sent to another one ({@code option redispatch}, {@code retries 3}). Client and server
 * timeouts are long (8 h), so held sessions (a psql waiting for an approval, an idle pool
 * connection) are not cut by the balancer.
 */
final class HaProxy {
    /**
     * Runs haproxy in the foreground and ends it when the wrapper's standard input closes (the
     * launcher stopped it or is gone, even by SIGKILL) or on SIGTERM; ends itself when haproxy does.
     * Arguments: the haproxy binary, the configuration file.
     */
    static final String WRAPPER = """
            exec 3<&0
            "$1" -db -f "$2" </dev/null & hp=$!
            trap 'kill $hp 2>/dev/null; kill $cp 2>/dev/null; wait $hp; exit 0' TERM INT HUP
            cat <&3 >/dev/null & cp=$!
            wait -n $hp $cp
            kill $hp 2>/dev/null; kill $cp 2>/dev/null
            wait $hp
            """;

    private HaProxy() {
    }

    /** One edge behind the balancer. */
    record Backend(String name, int postgresPort, int healthPort) {
    }

    /**
     * The {@code haproxy} binary: on PATH, or in {@code /usr/sbin} where Debian installs it.
     *
     * @throws IllegalStateException naming the package when it is not installed
     */
    static Path binary() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.add("/usr/sbin");
        dirs.add("/usr/local/sbin");
        for (String dir : dirs) {
            if (dir.isBlank()) continue;
            Path candidate = Path.of(dir, "haproxy");
            if (Files.isExecutable(candidate)) return candidate;
        }
        throw new IllegalStateException("haproxy is not installed: gatehouse fleet runs it as the TCP load balancer in front "
                + "of its edges (Debian/Ubuntu: apt-get install haproxy)");
    }

    /** Writes the configuration: a TCP frontend on {@code 127.0.0.1:frontendPort}, round robin over {@code backends}. */
    static Path writeConfig(Path file, int frontendPort, List<Backend> backends) {
        StringBuilder servers = new StringBuilder();
        for (Backend b : backends) {
            servers.append("    server ").append(b.name()).append(" 127.0.0.1:").append(b.postgresPort())
                    .append(" check port ").append(b.healthPort()).append('\n');
        }
        String text = """
                # written by gatehouse fleet
                global
                    maxconn 4000

                defaults
                    mode tcp
                    timeout connect 2s
                    # long: sessions may sit idle or wait for an approval for hours
                    timeout client 8h
                    timeout server 8h
                    timeout check 1s
                    retries 3
                    option redispatch

                frontend postgres
                    bind 127.0.0.1:%d
                    default_backend edges

                backend edges
                    balance roundrobin
                    # an edge is in rotation only while its /health/ready answers 200: a dead or draining
                    # edge leaves after 2 failed checks 1 s apart, and returns after 2 good ones
                    option httpchk GET /health/ready
                    http-check expect status 200
                    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2
                %s""".formatted(frontendPort, servers);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }
}
