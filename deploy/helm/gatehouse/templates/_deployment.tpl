{{/*
The Deployment of one role: `gatehouse run --config /etc/gatehouse/gatehouse.yaml --roles <role>`.
  ctx: the root context; role: edge | policy | approval | indexer | admin; values: the role's values;
  ports: list of {name, port} the role listens on besides observability.port.
*/}}
{{- define "gatehouse.deployment" -}}
{{- $ctx := .ctx -}}
{{- $v := $ctx.Values -}}
{{- $role := .role -}}
{{- $rv := .values -}}
{{- $credential := get $v.kafka.credentials $role -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "gatehouse.componentName" (dict "ctx" $ctx "component" $role) }}
  labels:
    {{- include "gatehouse.labels" (dict "ctx" $ctx "component" $role) | nindent 4 }}
spec:
  {{- if not (and (eq $role "edge") $v.edge.autoscaling.enabled) }}
  replicas: {{ $rv.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "gatehouse.selectorLabels" (dict "ctx" $ctx "component" $role) | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels:
        {{- include "gatehouse.selectorLabels" (dict "ctx" $ctx "component" $role) | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $ctx.Template.BasePath "/configmap.yaml") $ctx | sha256sum }}
        {{- if $v.observability.prometheusAnnotations }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $v.observability.port | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $rv.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $v.serviceAccountName }}
      serviceAccountName: {{ . }}
      {{- end }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "gatehouse.podSecurityContext" $ctx | nindent 8 }}
      {{- if eq $role "edge" }}
      terminationGracePeriodSeconds: {{ add (int $v.edge.preStopSleepSeconds) (int $v.edge.drainTimeoutSeconds) (int $v.edge.shutdownMarginSeconds) }}
      {{- else }}
      terminationGracePeriodSeconds: 30
      {{- end }}
      containers:
        - name: gatehouse
          image: {{ include "gatehouse.image" $ctx | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args: [run, --config, /etc/gatehouse/gatehouse.yaml, --roles, {{ $role }}]
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef: {fieldPath: metadata.name}
            - name: GATEHOUSE_JAVA_OPTS
              value: {{ $v.javaOpts | quote }}
            {{- if $v.kafka.sasl.enabled }}
            - name: GATEHOUSE_KAFKA_PASSWORD
              valueFrom:
                {{- include "gatehouse.secretKeyRef" (dict "ctx" $ctx "ref" $credential "valueField" "password" "secret" (printf "kafka-%s" $role) "key" "password" "what" (printf "kafka.credentials.%s" $role)) | nindent 16 }}
            {{- end }}
            {{- if eq $role "edge" }}
            {{- range $v.connections }}
            {{- if or .password .existingSecret }}
            - name: {{ include "gatehouse.targetPasswordEnv" .name }}
              valueFrom:
                {{- include "gatehouse.secretKeyRef" (dict "ctx" $ctx "ref" . "valueField" "password" "secret" "targets" "key" .name "what" (printf "connections[%s]" .name)) | nindent 16 }}
            {{- end }}
            {{- end }}
            {{- if and $v.edge.masking.profiles (include "gatehouse.secretGiven" (dict "ref" $v.edge.masking.hmacKey "valueField" "value")) }}
            - name: GATEHOUSE_MASKING_HMAC_KEY
              valueFrom:
                {{- include "gatehouse.secretKeyRef" (dict "ctx" $ctx "ref" $v.edge.masking.hmacKey "valueField" "value" "secret" "masking" "key" "hmac-key" "what" "edge.masking.hmacKey") | nindent 16 }}
            {{- end }}
            {{- end }}
            {{- if eq $role "indexer" }}
            - name: GATEHOUSE_INDEXER_DB_PASSWORD
              valueFrom:
                {{- include "gatehouse.secretKeyRef" (dict "ctx" $ctx "ref" $v.indexer.postgres "valueField" "password" "secret" "indexer-db" "key" "password" "what" "indexer.postgres") | nindent 16 }}
            {{- end }}
            {{- if and (eq $role "approval") $v.approval.slack.enabled }}
            - name: SLACK_BOT_TOKEN
              valueFrom:
                {{- include "gatehouse.secretKeyRef" (dict "ctx" $ctx "ref" $v.approval.slack.botToken "valueField" "value" "secret" "slack" "key" "bot-token" "what" "approval.slack.botToken") | nindent 16 }}
            - name: SLACK_SIGNING_SECRET
              valueFrom:
                {{- include "gatehouse.secretKeyRef" (dict "ctx" $ctx "ref" $v.approval.slack.signingSecret "valueField" "value" "secret" "slack" "key" "signing-secret" "what" "approval.slack.signingSecret") | nindent 16 }}
            {{- end }}
          ports:
            - name: metrics
              containerPort: {{ $v.observability.port }}
              protocol: TCP
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          startupProbe:
            httpGet: {path: /health/live, port: {{ $v.observability.port }}}
            periodSeconds: {{ $v.probes.startup.periodSeconds }}
            timeoutSeconds: {{ $v.probes.startup.timeoutSeconds }}
            failureThreshold: {{ $v.probes.startup.failureThreshold }}
          livenessProbe:
            httpGet: {path: /health/live, port: {{ $v.observability.port }}}
            periodSeconds: {{ $v.probes.liveness.periodSeconds }}
            timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
            failureThreshold: {{ $v.probes.liveness.failureThreshold }}
          readinessProbe:
            httpGet: {path: /health/ready, port: {{ $v.observability.port }}}
            periodSeconds: {{ $v.probes.readiness.periodSeconds }}
            timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
            failureThreshold: {{ $v.probes.readiness.failureThreshold }}
          {{- if and (eq $role "edge") (gt (int $v.edge.preStopSleepSeconds) 0) }}
          lifecycle:
            preStop:
              sleep: {seconds: {{ $v.edge.preStopSleepSeconds }}}
          {{- end }}
          securityContext:
            {{- include "gatehouse.containerSecurityContext" $ctx | nindent 12 }}
          resources:
            {{- toYaml $rv.resources | nindent 12 }}
          volumeMounts:
            - {name: config, mountPath: /etc/gatehouse, readOnly: true}
            - {name: tmp, mountPath: /tmp}
            - {name: data, mountPath: /var/lib/gatehouse}
            {{- if eq $role "edge" }}
            {{- with $v.edge.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- end }}
      volumes:
        - name: config
          projected:
            defaultMode: 0440
            sources:
              - configMap:
                  name: {{ include "gatehouse.fullname" $ctx }}
                  items:
                    - {key: gatehouse-{{ $role }}.yaml, path: gatehouse.yaml}
                    {{- if eq $role "policy" }}
                    - {key: policy.yaml, path: policy.yaml}
                    {{- end }}
                    {{- if and (eq $role "edge") $v.edge.masking.profiles }}
                    - {key: masking.yaml, path: masking.yaml}
                    {{- end }}
              {{- if $v.kafka.tls.enabled }}
              - secret:
                  name: {{ required "kafka.tls.caSecret is required with kafka.tls.enabled" $v.kafka.tls.caSecret }}
                  items:
                    - {key: {{ $v.kafka.tls.caKey }}, path: kafka-ca/{{ $v.kafka.tls.caKey }}}
              {{- end }}
              {{- if and (eq $role "edge") $v.edge.tls.secretName }}
              - secret:
                  name: {{ $v.edge.tls.secretName }}
                  items:
                    - {key: tls.crt, path: tls/tls.crt}
                    - {key: tls.key, path: tls/tls.key}
              {{- end }}
              {{- if and (eq $role "indexer") $v.indexer.signingKey.existingSecret }}
              - secret:
                  name: {{ $v.indexer.signingKey.existingSecret }}
                  items:
                    - {key: {{ $v.indexer.signingKey.existingSecretKey }}, path: indexer/signing-key.pem}
              {{- end }}
        - name: tmp
          emptyDir: {}
        - name: data
          emptyDir: {}
        {{- if eq $role "edge" }}
        {{- with $v.edge.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* A ClusterIP (or other type) Service of one role. ctx, role, type, annotations, ports: [{name, port}]. */}}
{{- define "gatehouse.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "gatehouse.componentName" (dict "ctx" .ctx "component" .role) }}
  labels:
    {{- include "gatehouse.labels" (dict "ctx" .ctx "component" .role) | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ default "ClusterIP" .type }}
  selector:
    {{- include "gatehouse.selectorLabels" (dict "ctx" .ctx "component" .role) | nindent 4 }}
  ports:
    {{- range .ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
{{- end }}
