package dev.gatehouse.edge;

import dev.gatehouse.platform.core.ControlMessage;

/** Sends requests to whichever edge of the fleet holds a session (Kafka behind it). */
@FunctionalInterface
public interface ControlPort {
    void publish(ControlMessage message);

    ControlPort NONE = message -> { };
}
