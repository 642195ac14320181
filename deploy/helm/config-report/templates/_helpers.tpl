{{/*
The chart name, cut to 63 characters (the DNS label limit of names and label values).
*/}}
{{- define "config-report.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: release name + chart name, unless the release name already contains the chart name.
*/}}
{{- define "config-report.fullname" -}}
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

{{/*
The CronJob's name, cut to 52 characters: the controller appends 11 ("-<minutes>") to name each Job,
and a Job's name must stay a 63-character label value.
*/}}
{{- define "config-report.cronJobName" -}}
{{- include "config-report.fullname" . | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/*
The merge CronJob's name (sharded runs): cut to 52 characters for the same reason.
*/}}
{{- define "config-report.mergeCronJobName" -}}
{{- printf "%s-merge" (include "config-report.fullname" . | trunc 46 | trimSuffix "-") }}
{{- end }}

{{/*
The verify CronJob's name (verify.enabled): cut to 52 characters for the same reason.
*/}}
{{- define "config-report.verifyCronJobName" -}}
{{- printf "%s-verify" (include "config-report.fullname" . | trunc 45 | trimSuffix "-") }}
{{- end }}

{{/*
Prefix of manually created Jobs (NOTES.txt): "-$(date +%s)" adds 11 characters, so at most 52 here.
*/}}
{{- define "config-report.manualJobPrefix" -}}
{{- printf "%s-manual" (include "config-report.cronJobName" .) | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/*
Chart label value: name-version, cut to 63 characters.
*/}}
{{- define "config-report.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource.
*/}}
{{- define "config-report.labels" -}}
helm.sh/chart: {{ include "config-report.chart" . }}
{{ include "config-report.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: config-report
{{- end }}

{{/*
Labels identifying this release's pods.
*/}}
{{- define "config-report.selectorLabels" -}}
app.kubernetes.io/name: {{ include "config-report.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The namespace of every resource: the release's (`helm install -n <namespace>`). The hub role's trust
policy names it, so the Terraform hub example's `namespace` must be the same.
*/}}
{{- define "config-report.namespace" -}}
{{- .Release.Namespace }}
{{- end }}

{{/*
Values without which the CronJob would fail every Monday: refuse to render, naming the value and an
example. (The schema cannot say these: an empty string is valid until the deployer fills it in.)
*/}}
{{- define "config-report.validate" -}}
{{- with .Values }}
{{- if and .serviceAccount.create (not .serviceAccount.roleArn) (not .serviceAccount.podIdentity) }}
{{- fail "serviceAccount.roleArn is required: this environment's hub IRSA role, e.g. --set serviceAccount.roleArn=arn:aws:iam::<hub-account>:role/system-config-report-generator-write-role (Terraform examples/hub output role_arn); or --set serviceAccount.podIdentity=true with an EKS Pod Identity association" }}
{{- end }}
{{- if and .serviceAccount.podIdentity .serviceAccount.roleArn }}
{{- fail "serviceAccount.podIdentity is true but serviceAccount.roleArn is set: keep one (with both, the SDK takes IRSA's credentials first); under Pod Identity the association names the role" }}
{{- end }}
{{- if or (contains ":111122223333:" .serviceAccount.roleArn) (contains ":111122223333:" .config.orgRoleArn) }}
{{- fail "serviceAccount.roleArn or config.orgRoleArn holds the documentation account 111122223333: use your hub and management accounts' role ARNs" }}
{{- end }}
{{- if and (has "run" $.Values.args) (not .config.s3Bucket) }}
{{- fail "config.s3Bucket is required: the report bucket, e.g. --set config.s3Bucket=acme-security-config-reports" }}
{{- end }}
{{- if and .orgRoleRequired (not .config.orgRoleArn) }}
{{- fail "config.orgRoleArn is required: the org-list role in the management account, e.g. --set config.orgRoleArn=arn:aws:iam::<management-account>:role/system-config-report-generator-list-org-role (or orgRoleRequired=false when the hub role itself may list the organization)" }}
{{- end }}
{{- if and (or (eq .config.source "aggregator") .verify.enabled) (not .config.aggregatorName) }}
{{- fail "config.aggregatorName is required with config.source aggregator or verify.enabled: the AWS Config aggregator to read, e.g. --set config.aggregatorName=aws-controltower-GuardrailsComplianceAggregator" }}
{{- end }}
{{- $jobEnds := add .cronJob.activeDeadlineSeconds .cronJob.terminationGracePeriodSeconds }}
{{- if and (gt (int .config.shardCount) 1) (lt (int .config.mergeDeadlineSeconds) (int $jobEnds)) }}
{{- fail (printf "config.mergeDeadlineSeconds (%d) is shorter than the Job's deadline plus its grace period (cronJob.activeDeadlineSeconds + cronJob.terminationGracePeriodSeconds = %d): a shard still running or writing its part would be merged as a gap; set it to at least %d" (int .config.mergeDeadlineSeconds) (int $jobEnds) (int $jobEnds)) }}
{{- end }}
{{- if and .config.externalId .externalIdSecret.existingSecret }}
{{- fail "config.externalId and externalIdSecret.existingSecret are both set: keep one (the Secret)" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "config-report.serviceAccountName" -}}
{{- .Values.serviceAccount.name }}
{{- end }}

{{/*
The image reference: by digest when one is given, else by tag (default: the chart's appVersion).
*/}}
{{- define "config-report.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
checkov wants images pinned by digest (CKV_K8S_43). The chart pins when image.digest is set; without
one the deployer has chosen a tag, and the skip says so in the manifest itself.
*/}}
{{- define "config-report.checkovDigestSkip" -}}
{{- if not .Values.image.digest }}
checkov.io/skip3: CKV_K8S_43=image.digest is empty, the deployer chose a tag; set image.digest to pin the image
{{- end }}
{{- end }}

{{/*
checkov wants every pod covered by a NetworkPolicy (CKV2_K8S_6). With networkPolicy.enabled false the
deployer has chosen the namespace's own policies instead, and the skip says so in the manifest itself.
*/}}
{{- define "config-report.checkovNetworkPolicySkip" -}}
{{- if not .Values.networkPolicy.enabled }}
checkov.io/skip4: CKV2_K8S_6=networkPolicy.enabled is false, the deployer chose the namespace's own NetworkPolicies
{{- end }}
{{- end }}

{{/*
Where the Jira token Secret is mounted (read-only, only this file).
*/}}
{{- define "config-report.jiraTokenDir" -}}
/var/run/secrets/config-report/jira
{{- end }}

{{/*
Where the ExternalId Secret is mounted (read-only, only this file).
*/}}
{{- define "config-report.externalIdDir" -}}
/var/run/secrets/config-report/external-id
{{- end }}

{{/*
Where the accepted-exceptions ConfigMap is mounted (read-only).
*/}}
{{- define "config-report.exceptionsDir" -}}
/etc/config-report/exceptions
{{- end }}

{{/*
Environment: every non-empty value under `config` as CONFIG_REPORT_<NAME> (camelCase key in snake
case, upper-cased: the Settings field's name), lists joined with commas, maps as JSON. The Jira token
and the ExternalId from a Secret are only ever file paths (checkov CKV_K8S_35: secrets as files).
*/}}
{{- define "config-report.env" -}}
{{- $root := .root }}
{{- $shardPod := and (gt (int $root.Values.config.shardCount) 1) (has "run" .args) }}
{{- with .root }}
{{- range $key, $value := .Values.config }}
{{- $text := "" }}
{{- if and (eq $key "exceptionsFile") $root.Values.exceptions.existingConfigMap }}
{{- /* the mounted ConfigMap below takes its place */}}
{{- else if kindIs "slice" $value }}
{{- $text = join "," $value }}
{{- else if kindIs "map" $value }}
{{- $text = ternary "" (toJson $value) (empty $value) }}
{{- else if kindIs "float64" $value }}
{{- /* YAML numbers arrive as floats: print 16, not 1.6e+01 */}}
{{- $text = ternary (int64 $value | toString) (toString $value) (eq (floor $value) $value) }}
{{- else }}
{{- $text = toString $value }}
{{- end }}
{{- if ne $text "" }}
- name: CONFIG_REPORT_{{ snakecase $key | upper }}
  value: {{ $text | quote }}
{{- end }}
{{- end }}
{{- if .Values.externalIdSecret.existingSecret }}
- name: CONFIG_REPORT_EXTERNAL_ID_FILE
  value: {{ printf "%s/%s" (include "config-report.externalIdDir" .) .Values.externalIdSecret.key | quote }}
{{- end }}
{{- if .Values.jiraApiToken.existingSecret }}
- name: CONFIG_REPORT_JIRA_API_TOKEN_FILE
  value: {{ printf "%s/%s" (include "config-report.jiraTokenDir" .) .Values.jiraApiToken.key | quote }}
{{- end }}
{{- with .Values.exceptions.existingConfigMap }}
- name: CONFIG_REPORT_EXCEPTIONS_FILE
  value: {{ printf "%s/%s" (include "config-report.exceptionsDir" $root) $root.Values.exceptions.key | quote }}
{{- end }}
{{- if $shardPod }}
{{- /* Every shard of one run shares its Job's name (set on each pod by the Job controller). */}}
- name: CONFIG_REPORT_RUN_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.labels['batch.kubernetes.io/job-name']
{{- end }}
{{- with .Values.awsRegion }}
- name: AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Job spec shared by the report's CronJob, the merge CronJob and the verify CronJob (without the
sharded run's completions, which only the report's Job has). Call with (dict "root" $ "args" (list ...)),
optionally with "backoffLimit" N and "failJobOnExitCodes" (list ...) in place of cronJob's (verify
retries nothing: its exit 1, a difference, is the answer).
*/}}
{{- define "config-report.jobSpec" -}}
{{- $root := .root }}
{{- $backoffLimit := hasKey . "backoffLimit" | ternary .backoffLimit $root.Values.cronJob.backoffLimit }}
{{- $failJobOnExitCodes := .failJobOnExitCodes | default $root.Values.cronJob.failJobOnExitCodes }}
{{- with $root.Values -}}
backoffLimit: {{ $backoffLimit }}
activeDeadlineSeconds: {{ .cronJob.activeDeadlineSeconds }}
podFailurePolicy:
  rules:
    # Retrying cannot help (bad configuration) or would publish a second report (3, 4).
    - action: FailJob
      onExitCodes:
        containerName: config-report
        operator: In
        values:
          {{- toYaml $failJobOnExitCodes | nindent 10 }}
      # Empty on purpose: the 1.27 and 1.28 API schemas mark onPodConditions required in every
      # rule (client-side validators such as kubeconform reject a rule without it), and the
      # API server accepts an empty list beside onExitCodes (it refuses only a non-empty one).
      onPodConditions: []
    # A pod evicted or preempted by the cluster is not the job's fault: retry without counting it.
    - action: Ignore
      onPodConditions:
        - type: DisruptionTarget
          status: "True"
