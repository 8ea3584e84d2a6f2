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

{{- define "kestrel.ruleDirs" -}}
{{- $dirs := list -}}
{{- if .Values.rules.defaults -}}{{- $dirs = append $dirs "/app/rules" -}}{{- end -}}
{{- if .Values.rules.local -}}{{- $dirs = append $dirs "/etc/kestrel/rules" -}}{{- end -}}
{{- if not $dirs -}}{{- fail "rules: enable rules.defaults or give rules.local" -}}{{- end -}}
{{- toJson $dirs -}}
{{- end -}}

{{/* The Kafka connection (kafka:) of consume mode; credentials come from the environment. */}}
{{- define "kestrel.kafkaConnection" -}}
{{- $k := dict "brokers" .Values.kafka.brokers "client_id" .Values.kafka.clientId -}}
{{- if .Values.kafka.tls.enabled -}}
{{- $ssl := dict "reject_unauthorized" .Values.kafka.tls.rejectUnauthorized -}}
{{- if .Values.kafka.tls.caKey -}}{{- $_ := set $ssl "ca_file" (printf "/etc/kestrel/kafka-tls/%s" .Values.kafka.tls.caKey) -}}{{- end -}}
{{- if .Values.kafka.tls.certKey -}}{{- $_ := set $ssl "cert_file" (printf "/etc/kestrel/kafka-tls/%s" .Values.kafka.tls.certKey) -}}{{- end -}}
{{- if .Values.kafka.tls.keyKey -}}{{- $_ := set $ssl "key_file" (printf "/etc/kestrel/kafka-tls/%s" .Values.kafka.tls.keyKey) -}}{{- end -}}
{{- $_ := set $k "ssl" $ssl -}}
{{- end -}}
{{- if .Values.kafka.sasl.enabled -}}
{{- $_ := set $k "sasl" (dict "mechanism" .Values.kafka.sasl.mechanism) -}}
{{- end -}}
{{- toJson $k -}}
{{- end -}}

{{/*
kestrel.yaml in the service layout (every key: deploy/kestrel.reference.yaml).
consume mode: a Kafka input, the alert topic as output, the dead-letter topic.
webhook mode: a webhook input, stdout (and HTTP) outputs.
*/}}
{{- define "kestrel.config" -}}
{{- $cfg := dict -}}
{{- if eq .Values.mode "webhook" -}}
{{- $w := .Values.webhook -}}
{{- $in := dict "type" "webhook" "host" "0.0.0.0" "port" (int $w.port) "paths" $w.paths "limits" (dict "max_body_bytes" (int $w.maxBodyBytes)) -}}
{{- if $w.tlsSecretName -}}{{- $_ := set $in "tls" (dict "cert_file" "/etc/kestrel/tls/tls.crt" "key_file" "/etc/kestrel/tls/tls.key") -}}{{- end -}}
{{- if $w.tokenSecret.name -}}{{- $_ := set $in "token_file" (printf "/etc/kestrel/token/%s" $w.tokenSecret.key) -}}{{- end -}}
{{- $_ := set $cfg "inputs" (list $in) -}}
{{- $outputs := list (dict "type" "stdout" "format" $w.sinks.stdout.format "min_priority" $w.sinks.stdout.minPriority) -}}
{{- if $w.sinks.httpUrl -}}{{- $outputs = append $outputs (dict "type" "http" "url" $w.sinks.httpUrl) -}}{{- end -}}
{{- $_ := set $cfg "outputs" $outputs -}}
{{- if $w.fields -}}{{- $_ := set $cfg "shaping" (dict "fields" $w.fields) -}}{{- end -}}
{{- $_ := set $cfg "engine" (dict "rule_matching" .Values.rules.ruleMatching "workers" (int .Values.workers.count)) -}}
{{- else -}}
{{- $_ := set $cfg "inputs" (list (dict "type" "kafka" "topics" .Values.topics.input "group_id" .Values.kafka.groupId "from_beginning" .Values.kafka.fromBeginning "format" .Values.input.format)) -}}
{{- $_ := set $cfg "kafka" (include "kestrel.kafkaConnection" . | fromJson) -}}
{{- $_ := set $cfg "engine" (dict "rule_matching" .Values.rules.ruleMatching "workers" (int .Values.workers.count)) -}}
{{- $_ := set $cfg "outputs" (list (dict "type" "kafka" "topic" .Values.topics.alerts "key" .Values.topics.alertKey)) -}}
{{- if .Values.topics.dlq -}}{{- $_ := set $cfg "dead_letters" (dict "topic" .Values.topics.dlq) -}}{{- end -}}
{{- $_ := set $cfg "delivery" (dict "guarantee" .Values.delivery.mode) -}}
{{- end -}}
{{- $_ := set $cfg "rules" (dict "paths" (include "kestrel.ruleDirs" . | fromJsonArray)) -}}
{{- $_ := set $cfg "metrics" (dict "port" (int .Values.metrics.port)) -}}
{{- $_ := set $cfg "shutdown_timeout_ms" (int .Values.shutdownTimeoutMs) -}}
{{- $_ := set $cfg "log" (dict "level" .Values.logLevel) -}}
{{- toYaml (mergeOverwrite $cfg (deepCopy .Values.extraConfig)) -}}
{{- end -}}
