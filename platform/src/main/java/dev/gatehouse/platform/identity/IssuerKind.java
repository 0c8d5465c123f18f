package dev.gatehouse.platform.identity;

import java.util.Arrays;
import java.util.Locale;

/**
 * What kind of system issues an issuer's tokens; it selects the default {@link ClaimMapping}.
 */
public enum IssuerKind {
    /** Any OIDC provider: subject {@code sub}, groups {@code groups} as given, roles {@code roles} and {@code realm_access.roles}. */
    GENERIC("generic"),
    /**
     * Keycloak: subject {@code sub}; groups {@code groups} with the leading "/" of group paths
     * removed ("/ops/dba" becomes "ops/dba"); realm roles ({@code realm_access.roles}) as they
     * are and client roles ({@code resource_access.<client>.roles}) as "client:role".
     */
    KEYCLOAK("keycloak"),
    /** GitHub Actions OIDC tokens: subject {@code sub}, no groups or roles, CI provenance from the run's claims. */
    GITHUB_ACTIONS("github-actions"),
    /** GitLab CI ID tokens: subject {@code sub}, no groups or roles, CI provenance from the pipeline's claims. */
    GITLAB("gitlab");

    private final String configName;

    IssuerKind(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration and in {@code CiProvenance.system}: "generic", "keycloak", "github-actions", "gitlab". */
    public String configName() {
        return configName;
    }

    /** Whether tokens of this kind come from a CI system and carry CI provenance. */
    public boolean isCi() {
        return this == GITHUB_ACTIONS || this == GITLAB;
    }

    /** The kind named {@code name} in configuration; null or blank is {@link #GENERIC}. */
    public static IssuerKind parse(String name) {
        if (name == null || name.isBlank()) {
            return GENERIC;
        }
        String wanted = name.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(k -> k.configName.equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown issuer kind `" + name + "`; one of: "
                        + Arrays.stream(values()).map(IssuerKind::configName).toList()));
    }
}
