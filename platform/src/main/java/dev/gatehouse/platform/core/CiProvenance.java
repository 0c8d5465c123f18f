package dev.gatehouse.platform.core;

/**
 * Where a CI identity's request came from: the repository, the commit and the run. Every field
 * may be null when the issuing CI system does not provide it.
 *
 * <p>GitHub Actions and GitLab CI claims, by field (see {@code dev.gatehouse.platform.identity.ClaimMapping}):
 * <pre>
 * field              GitHub Actions         GitLab CI
 * system             "github-actions"       "gitlab"
 * repository         repository             project_path
 * repositoryId       repository_id          project_id
 * commitSha          sha                    sha
 * ref                ref                    ref_path (else ref)
 * workflow           workflow               (none)
 * runId              run_id                 pipeline_id
 * job                check_run_id           job_id
 * workflowRef        workflow_ref           ci_config_ref_uri
 * workflowSha        workflow_sha           ci_config_sha
 * jobWorkflowRef     job_workflow_ref       (none)
 * jobWorkflowSha     job_workflow_sha       (none)
 * runAttempt         run_attempt            (none: a retry is a new job_id)
 * actor              actor                  user_login
 * actorId            actor_id               user_id
 * environment        environment            environment
 * event              event_name             pipeline_source
 * refProtected       ref_protected          ref_protected
 * runnerEnvironment  runner_environment     runner_environment
 * </pre>
 */
public record CiProvenance(
        String system,
        String repository,
        String repositoryId,
        String commitSha,
        String ref,
        String workflow,
        String runId,
        String job,
        String workflowRef,
        String workflowSha,
        String jobWorkflowRef,
        String jobWorkflowSha,
        String runAttempt,
        String actor,
        String actorId,
        String environment,
        String event,
        String refProtected,
        String runnerEnvironment) {

    /** The provenance of the first schema version: repository, commit, ref, workflow, run and job only. */
    public CiProvenance(String system, String repository, String repositoryId, String commitSha, String ref,
                        String workflow, String runId, String job) {
        this(system, repository, repositoryId, commitSha, ref, workflow, runId, job,
                null, null, null, null, null, null, null, null, null, null, null);
    }
}
