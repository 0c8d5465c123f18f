/**
 * Evidence that a session's timeline was not altered: a SHA-256 hash chain over the exact Kafka
 * record bytes of the session's events ({@link dev.gatehouse.platform.evidence.SessionChain}), an
 * Ed25519 seal over the chain head ({@link dev.gatehouse.platform.evidence.SessionSealer},
 * {@link dev.gatehouse.platform.evidence.SigningKeys}), and a portable export that anyone can check
 * ({@link dev.gatehouse.platform.evidence.SessionExport}). See {@code docs/evidence.md}.
 */
package dev.gatehouse.platform.evidence;
