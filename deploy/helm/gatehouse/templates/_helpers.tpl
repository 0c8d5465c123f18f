{{/* Names and labels */}}
{{- define "gatehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gatehouse.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of a component's objects: <fullname>-<component>, at most 63 characters. */}}
{{- define "gatehouse.componentName" -}}
{{- printf "%s-%s" (include "gatehouse.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "gatehouse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: gatehouse
{{- end }}

{{- define "gatehouse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
A secretKeyRef for a secret given inline or by reference:
  ctx: the root context; ref: the values ({<valueField>, existingSecret, existingSecretKey});
  valueField: "password" or "value"; secret: the component of the chart's own Secret; key: its key there;
  what: the values path, for the error message.
*/}}
{{- define "gatehouse.secretKeyRef" -}}
{{- if .ref.existingSecret -}}
secretKeyRef:
  name: {{ .ref.existingSecret }}
  key: {{ required (printf "%s.existingSecretKey is required with %s.existingSecret" .what .what) .ref.existingSecretKey }}
{{- else if (get .ref .valueField) -}}
secretKeyRef:
  name: {{ include "gatehouse.componentName" (dict "ctx" .ctx "component" .secret) }}
  key: {{ .key }}
{{- else -}}
{{- fail (printf "%s: set %s.existingSecret (a Secret you created) or %s.%s" .what .what .what .valueField) }}
{{- end -}}
{{- end }}

{{/* Whether a secret is given at all (inline or by reference): "true" or "". */}}
{{- define "gatehouse.secretGiven" -}}
{{- if or .ref.existingSecret (get .ref .valueField) }}true{{ end }}
{{- end }}

{{/* The environment variable holding a target's password: GATEHOUSE_TARGET_<NAME>_PASSWORD. */}}
{{- define "gatehouse.targetPasswordEnv" -}}
{{- printf "GATEHOUSE_TARGET_%s_PASSWORD" (regexReplaceAll "[^A-Za-z0-9]" . "_" | upper) }}
{{- end }}

{{/*
The Kafka client properties of one process: TLS with the brokers' CA as PEM trust store, SASL with
this process's own user name; the password is the placeholder ${GATEHOUSE_KAFKA_PASSWORD}.
  ctx: the root context; username: the Kafka user.
*/}}
{{- define "gatehouse.kafkaProperties" -}}
{{- $k := .ctx.Values.kafka }}
{{- $props := dict }}
{{- range $name, $value := $k.extraProperties }}
{{- if or (eq $name "sasl.jaas.config") (eq $name "bootstrap.servers") (eq $name "security.protocol") (hasPrefix "ssl.truststore" $name) }}
{{- fail (printf "kafka.extraProperties.%s: set by the chart from kafka.bootstrapServers, kafka.tls, kafka.sasl and kafka.credentials" $name) }}
{{- end }}
{{- $_ := set $props $name (toString $value) }}
{{- end }}
{{- $protocol := "PLAINTEXT" }}
{{- if and $k.tls.enabled $k.sasl.enabled }}{{ $protocol = "SASL_SSL" }}
{{- else if $k.sasl.enabled }}{{ $protocol = "SASL_PLAINTEXT" }}
{{- else if $k.tls.enabled }}{{ $protocol = "SSL" }}
{{- end }}
{{- $_ := set $props "security.protocol" $protocol }}
{{- if $k.tls.enabled }}
{{- $_ := set $props "ssl.truststore.type" "PEM" }}
{{- $_ := set $props "ssl.truststore.location" (printf "/etc/gatehouse/kafka-ca/%s" (required "kafka.tls.caKey is required with kafka.tls.enabled" $k.tls.caKey)) }}
{{- end }}
{{- if $k.sasl.enabled }}
{{- $module := "org.apache.kafka.common.security.plain.PlainLoginModule" }}
{{- if hasPrefix "SCRAM-" $k.sasl.mechanism }}{{ $module = "org.apache.kafka.common.security.scram.ScramLoginModule" }}{{ end }}
{{- $_ := set $props "sasl.mechanism" $k.sasl.mechanism }}
{{- $_ := set $props "sasl.jaas.config" (printf "%s required username=\"%s\" password=\"${GATEHOUSE_KAFKA_PASSWORD}\";" $module .username) }}
{{- end }}
{{- range $name := keys $props | sortAlpha }}
{{ $name }}: {{ get $props $name | quote }}
{{- end }}
{{- end }}

{{/* The kafka section of a configuration. ctx, username; provisioner: "true" for the job's (with acl-principals). */}}
{{- define "gatehouse.kafkaSection" -}}
{{- $k := .ctx.Values.kafka -}}
kafka:
  bootstrap-servers: {{ $k.bootstrapServers | quote }}
  partitions: {{ $k.partitions }}
  replication-factor: {{ $k.replicationFactor }}
  {{- with $k.auditRetention }}
  audit-retention: {{ . | quote }}
  {{- end }}
  delivery-timeout: {{ $k.deliveryTimeout | quote }}
  provision-topics: false
  properties:
    {{- include "gatehouse.kafkaProperties" . | trim | nindent 4 }}
  {{- if .provisioner }}
  acl-principals:
    {{- range $role := list "edge" "policy" "approval" "indexer" "admin" }}
    {{ $role }}: {{ printf "User:%s" (get $k.credentials $role).username | quote }}
    {{- end }}
  {{- end }}
{{- end }}

{{/* The identity section: the trusted OIDC issuers. */}}
{{- define "gatehouse.identitySection" -}}
{{- $i := .Values.identity -}}
identity:
  session-expiry-grace: {{ $i.sessionExpiryGrace | quote }}
  jwks-cache-ttl: {{ $i.jwksCacheTtl | quote }}
  issuers:
    {{- range $i.issuers }}
    - issuer: {{ .issuer | quote }}
      kind: {{ default "generic" .kind | quote }}
      {{- with .jwksUri }}
      jwks-uri: {{ . | quote }}
      {{- end }}
      audiences: {{ toJson .audiences }}
      {{- with .algorithms }}
      algorithms: {{ toJson . }}
      {{- end }}
      {{- with .clockSkew }}
      clock-skew: {{ . | quote }}
      {{- end }}
      {{- with .subjectClaim }}
      subject-claim: {{ . | quote }}
      {{- end }}
      {{- with .groupsClaim }}
      groups-claim: {{ . | quote }}
      {{- end }}
      {{- with .groupPaths }}
      group-paths: {{ . | quote }}
      {{- end }}
      {{- with .rolesClaims }}
      roles-claims: {{ toJson . }}
      {{- end }}
      {{- with .delegation }}
      delegation:
        accept-act: {{ default false .acceptAct }}
        {{- with .actorClaim }}
        actor-claim: {{ . | quote }}
        {{- end }}
        {{- with .humanClients }}
        human-clients: {{ toJson . }}
        {{- end }}
        {{- with .maxDepth }}
        max-depth: {{ . }}
        {{- end }}
        {{- with .runClaim }}
        run-claim: {{ . | quote }}
        {{- end }}
        {{- with .stepClaim }}
        step-claim: {{ . | quote }}
        {{- end }}
      {{- end }}
    {{- end }}
{{- end }}

{{/* The gatehouse.yaml of one role. ctx, role. */}}
{{- define "gatehouse.roleConfig" -}}
{{- $v := .ctx.Values -}}
# Gatehouse role {{ .role }}, rendered by the Helm chart. Secrets are ${...} placeholders, resolved
# from the pod's environment (Secrets) when the file is loaded.
instance-id: ${POD_NAME}
data-dir: /var/lib/gatehouse
{{ include "gatehouse.kafkaSection" (dict "ctx" .ctx "username" (get $v.kafka.credentials .role).username) }}
observability:
  host: 0.0.0.0
  port: {{ $v.observability.port }}
{{ include "gatehouse.identitySection" .ctx }}
{{- if eq .role "edge" }}
edge:
  drain-timeout: {{ printf "%ds" (int $v.edge.drainTimeoutSeconds) }}
  postgres:
    host: 0.0.0.0
    port: {{ $v.edge.postgres.port }}
    {{- if $v.edge.tls.secretName }}
    tls:
      cert: /etc/gatehouse/tls/tls.crt
      key: /etc/gatehouse/tls/tls.key
    {{- end }}
    allow-plaintext: {{ $v.edge.tls.allowPlaintext }}
    decision-deadline: {{ $v.edge.postgres.decisionDeadline | quote }}
    authentication-timeout: {{ $v.edge.postgres.authenticationTimeout | quote }}
    max-connections: {{ $v.edge.postgres.maxConnections }}
  {{- if $v.edge.mysql.enabled }}
  mysql:
    host: 0.0.0.0
    port: {{ $v.edge.mysql.port }}
    allow-plaintext: {{ $v.edge.tls.allowPlaintext }}
    max-connections: {{ $v.edge.mysql.maxConnections }}
  {{- end }}
  {{- if $v.edge.masking.profiles }}
  masking:
    profiles-file: /etc/gatehouse/masking.yaml
    hmac-key-env: GATEHOUSE_MASKING_HMAC_KEY
  {{- end }}
connections:
  {{- range $v.connections }}
  - name: {{ .name | quote }}
    protocol: {{ default "postgres" .protocol | quote }}
    host: {{ .host | quote }}
    {{- with .port }}
    port: {{ . }}
    {{- end }}
    database: {{ .database | quote }}
    user: {{ .user | quote }}
    {{- if or .password .existingSecret }}
    password: {{ printf "${%s}" (include "gatehouse.targetPasswordEnv" .name) | quote }}
    {{- end }}
    tls: {{ default false .tls }}
    {{- with .tlsCa }}
    tls-ca: {{ . | quote }}
    {{- end }}
    mode: {{ default "enforce" .mode | quote }}
    {{- with .labels }}
    labels: {{ toJson . }}
    {{- end }}
    {{- with .resultCapture }}
    result-capture: {{ toJson . }}
    {{- end }}
  {{- else }} []
  {{- end }}
{{- else if eq .role "policy" }}
policy:
  file: /etc/gatehouse/policy.yaml
  session-timeout: {{ $v.policy.sessionTimeout | quote }}
  time-zone: {{ $v.policy.timeZone | quote }}
{{- else if eq .role "approval" }}
approval:
  host: 0.0.0.0
  port: {{ $v.approval.port }}
  default-expiry: {{ $v.approval.defaultExpiry | quote }}
  deferred-validity: {{ $v.approval.deferredValidity | quote }}
  {{- if $v.approval.slack.enabled }}
  slack:
    channel: {{ $v.approval.slack.channel | quote }}
    bot-token-env: SLACK_BOT_TOKEN
    signing-secret-env: SLACK_SIGNING_SECRET
    {{- with $v.approval.slack.consoleUrl }}
    console-url: {{ . | quote }}
    {{- end }}
    approvers-by-email: {{ $v.approval.slack.approversByEmail }}
    {{- with $v.approval.slack.users }}
    users: {{ toJson . }}
    {{- end }}
  {{- end }}
{{- else if eq .role "indexer" }}
indexer:
  store: postgres
  postgres:
    url: {{ required "indexer.postgres.url is required (jdbc:postgresql://host:5432/db)" $v.indexer.postgres.url | quote }}
    user: {{ required "indexer.postgres.user is required" $v.indexer.postgres.user | quote }}
    password-env: GATEHOUSE_INDEXER_DB_PASSWORD
  host: 0.0.0.0
  port: {{ $v.indexer.port }}
  read-group: {{ $v.indexer.readGroup | quote }}
  abort-grace: {{ $v.indexer.abortGrace | quote }}
  {{- if $v.indexer.signingKey.existingSecret }}
  signing-key-file: /etc/gatehouse/indexer/signing-key.pem
  {{- end }}
  ocsf: {enabled: {{ $v.indexer.ocsf }}}
{{- else if eq .role "admin" }}
admin:
  host: 0.0.0.0
  port: {{ $v.admin.port }}
  group: {{ $v.admin.group | quote }}
{{- end }}
{{- end }}

{{/* The pod and container security settings every Gatehouse pod shares. */}}
{{- define "gatehouse.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "gatehouse.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}
