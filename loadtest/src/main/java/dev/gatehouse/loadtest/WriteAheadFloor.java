package dev.gatehouse.loadtest;

import dev.gatehouse.platform.kafka.KafkaAuditSink;
import dev.gatehouse.platform.kafka.KafkaClients;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The write-ahead floor: what putting each command in the log before it runs costs on this
 * machine with this stack, and nothing else. A PostgreSQL proxy on Vert.x (an event loop per
 * processor, as the edge) that, for every command (a simple Query, or an extended-protocol batch
 * up to its Sync), appends a record to a topic of its own ({@value #TOPIC}, {@value #PARTITIONS} partitions, as the
 * audit log of a load run) with the edge's write-ahead producer
 * settings ({@link KafkaClients#durableProducer}: {@code acks=all}, idempotent, no linger, one
 * request in flight), forwards the command only once the broker acknowledged it, and after the
 * target's ReadyForQuery appends a completion record with the edge's after-the-fact producer
 * settings (linger {@value KafkaAuditSink#AFTER_THE_FACT_LINGER_MS} ms, nobody waits). Records are
 * keyed by a session id and padded to {@value #RECORD_BYTES} bytes, the size of the edge's
 * {@code CommandReceived} for a pgbench statement.
 *
 * <p>No TLS, no token, no analysis, no policy, no Avro, no indexer: the part of Gatehouse's cost
 * that the architecture's write-ahead property fixes, below which no implementation of the edge
 * can go on the same broker. Bytes are forwarded as they come; the startup and login exchange
 * pass through untouched (the client logs in to the target with the target's own password).
 *
 * <p>{@code java ... WriteAheadFloor TARGET-HOST TARGET-PORT BOOTSTRAP-SERVERS EVENT-LOOPS}: prints
 * {@code gatehouse-loadtest-floor port=PORT} once it listens, and ends when its standard input ends.
 */
public final class WriteAheadFloor {

    /** Starts every line the harness reads. */
    public static final String PREFIX = "gatehouse-loadtest-floor";
    /** The size of each record's value: the edge's CommandReceived for a pgbench SELECT. */
    static final int RECORD_BYTES = 600;
    /** Its own topic, with as many partitions as the audit log of a load run, so no gateway process reads these records. */
    static final String TOPIC = "gatehouse.loadtest.floor";
    static final int PARTITIONS = 3;

    private WriteAheadFloor() {
    }

    /** The harness's handle on the floor's JVM. */
    public static final class Handle implements AutoCloseable {
        private final ChildJvm jvm;
        private final int port;

        private Handle(ChildJvm jvm, int port) {
            this.jvm = jvm;
            this.port = port;
        }

        /** Starts the floor in front of {@code host:port}, writing to {@code bootstrapServers}, and waits until it listens. */
        public static Handle start(Path dir, List<String> jvmOptions, String host, int port, String bootstrapServers,
                                   Duration timeout) throws IOException, InterruptedException {
            ChildJvm jvm = ChildJvm.start("write-ahead floor", jvmOptions, WriteAheadFloor.class.getName(),
                    List.of(host, Integer.toString(port), bootstrapServers,
                            Integer.toString(Runtime.getRuntime().availableProcessors())),
                    dir.resolve("logs").resolve("floor.log"), false, true, Map.of());
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(jvm.process().getInputStream(), StandardCharsets.UTF_8));
                String line = jvm.awaitLine(out, PREFIX, " port=", timeout);
                return new Handle(jvm, Integer.parseInt(line.substring(line.indexOf("port=") + "port=".length()).strip()));
            } catch (IOException | RuntimeException | InterruptedException e) {
                jvm.close();
                throw e;
            }
        }

        public int port() {
            return port;
        }

        public long pid() {
            return jvm.pid();
        }

        public boolean isAlive() {
            return jvm.isAlive();
        }

        @Override
        public void close() {
            jvm.close();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) throw new IllegalArgumentException("usage: WriteAheadFloor TARGET-HOST TARGET-PORT BOOTSTRAP EVENT-LOOPS");
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[2]))) {
            if (!admin.listTopics().names().get().contains(TOPIC)) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
            }
        }
        Map<String, Object> writeAhead = KafkaClients.durableProducer(args[2], "loadtest-floor");
        Map<String, Object> after = KafkaClients.durableProducer(args[2], "loadtest-floor-after");
        after.put(ProducerConfig.LINGER_MS_CONFIG, KafkaAuditSink.AFTER_THE_FACT_LINGER_MS);
        KafkaProducer<String, byte[]> first = new KafkaProducer<>(writeAhead, new StringSerializer(), new ByteArraySerializer());
        KafkaProducer<String, byte[]> last = new KafkaProducer<>(after, new StringSerializer(), new ByteArraySerializer());
        Vertx vertx = Vertx.vertx();
        NetClient client = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true));
        AtomicInteger bound = new AtomicInteger();
        NetServerOptions options = new NetServerOptions().setHost("127.0.0.1").setPort(-1).setTcpNoDelay(true);
        vertx.deployVerticle(() -> new VerticleBase() {
            @Override
            public Future<?> start() {
                return vertx.createNetServer(options)
                        .connectHandler(socket -> new Session(socket, context, client, host, port, first, last).start())
                        .listen().onSuccess(s -> bound.set(s.actualPort()));
            }
        }, new DeploymentOptions().setInstances(Integer.parseInt(args[3]))).await();
        System.out.println(PREFIX + " port=" + bound.get());
        System.out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            while (in.readLine() != null) {
                // nothing to answer: the harness only closes standard input
            }
        }
        System.exit(0);
    }

    /** One client connection and its connection to the target. */
    private static final class Session {
        private final NetSocket clientSocket;
        private final Context context;
        private final NetClient client;
        private final String host;
        private final int port;
        private final KafkaProducer<String, byte[]> first;
        private final KafkaProducer<String, byte[]> last;
        private final String sessionId = UUID.randomUUID().toString();
        private NetSocket target;
        private Buffer fromClient = Buffer.buffer();
        private Buffer fromTarget = Buffer.buffer();
        /** Client bytes of the command being collected (up to its Query or Sync). */
        private Buffer command = Buffer.buffer();
        private boolean started;
        private int awaitingReady;

        Session(NetSocket clientSocket, Context context, NetClient client, String host, int port,
                KafkaProducer<String, byte[]> first, KafkaProducer<String, byte[]> last) {
            this.clientSocket = clientSocket;
            this.context = context;
            this.client = client;
            this.host = host;
            this.port = port;
            this.first = first;
            this.last = last;
        }

        void start() {
            clientSocket.pause();
            client.connect(port, host).onComplete(ar -> {
                if (ar.failed()) {
                    clientSocket.close();
                    return;
                }
                target = ar.result();
                target.handler(this::onTarget);
                target.closeHandler(v -> clientSocket.close());
                clientSocket.handler(this::onClient);
                clientSocket.closeHandler(v -> target.close());
                clientSocket.resume();
            });
        }

        private void onClient(Buffer data) {
            fromClient.appendBuffer(data);
            while (true) {
                if (!started) {
                    if (fromClient.length() < 4) return;
                    int length = fromClient.getInt(0);
                    if (fromClient.length() < length) return;
                    int code = length >= 8 ? fromClient.getInt(4) : 0;
                    if (code == 80877103 || code == 80877104) { // SSLRequest, GSSENCRequest: neither here
                        clientSocket.write(Buffer.buffer(new byte[] {'N'}));
                    } else {
                        started = code != 80877102; // a CancelRequest is the connection's only message
                        target.write(fromClient.getBuffer(0, length));
                    }
                    fromClient = fromClient.getBuffer(length, fromClient.length());
                    continue;
                }
                if (fromClient.length() < 5) return;
                int length = fromClient.getInt(1) + 1;
                if (fromClient.length() < length) return;
                Buffer message = fromClient.getBuffer(0, length);
                fromClient = fromClient.getBuffer(length, fromClient.length());
                byte type = message.getByte(0);
                if (type == 'Q' || type == 'S') {
                    command.appendBuffer(message);
                    Buffer ready = command;
                    command = Buffer.buffer();
                    writeAhead(ready);
                } else if (type == 'P' || type == 'B' || type == 'D' || type == 'E' || type == 'C' || type == 'H') {
                    command.appendBuffer(message);
                } else {
                    target.write(message); // login, Terminate, CopyData...
                }
            }
        }

        private void writeAhead(Buffer ready) {
            clientSocket.pause();
            first.send(new ProducerRecord<>(TOPIC, sessionId, padded(ready)), (metadata, error) ->
                    context.runOnContext(v -> {
                        if (error != null) {
                            clientSocket.close();
                            return;
                        }
                        awaitingReady++;
                        target.write(ready);
                        clientSocket.resume();
                    }));
        }

        private void onTarget(Buffer data) {
            clientSocket.write(data);
            fromTarget.appendBuffer(data);
            while (fromTarget.length() >= 5) {
                int length = fromTarget.getInt(1) + 1;
                if (fromTarget.length() < length) break;
                if (fromTarget.getByte(0) == 'Z' && awaitingReady > 0) {
                    awaitingReady--;
                    last.send(new ProducerRecord<>(TOPIC, sessionId, new byte[RECORD_BYTES / 4]));
                }
                fromTarget = fromTarget.getBuffer(length, fromTarget.length());
            }
        }

        private static byte[] padded(Buffer command) {
            byte[] value = new byte[Math.max(RECORD_BYTES, command.length())];
            command.getBytes(0, command.length(), value, 0);
            return value;
        }
    }
}
