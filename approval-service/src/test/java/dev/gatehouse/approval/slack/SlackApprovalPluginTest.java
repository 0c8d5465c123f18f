package dev.gatehouse.approval.slack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.approval.ApprovalEvents;
import dev.gatehouse.approval.ApprovalPlugin;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.testsupport.FakeSlack;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SlackApprovalPluginTest {

    private static final String SECRET = "plugin-test-secret";

    private Vertx vertx;
    private FakeSlack slack;
    private ApprovalEvents events;
    private final SlackFixtures.MemoryLog audit = new SlackFixtures.MemoryLog();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        slack = FakeSlack.start(vertx, SECRET);
        AuditEventCodec codec = new AuditEventCodec();
        // a producer that is never used here: no broker is contacted until something is sent
        events = new ApprovalEvents(ApprovalEvents.Settings.of("127.0.0.1:1", "plugin-test"),
                EventSerde.of(codec::encode, codec::decode));
    }

    @AfterEach
    void stop() {
        events.close();
        slack.close();
        vertx.close().await();
    }

    @Test
    void withASigningSecretTheButtonsEndpointIsAddedAndRefusesForgedCallbacks() {
        // Given
        SlackApprovalPlugin plugin = new SlackApprovalPlugin(settings(SECRET), audit, new SimpleMeterRegistry());
        ApprovalPlugin.Parts parts = new ApprovalPlugin.Parts(null, events, null, vertx, "test");
        Router router = Router.router(vertx);

        // When
        var notifier = plugin.notifier(parts);
        plugin.routes(router, parts);
        HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
        String url = "http://127.0.0.1:" + server.actualPort() + SlackInteractivity.PATH;
        String body = FakeSlack.formBody(FakeSlack.blockActions("U0BOB", "ap-0123456789ab", true, slack.responseUrl()));
        String now = Long.toString(java.time.Instant.now().getEpochSecond());
        HttpResponse<String> forged = slack.post(url, body, now, FakeSlack.sign("wrong-secret", now, body));

        // Then
        assertThat(notifier).isInstanceOf(SlackNotifier.class).isSameAs(plugin.notifier(parts));
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(audit.events(AuditEvent.ProtocolViolation.class)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("bad-signature"));
        server.close().await();
        plugin.close();
        plugin.close();
    }

    @Test
    void withoutASigningSecretNoCallbackRouteIsAdded() {
        // Given
        SlackApprovalPlugin plugin = new SlackApprovalPlugin(settings(null), audit, new SimpleMeterRegistry());
        Router router = Router.router(vertx);

        // When
        plugin.routes(router, new ApprovalPlugin.Parts(null, events, null, vertx, "test"));

        // Then
        assertThat(router.getRoutes()).isEmpty();
        plugin.close();
    }

    private SlackSettings settings(String secret) {
        return new SlackSettings("#db-approvals", null, FakeSlack.BOT_TOKEN, secret, slack.apiUrl(), null,
                Map.of("U0BOB", new SlackSettings.User("bob", null, java.util.List.of("dba"), null)), false);
    }
}
