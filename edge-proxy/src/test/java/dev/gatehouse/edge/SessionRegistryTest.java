package dev.gatehouse.edge;

import dev.gatehouse.platform.core.SessionId;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class SessionRegistryTest {

    private record Session(SessionId sessionId, int processId, int secretKey) implements SessionRegistry.LiveSession {
        @Override
        public void cancel() {
        }

        @Override
        public void kill(String reason) {
        }

        @Override
        public void drain(boolean now) {
        }
    }

    @Test
    void theChangeListenerHearsEachAddAndEachEffectiveRemove() {
        // Given
        SessionRegistry<Session> registry = new SessionRegistry<>();
        AtomicInteger changes = new AtomicInteger();
        registry.onChange(changes::incrementAndGet);
        Session s = new Session(SessionId.random(), registry.newProcessId(), registry.newSecretKey());

        // When
        registry.add(s);
        registry.remove(s);
        registry.remove(s); // already gone: no change

        // Then
        assertThat(changes).hasValue(2);
        assertThat(registry.size()).isZero();
    }
}
