{{/* Name of the chart (nameOverride wins). */}}
{{- define "kestrel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object name prefix: the release name, unless it already contains the chart name. */}}
{{- define "kestrel.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kestrel.component" -}}
{{- if eq .Values.mode "webhook" -}}webhook{{- else -}}consumer{{- end -}}
{{- end -}}

{{- define "kestrel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kestrel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ include "kestrel.component" . }}
{{- end -}}

{{- define "kestrel.labels" -}}
{{ include "kestrel.selectorLabels" . }}
app.kubernetes.io/part-of: kestrel
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kestrel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kestrel.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kestrel.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Named port that serves /metrics, /healthz and /readyz. */}}
{{- define "kestrel.probePort" -}}
{{- if eq .Values.mode "webhook" -}}webhook{{- else -}}metrics{{- end -}}
{{- end -}}

{{- define "kestrel.probeScheme" -}}
{{- if and (eq .Values.mode "webhook") .Values.webhook.tlsSecretName -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{- define "kestrel.ruleDirs" -}}
{{- $dirs := list -}}
{{- if .Values.rules.defaults -}}{{- $dirs = append $dirs "/app/rules" -}}{{- end -}}
{{- if .Values.rules.local -}}{{- $dirs = append $dirs "/etc/kestrel/rules" -}}{{- end -}}
{{- if not $dirs -}}{{- fail "rules: enable rules.defaults or give rules.local" -}}{{- end -}}
{{- toJson $dirs -}}
{{- end -}}

{{/* kestrel.yaml for `kestrel consume` (keys: src/config/load.ts, docs/kafka.md). */}}
{{- define "kestrel.consumeConfig" -}}
{{- $k := dict "brokers" .Values.kafka.brokers "client_id" .Values.kafka.clientId "group_id" .Values.kafka.groupId "input_topics" .Values.topics.input "from_beginning" .Values.kafka.fromBeginning -}}
{{- if .Values.kafka.tls.enabled -}}
{{- $ssl := dict "reject_unauthorized" .Values.kafka.tls.rejectUnauthorized -}}
{{- if .Values.kafka.tls.caKey -}}{{- $_ := set $ssl "ca_file" (printf "/etc/kestrel/kafka-tls/%s" .Values.kafka.tls.caKey) -}}{{- end -}}
{{- if .Values.kafka.tls.certKey -}}{{- $_ := set $ssl "cert_file" (printf "/etc/kestrel/kafka-tls/%s" .Values.kafka.tls.certKey) -}}{{- end -}}
{{- if .Values.kafka.tls.keyKey -}}{{- $_ := set $ssl "key_file" (printf "/etc/kestrel/kafka-tls/%s" .Values.kafka.tls.keyKey) -}}{{- end -}}
{{- $_ := set $k "ssl" $ssl -}}
{{- end -}}
{{- if .Values.kafka.sasl.enabled -}}
{{- /* username and password come from the Secret through the environment */ -}}
{{- $_ := set $k "sasl" (dict "mechanism" .Values.kafka.sasl.mechanism) -}}
{{- end -}}
{{- $cfg := dict "kafka" $k -}}
{{- $_ := set $cfg "rules" (dict "paths" (include "kestrel.ruleDirs" . | fromJsonArray) "rule_matching" .Values.rules.ruleMatching) -}}
{{- $_ := set $cfg "input" (dict "format" .Values.input.format) -}}
{{- $_ := set $cfg "workers" (dict "count" .Values.workers.count) -}}
{{- $_ := set $cfg "delivery" (dict "mode" .Values.delivery.mode) -}}
{{- if .Values.topics.dlq -}}{{- $_ := set $cfg "dlq" (dict "topic" .Values.topics.dlq) -}}{{- end -}}
{{- $_ := set $cfg "sinks" (dict "kafka" (dict "topic" .Values.topics.alerts "key" .Values.topics.alertKey)) -}}
{{- $_ := set $cfg "metrics" (dict "port" (int .Values.metrics.port)) -}}
{{- $_ := set $cfg "shutdown_timeout_ms" (int .Values.shutdownTimeoutMs) -}}
{{- $_ := set $cfg "log_level" .Values.logLevel -}}
{{- toYaml (mergeOverwrite $cfg (deepCopy .Values.extraConfig)) -}}
{{- end -}}

{{/* kestrel.yaml for `kestrel serve` (keys: docs/webhook.md, deploy/webhook/kestrel-serve.yaml). */}}
{{- define "kestrel.serveConfig" -}}
{{- $w := .Values.webhook -}}
{{- $cfg := dict "rules" (include "kestrel.ruleDirs" . | fromJsonArray) "rule_matching" .Values.rules.ruleMatching -}}
{{- $_ := set $cfg "listen" (dict "host" "0.0.0.0" "port" (int $w.port)) -}}
{{- if $w.tlsSecretName -}}{{- $_ := set $cfg "tls" (dict "cert_file" "/etc/kestrel/tls/tls.crt" "key_file" "/etc/kestrel/tls/tls.key") -}}{{- end -}}
{{- if $w.tokenSecret.name -}}{{- $_ := set $cfg "auth" (dict "token_file" (printf "/etc/kestrel/token/%s" $w.tokenSecret.key)) -}}{{- end -}}
{{- $_ := set $cfg "limits" (dict "max_body_bytes" (int $w.maxBodyBytes)) -}}
{{- $_ := set $cfg "paths" $w.paths -}}
{{- if $w.fields -}}{{- $_ := set $cfg "fields" $w.fields -}}{{- end -}}
{{- $sinks := dict "stdout" (dict "format" $w.sinks.stdout.format "min_priority" $w.sinks.stdout.minPriority) -}}
{{- if $w.sinks.httpUrl -}}{{- $_ := set $sinks "http" (dict "url" $w.sinks.httpUrl) -}}{{- end -}}
{{- $_ := set $cfg "sinks" $sinks -}}
{{- toYaml (mergeOverwrite $cfg (deepCopy .Values.extraConfig)) -}}
{{- end -}}
