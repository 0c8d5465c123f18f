package dev.gatehouse.platform.core;

/**
 * Where a CI identity's request came from: the repository, the commit and the run. Every field
 * may be null when the issuing CI system does not provide it.
 */
public record CiProvenance(
        String system,
        String repository,
        String repositoryId,
        String commitSha,
        String ref,
        String workflow,
        String runId,
        String job) {
}