template:
  metadata:
    labels:
      {{- include "config-report.labels" $root | nindent 6 }}
      {{- with .podLabels }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- with .podAnnotations }}
    annotations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  spec:
    {{- include "config-report.podSpec" (dict "root" $root "args" $.args) | nindent 4 }}
{{- end }}
{{- end }}

{{/*
The pod spec shared by the CronJob and the `helm test` preflight. Call with
(dict "root" $ "args" (list ...)).
*/}}
{{- define "config-report.podSpec" -}}
{{- $root := .root }}
{{- with $root.Values -}}
serviceAccountName: {{ include "config-report.serviceAccountName" $root }}
automountServiceAccountToken: {{ .automountServiceAccountToken }}
restartPolicy: Never
terminationGracePeriodSeconds: {{ .cronJob.terminationGracePeriodSeconds }}
{{- with .imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
securityContext:
  {{- toYaml .podSecurityContext | nindent 2 }}
containers:
  - name: config-report
    image: {{ include "config-report.image" $root | quote }}
    imagePullPolicy: {{ .image.pullPolicy }}
    args:
      {{- toYaml $.args | nindent 6 }}
    env:
      {{- include "config-report.env" (dict "root" $root "args" $.args) | trim | nindent 6 }}
    resources:
      {{- toYaml .resources | nindent 6 }}
    securityContext:
      {{- toYaml .securityContext | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
      {{- if .jiraApiToken.existingSecret }}
      - name: jira-token
        mountPath: {{ include "config-report.jiraTokenDir" $root }}
        readOnly: true
      {{- end }}
      {{- if .externalIdSecret.existingSecret }}
      - name: external-id
        mountPath: {{ include "config-report.externalIdDir" $root }}
        readOnly: true
      {{- end }}
      {{- if .exceptions.existingConfigMap }}
      - name: exceptions
        mountPath: {{ include "config-report.exceptionsDir" $root }}
        readOnly: true
      {{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .tmpSizeLimit }}
  {{- if .jiraApiToken.existingSecret }}
  - name: jira-token
    secret:
      secretName: {{ .jiraApiToken.existingSecret }}
      defaultMode: 0440
      items:
        - key: {{ .jiraApiToken.key }}
          path: {{ .jiraApiToken.key }}
  {{- end }}
  {{- if .externalIdSecret.existingSecret }}
  - name: external-id
    secret:
      secretName: {{ .externalIdSecret.existingSecret }}
      defaultMode: 0440
      items:
        - key: {{ .externalIdSecret.key }}
          path: {{ .externalIdSecret.key }}
  {{- end }}
  {{- if .exceptions.existingConfigMap }}
  - name: exceptions
    configMap:
      name: {{ .exceptions.existingConfigMap }}
      defaultMode: 0444
      items:
        - key: {{ .exceptions.key }}
          path: {{ .exceptions.key }}
  {{- end }}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The S3 prefix the application uses: config.s3Prefix, or with config.environment and the default
prefix, <prefix><environment>/ (as the application's settings derive it).
*/}}
{{- define "config-report.prefix" -}}
{{- $prefix := .Values.config.s3Prefix | default "aws-config-reports/" }}
{{- if and .Values.config.environment (eq $prefix "aws-config-reports/") }}
{{- printf "%s%s/" $prefix .Values.config.environment }}
{{- else }}
{{- $prefix }}
{{- end }}
{{- end }}
