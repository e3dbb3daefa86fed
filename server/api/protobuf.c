/*
 * server/api/protobuf.c: Kubernetes protobuf request bodies to JSON; see
 * protobuf.h. Wire format: https://protobuf.dev/programming-guides/encoding/
 * (varint, 64-bit, length-delimited and 32-bit fields; groups are refused).
 * Envelope: k8s.io/apimachinery/pkg/runtime/serializer/protobuf.
 *
 * The schema below is transcribed from upstream generated.proto (field
 * number, JSON name, kind) with Go's JSON rules folded into two flags:
 *   PB_KEEP    the Go field is a pointer, or has no omitempty: a zero value
 *              that is on the wire is still emitted (replicas: 0,
 *              priority: 0, enableServiceLinks: false, containerPort);
 *   PB_INLINE  an embedded struct (`json:",inline"`, e.g. VolumeSource in
 *              Volume, ProbeHandler in Probe): its fields join the parent.
 * Message fields are always emitted when present: gogo writes non-pointer
 * structs even when empty (`"resources":{}`, `"strategy":{}`), and
 * pointers only when set, which is what encoding/json does too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "server/api/protobuf.h"

const unsigned char k8spb_magic[4] = { 'k', '8', 's', 0 };

#define PB_MAX_DEPTH 32

enum pb_kind {
	PB_STRING,
	PB_INT,        /* int32 / int64 varint */
	PB_BOOL,
	PB_BYTES,      /* []byte: base64 in JSON */
	PB_MESSAGE,
	PB_TIME,       /* metav1.Time {seconds, nanos}: RFC 3339 or null */
	PB_INTSTR,     /* intstr.IntOrString {type, intVal, strVal} */
	PB_QTY,        /* resource.Quantity {string}: the string */
	PB_MAP_STR,    /* map<string,string> */
	PB_MAP_BYTES,  /* map<string,bytes>: base64 values */
	PB_MAP_QTY,    /* map<string,Quantity> (ResourceList) */
};

enum { PB_REP = 1, PB_KEEP = 2, PB_INLINE = 4 };

struct pb_msg;

struct pb_field {
	uint32_t num;
	const char *json;
	uint8_t kind;
	uint8_t flags;
	const struct pb_msg *msg;  /* PB_MESSAGE only */
};

struct pb_msg {
	const char *name;
	const struct pb_field *fields;  /* sorted by num */
	size_t nfields;
};

#define F(n, j, k, fl) { (n), (j), PB_##k, (fl), NULL }
#define M(n, j, m, fl) { (n), (j), PB_MESSAGE, (fl), &pb_##m }
#define MESSAGE(T, ...)                                                   \
	static const struct pb_field T##_fields[] = { __VA_ARGS__ };      \
	static const struct pb_msg pb_##T = { #T, T##_fields,             \
					      ARRAY_SIZE(T##_fields) }
/* Not modelled: decoded as {} whatever it holds (status on create). */
#define MESSAGE_EMPTY(T) static const struct pb_msg pb_##T = { #T, NULL, 0 }

/*
 * The schema: top-level kinds first, then what they use, breadth first.
 * Field numbers from kubernetes/api 10b39a39 (core/v1, apps/v1) and
 * kubernetes/apimachinery eed236ce (meta/v1, intstr, resource); all the
 * fields kubectl 1.27-1.33 know have the same numbers there.
 * Left out on purpose: affinity, topologySpreadConstraints, hostAliases,
 * dnsConfig, readinessGates, ephemeralContainers, os, schedulingGates,
 * resourceClaims, seLinuxOptions, seccompProfile, appArmorProfile,
 * windowsOptions, sysctls, resizePolicy, managedFields, volume sources
 * other than hostPath, emptyDir, secret, configMap, persistentVolumeClaim,
 * downwardAPI and projected; and every status except Service's
 * `{"loadBalancer":{}}` that kubectl sends.
 */
static const struct pb_msg pb_Deployment, pb_Service, pb_Namespace,
	pb_ConfigMap, pb_Secret, pb_Pod, pb_ReplicaSet, pb_ServiceAccount,
	pb_ObjectMeta, pb_DeploymentSpec, pb_DeploymentStatus, pb_ServiceSpec,
	pb_ServiceStatus, pb_NamespaceSpec, pb_NamespaceStatus, pb_PodSpec,
	pb_PodStatus, pb_ReplicaSetSpec, pb_ReplicaSetStatus,
	pb_ObjectReference, pb_LocalObjectReference, pb_OwnerReference,
	pb_LabelSelector, pb_PodTemplateSpec, pb_DeploymentStrategy,
	pb_ServicePort, pb_SessionAffinityConfig, pb_LoadBalancerStatus,
	pb_Volume, pb_Container, pb_PodSecurityContext, pb_Toleration,
	pb_ResourceRequirements, pb_LabelSelectorRequirement,
	pb_RollingUpdateDeployment, pb_ClientIPConfig, pb_VolumeSource,
	pb_ContainerPort, pb_EnvFromSource, pb_EnvVar, pb_VolumeMount,
	pb_Probe, pb_Lifecycle, pb_SecurityContext, pb_HostPathVolumeSource,
	pb_EmptyDirVolumeSource, pb_SecretVolumeSource,
	pb_PersistentVolumeClaimVolumeSource, pb_DownwardAPIVolumeSource,
	pb_ConfigMapVolumeSource, pb_ProjectedVolumeSource,
	pb_ConfigMapEnvSource, pb_SecretEnvSource, pb_EnvVarSource,
	pb_ProbeHandler, pb_LifecycleHandler, pb_Capabilities, pb_KeyToPath,
	pb_DownwardAPIVolumeFile, pb_VolumeProjection, pb_ObjectFieldSelector,
	pb_ResourceFieldSelector, pb_ConfigMapKeySelector,
	pb_SecretKeySelector, pb_ExecAction, pb_HTTPGetAction,
	pb_TCPSocketAction, pb_GRPCAction, pb_SleepAction, pb_SecretProjection,
	pb_DownwardAPIProjection, pb_ConfigMapProjection,
	pb_ServiceAccountTokenProjection, pb_HTTPHeader;

MESSAGE(Deployment, M(1, "metadata", ObjectMeta, 0),
	M(2, "spec", DeploymentSpec, 0), M(3, "status", DeploymentStatus, 0));
MESSAGE(Service, M(1, "metadata", ObjectMeta, 0), M(2, "spec", ServiceSpec, 0),
	M(3, "status", ServiceStatus, 0));
MESSAGE(Namespace, M(1, "metadata", ObjectMeta, 0),
	M(2, "spec", NamespaceSpec, 0), M(3, "status", NamespaceStatus, 0));
MESSAGE(ConfigMap, M(1, "metadata", ObjectMeta, 0), F(2, "data", MAP_STR, 0),
	F(3, "binaryData", MAP_BYTES, 0), F(4, "immutable", BOOL, PB_KEEP));
MESSAGE(Secret, M(1, "metadata", ObjectMeta, 0), F(2, "data", MAP_BYTES, 0),
	F(3, "type", STRING, 0), F(4, "stringData", MAP_STR, 0),
	F(5, "immutable", BOOL, PB_KEEP));
MESSAGE(Pod, M(1, "metadata", ObjectMeta, 0), M(2, "spec", PodSpec, 0),
	M(3, "status", PodStatus, 0));
MESSAGE(ReplicaSet, M(1, "metadata", ObjectMeta, 0),
	M(2, "spec", ReplicaSetSpec, 0), M(3, "status", ReplicaSetStatus, 0));
MESSAGE(ServiceAccount, M(1, "metadata", ObjectMeta, 0),
	M(2, "secrets", ObjectReference, PB_REP),
	M(3, "imagePullSecrets", LocalObjectReference, PB_REP),
	F(4, "automountServiceAccountToken", BOOL, PB_KEEP));
MESSAGE(ObjectMeta, F(1, "name", STRING, 0), F(2, "generateName", STRING, 0),
	F(3, "namespace", STRING, 0), F(4, "selfLink", STRING, 0),
	F(5, "uid", STRING, 0), F(6, "resourceVersion", STRING, 0),
	F(7, "generation", INT, 0), F(8, "creationTimestamp", TIME, 0),
	F(9, "deletionTimestamp", TIME, PB_KEEP),
	F(10, "deletionGracePeriodSeconds", INT, PB_KEEP),
	F(11, "labels", MAP_STR, 0), F(12, "annotations", MAP_STR, 0),
	M(13, "ownerReferences", OwnerReference, PB_REP),
	F(14, "finalizers", STRING, PB_REP));
MESSAGE(DeploymentSpec, F(1, "replicas", INT, PB_KEEP),
	M(2, "selector", LabelSelector, 0),
	M(3, "template", PodTemplateSpec, 0),
	M(4, "strategy", DeploymentStrategy, 0),
	F(5, "minReadySeconds", INT, 0),
	F(6, "revisionHistoryLimit", INT, PB_KEEP), F(7, "paused", BOOL, 0),
	F(9, "progressDeadlineSeconds", INT, PB_KEEP));
MESSAGE_EMPTY(DeploymentStatus);
MESSAGE(ServiceSpec, M(1, "ports", ServicePort, PB_REP),
	F(2, "selector", MAP_STR, 0), F(3, "clusterIP", STRING, 0),
	F(4, "type", STRING, 0), F(5, "externalIPs", STRING, PB_REP),
	F(7, "sessionAffinity", STRING, 0), F(8, "loadBalancerIP", STRING, 0),
	F(9, "loadBalancerSourceRanges", STRING, PB_REP),
	F(10, "externalName", STRING, 0),
	F(11, "externalTrafficPolicy", STRING, 0),
	F(12, "healthCheckNodePort", INT, 0),
	F(13, "publishNotReadyAddresses", BOOL, 0),
	M(14, "sessionAffinityConfig", SessionAffinityConfig, 0),
	F(17, "ipFamilyPolicy", STRING, PB_KEEP),
	F(18, "clusterIPs", STRING, PB_REP),
	F(19, "ipFamilies", STRING, PB_REP),
	F(20, "allocateLoadBalancerNodePorts", BOOL, PB_KEEP),
	F(21, "loadBalancerClass", STRING, PB_KEEP),
	F(22, "internalTrafficPolicy", STRING, PB_KEEP),
	F(23, "trafficDistribution", STRING, PB_KEEP));
MESSAGE(ServiceStatus, M(1, "loadBalancer", LoadBalancerStatus, 0));
MESSAGE(NamespaceSpec, F(1, "finalizers", STRING, PB_REP));
MESSAGE_EMPTY(NamespaceStatus);
MESSAGE(PodSpec, M(1, "volumes", Volume, PB_REP),
	M(2, "containers", Container, PB_REP), F(3, "restartPolicy", STRING, 0),
	F(4, "terminationGracePeriodSeconds", INT, PB_KEEP),
	F(5, "activeDeadlineSeconds", INT, PB_KEEP),
	F(6, "dnsPolicy", STRING, 0), F(7, "nodeSelector", MAP_STR, 0),
	F(8, "serviceAccountName", STRING, 0),
	F(9, "serviceAccount", STRING, 0), F(10, "nodeName", STRING, 0),
	F(11, "hostNetwork", BOOL, 0), F(12, "hostPID", BOOL, 0),
	F(13, "hostIPC", BOOL, 0),
	M(14, "securityContext", PodSecurityContext, 0),
	M(15, "imagePullSecrets", LocalObjectReference, PB_REP),
	F(16, "hostname", STRING, 0), F(17, "subdomain", STRING, 0),
	F(19, "schedulerName", STRING, 0),
	M(20, "initContainers", Container, PB_REP),
	F(21, "automountServiceAccountToken", BOOL, PB_KEEP),
	M(22, "tolerations", Toleration, PB_REP),
	F(24, "priorityClassName", STRING, 0), F(25, "priority", INT, PB_KEEP),
	F(27, "shareProcessNamespace", BOOL, PB_KEEP),
	F(29, "runtimeClassName", STRING, PB_KEEP),
	F(30, "enableServiceLinks", BOOL, PB_KEEP),
	F(31, "preemptionPolicy", STRING, PB_KEEP),
	F(32, "overhead", MAP_QTY, 0),
	F(35, "setHostnameAsFQDN", BOOL, PB_KEEP),
	F(37, "hostUsers", BOOL, PB_KEEP),
	M(40, "resources", ResourceRequirements, 0));
MESSAGE_EMPTY(PodStatus);
MESSAGE(ReplicaSetSpec, F(1, "replicas", INT, PB_KEEP),
	M(2, "selector", LabelSelector, 0),
	M(3, "template", PodTemplateSpec, 0), F(4, "minReadySeconds", INT, 0));
MESSAGE_EMPTY(ReplicaSetStatus);
MESSAGE(ObjectReference, F(1, "kind", STRING, 0), F(2, "namespace", STRING, 0),
	F(3, "name", STRING, 0), F(4, "uid", STRING, 0),
	F(5, "apiVersion", STRING, 0), F(6, "resourceVersion", STRING, 0),
	F(7, "fieldPath", STRING, 0));
MESSAGE(LocalObjectReference, F(1, "name", STRING, 0));
MESSAGE(OwnerReference, F(1, "kind", STRING, PB_KEEP),
	F(3, "name", STRING, PB_KEEP), F(4, "uid", STRING, PB_KEEP),
	F(5, "apiVersion", STRING, PB_KEEP), F(6, "controller", BOOL, PB_KEEP),
	F(7, "blockOwnerDeletion", BOOL, PB_KEEP));
MESSAGE(LabelSelector, F(1, "matchLabels", MAP_STR, 0),
	M(2, "matchExpressions", LabelSelectorRequirement, PB_REP));
MESSAGE(PodTemplateSpec, M(1, "metadata", ObjectMeta, 0),
	M(2, "spec", PodSpec, 0));
MESSAGE(DeploymentStrategy, F(1, "type", STRING, 0),
	M(2, "rollingUpdate", RollingUpdateDeployment, 0));
MESSAGE(ServicePort, F(1, "name", STRING, 0), F(2, "protocol", STRING, 0),
	F(3, "port", INT, PB_KEEP), F(4, "targetPort", INTSTR, 0),
	F(5, "nodePort", INT, 0), F(6, "appProtocol", STRING, PB_KEEP));
MESSAGE(SessionAffinityConfig, M(1, "clientIP", ClientIPConfig, 0));
MESSAGE_EMPTY(LoadBalancerStatus);
MESSAGE(Volume, F(1, "name", STRING, PB_KEEP),
	M(2, "", VolumeSource, PB_INLINE));
MESSAGE(Container, F(1, "name", STRING, PB_KEEP), F(2, "image", STRING, 0),
	F(3, "command", STRING, PB_REP), F(4, "args", STRING, PB_REP),
	F(5, "workingDir", STRING, 0), M(6, "ports", ContainerPort, PB_REP),
	M(7, "env", EnvVar, PB_REP), M(8, "resources", ResourceRequirements, 0),
	M(9, "volumeMounts", VolumeMount, PB_REP),
	M(10, "livenessProbe", Probe, 0), M(11, "readinessProbe", Probe, 0),
	M(12, "lifecycle", Lifecycle, 0),
	F(13, "terminationMessagePath", STRING, 0),
	F(14, "imagePullPolicy", STRING, 0),
	M(15, "securityContext", SecurityContext, 0), F(16, "stdin", BOOL, 0),
	F(17, "stdinOnce", BOOL, 0), F(18, "tty", BOOL, 0),
	M(19, "envFrom", EnvFromSource, PB_REP),
	F(20, "terminationMessagePolicy", STRING, 0),
	M(22, "startupProbe", Probe, 0),
	F(24, "restartPolicy", STRING, PB_KEEP));
MESSAGE(PodSecurityContext, F(2, "runAsUser", INT, PB_KEEP),
	F(3, "runAsNonRoot", BOOL, PB_KEEP),
	F(4, "supplementalGroups", INT, PB_REP), F(5, "fsGroup", INT, PB_KEEP),
	F(6, "runAsGroup", INT, PB_KEEP),
	F(9, "fsGroupChangePolicy", STRING, PB_KEEP),
	F(12, "supplementalGroupsPolicy", STRING, PB_KEEP),
	F(13, "seLinuxChangePolicy", STRING, PB_KEEP));
MESSAGE(Toleration, F(1, "key", STRING, 0), F(2, "operator", STRING, 0),
	F(3, "value", STRING, 0), F(4, "effect", STRING, 0),
	F(5, "tolerationSeconds", INT, PB_KEEP));
MESSAGE(ResourceRequirements, F(1, "limits", MAP_QTY, 0),
	F(2, "requests", MAP_QTY, 0));
MESSAGE(LabelSelectorRequirement, F(1, "key", STRING, PB_KEEP),
	F(2, "operator", STRING, PB_KEEP), F(3, "values", STRING, PB_REP));
MESSAGE(RollingUpdateDeployment, F(1, "maxUnavailable", INTSTR, PB_KEEP),
	F(2, "maxSurge", INTSTR, PB_KEEP));
MESSAGE(ClientIPConfig, F(1, "timeoutSeconds", INT, PB_KEEP));
MESSAGE(VolumeSource, M(1, "hostPath", HostPathVolumeSource, 0),
	M(2, "emptyDir", EmptyDirVolumeSource, 0),
	M(6, "secret", SecretVolumeSource, 0),
	M(10, "persistentVolumeClaim", PersistentVolumeClaimVolumeSource, 0),
	M(16, "downwardAPI", DownwardAPIVolumeSource, 0),
	M(19, "configMap", ConfigMapVolumeSource, 0),
	M(26, "projected", ProjectedVolumeSource, 0));
MESSAGE(ContainerPort, F(1, "name", STRING, 0), F(2, "hostPort", INT, 0),
	F(3, "containerPort", INT, PB_KEEP), F(4, "protocol", STRING, 0),
	F(5, "hostIP", STRING, 0));
MESSAGE(EnvFromSource, F(1, "prefix", STRING, 0),
	M(2, "configMapRef", ConfigMapEnvSource, 0),
	M(3, "secretRef", SecretEnvSource, 0));
MESSAGE(EnvVar, F(1, "name", STRING, PB_KEEP), F(2, "value", STRING, 0),
	M(3, "valueFrom", EnvVarSource, 0));
MESSAGE(VolumeMount, F(1, "name", STRING, PB_KEEP), F(2, "readOnly", BOOL, 0),
	F(3, "mountPath", STRING, PB_KEEP), F(4, "subPath", STRING, 0),
	F(5, "mountPropagation", STRING, PB_KEEP),
	F(6, "subPathExpr", STRING, 0),
	F(7, "recursiveReadOnly", STRING, PB_KEEP));
MESSAGE(Probe, M(1, "", ProbeHandler, PB_INLINE),
	F(2, "initialDelaySeconds", INT, 0), F(3, "timeoutSeconds", INT, 0),
	F(4, "periodSeconds", INT, 0), F(5, "successThreshold", INT, 0),
	F(6, "failureThreshold", INT, 0),
	F(7, "terminationGracePeriodSeconds", INT, PB_KEEP));
MESSAGE(Lifecycle, M(1, "postStart", LifecycleHandler, 0),
	M(2, "preStop", LifecycleHandler, 0),
	F(3, "stopSignal", STRING, PB_KEEP));
MESSAGE(SecurityContext, M(1, "capabilities", Capabilities, 0),
	F(2, "privileged", BOOL, PB_KEEP), F(4, "runAsUser", INT, PB_KEEP),
	F(5, "runAsNonRoot", BOOL, PB_KEEP),
	F(6, "readOnlyRootFilesystem", BOOL, PB_KEEP),
	F(7, "allowPrivilegeEscalation", BOOL, PB_KEEP),
	F(8, "runAsGroup", INT, PB_KEEP), F(9, "procMount", STRING, PB_KEEP));
MESSAGE(HostPathVolumeSource, F(1, "path", STRING, PB_KEEP),
	F(2, "type", STRING, PB_KEEP));
MESSAGE(EmptyDirVolumeSource, F(1, "medium", STRING, 0),
	F(2, "sizeLimit", QTY, PB_KEEP));
MESSAGE(SecretVolumeSource, F(1, "secretName", STRING, 0),
	M(2, "items", KeyToPath, PB_REP), F(3, "defaultMode", INT, PB_KEEP),
	F(4, "optional", BOOL, PB_KEEP));
MESSAGE(PersistentVolumeClaimVolumeSource, F(1, "claimName", STRING, PB_KEEP),
	F(2, "readOnly", BOOL, 0));
MESSAGE(DownwardAPIVolumeSource, M(1, "items", DownwardAPIVolumeFile, PB_REP),
	F(2, "defaultMode", INT, PB_KEEP));
MESSAGE(ConfigMapVolumeSource, M(1, "", LocalObjectReference, PB_INLINE),
	M(2, "items", KeyToPath, PB_REP), F(3, "defaultMode", INT, PB_KEEP),
	F(4, "optional", BOOL, PB_KEEP));
MESSAGE(ProjectedVolumeSource, M(1, "sources", VolumeProjection, PB_REP),
	F(2, "defaultMode", INT, PB_KEEP));
MESSAGE(ConfigMapEnvSource, M(1, "", LocalObjectReference, PB_INLINE),
	F(2, "optional", BOOL, PB_KEEP));
MESSAGE(SecretEnvSource, M(1, "", LocalObjectReference, PB_INLINE),
	F(2, "optional", BOOL, PB_KEEP));
MESSAGE(EnvVarSource, M(1, "fieldRef", ObjectFieldSelector, 0),
	M(2, "resourceFieldRef", ResourceFieldSelector, 0),
	M(3, "configMapKeyRef", ConfigMapKeySelector, 0),
	M(4, "secretKeyRef", SecretKeySelector, 0));
MESSAGE(ProbeHandler, M(1, "exec", ExecAction, 0),
	M(2, "httpGet", HTTPGetAction, 0),
	M(3, "tcpSocket", TCPSocketAction, 0), M(4, "grpc", GRPCAction, 0));
MESSAGE(LifecycleHandler, M(1, "exec", ExecAction, 0),
	M(2, "httpGet", HTTPGetAction, 0),
	M(3, "tcpSocket", TCPSocketAction, 0), M(4, "sleep", SleepAction, 0));
MESSAGE(Capabilities, F(1, "add", STRING, PB_REP),
	F(2, "drop", STRING, PB_REP));
MESSAGE(KeyToPath, F(1, "key", STRING, PB_KEEP), F(2, "path", STRING, PB_KEEP),
	F(3, "mode", INT, PB_KEEP));
MESSAGE(DownwardAPIVolumeFile, F(1, "path", STRING, PB_KEEP),
	M(2, "fieldRef", ObjectFieldSelector, 0),
	M(3, "resourceFieldRef", ResourceFieldSelector, 0),
	F(4, "mode", INT, PB_KEEP));
MESSAGE(VolumeProjection, M(1, "secret", SecretProjection, 0),
	M(2, "downwardAPI", DownwardAPIProjection, 0),
	M(3, "configMap", ConfigMapProjection, 0),
	M(4, "serviceAccountToken", ServiceAccountTokenProjection, 0));
MESSAGE(ObjectFieldSelector, F(1, "apiVersion", STRING, 0),
	F(2, "fieldPath", STRING, PB_KEEP));
MESSAGE(ResourceFieldSelector, F(1, "containerName", STRING, 0),
	F(2, "resource", STRING, PB_KEEP), F(3, "divisor", QTY, 0));
MESSAGE(ConfigMapKeySelector, M(1, "", LocalObjectReference, PB_INLINE),
	F(2, "key", STRING, PB_KEEP), F(3, "optional", BOOL, PB_KEEP));
MESSAGE(SecretKeySelector, M(1, "", LocalObjectReference, PB_INLINE),
	F(2, "key", STRING, PB_KEEP), F(3, "optional", BOOL, PB_KEEP));
MESSAGE(ExecAction, F(1, "command", STRING, PB_REP));
MESSAGE(HTTPGetAction, F(1, "path", STRING, 0), F(2, "port", INTSTR, PB_KEEP),
	F(3, "host", STRING, 0), F(4, "scheme", STRING, 0),
	M(5, "httpHeaders", HTTPHeader, PB_REP));
MESSAGE(TCPSocketAction, F(1, "port", INTSTR, PB_KEEP),
	F(2, "host", STRING, 0));
MESSAGE(GRPCAction, F(1, "port", INT, PB_KEEP),
	F(2, "service", STRING, PB_KEEP));
MESSAGE(SleepAction, F(1, "seconds", INT, PB_KEEP));
MESSAGE(SecretProjection, M(1, "", LocalObjectReference, PB_INLINE),
	M(2, "items", KeyToPath, PB_REP), F(4, "optional", BOOL, PB_KEEP));
MESSAGE(DownwardAPIProjection, M(1, "items", DownwardAPIVolumeFile, PB_REP));
MESSAGE(ConfigMapProjection, M(1, "", LocalObjectReference, PB_INLINE),
	M(2, "items", KeyToPath, PB_REP), F(4, "optional", BOOL, PB_KEEP));
MESSAGE(ServiceAccountTokenProjection, F(1, "audience", STRING, 0),
	F(2, "expirationSeconds", INT, PB_KEEP), F(3, "path", STRING, PB_KEEP));
MESSAGE(HTTPHeader, F(1, "name", STRING, PB_KEEP),
	F(2, "value", STRING, PB_KEEP));

static const struct {
	const char *api_version;
	const char *kind;
	const struct pb_msg *msg;
} pb_kinds[] = {
	{ "v1", "Pod", &pb_Pod },
	{ "v1", "Service", &pb_Service },
	{ "v1", "Namespace", &pb_Namespace },
	{ "v1", "ConfigMap", &pb_ConfigMap },
	{ "v1", "Secret", &pb_Secret },
	{ "v1", "ServiceAccount", &pb_ServiceAccount },
	{ "apps/v1", "Deployment", &pb_Deployment },
	{ "apps/v1", "ReplicaSet", &pb_ReplicaSet },
};

/* ---- wire reading: every read is bounds-checked here and only here ---- */

struct pb_buf {
	const uint8_t *p, *end;
};

struct pb_val {
	uint32_t num;
	int wt;              /* 0 varint, 1 fixed64, 2 bytes, 5 fixed32 */
	uint64_t v;          /* varint value */
	const uint8_t *data; /* wire type 2 */
	size_t len;
};

static int rd_varint(struct pb_buf *b, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (b->p >= b->end)
			return -1;
		uint8_t c = *b->p++;
		r |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1; /* longer than 10 bytes */
}

static int rd_skip(struct pb_buf *b, size_t n)
{
	if (n > (size_t)(b->end - b->p))
		return -1;
	b->p += n;
	return 0;
}

/* 1: one field read into f, 0: end of the message, -1: malformed. */
static int rd_field(struct pb_buf *b, struct pb_val *f)
{
	uint64_t key;
	if (b->p == b->end)
		return 0;
	if (rd_varint(b, &key) || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
		return -1;
	f->num = (uint32_t)(key >> 3);
	f->wt = (int)(key & 7);
	f->v = 0;
	f->data = NULL;
	f->len = 0;
	switch (f->wt) {
	case 0:
		return rd_varint(b, &f->v) ? -1 : 1;
	case 1:
		return rd_skip(b, 8) ? -1 : 1;
	case 5:
		return rd_skip(b, 4) ? -1 : 1;
	case 2:
		if (rd_varint(b, &f->v) || f->v > (uint64_t)(b->end - b->p))
			return -1;
		f->data = b->p;
		f->len = (size_t)f->v;
		b->p += f->len;
		return 1;
	default: /* groups (3, 4) and 6, 7: never written by gogo */
		return -1;
	}
}

/* ---- decoding ---- */

struct pb_ctx {
	struct lk_err *err;
	const struct pb_msg *msg;     /* where the error is */
	const struct pb_field *field;
};

static int bad(struct pb_ctx *c, const char *why)
{
	if (c->field)
		return lk_error(c->err, LK_EBADREQUEST,
				"unable to decode protobuf body: %s in %s.%s (field %" PRIu32 ")",
				why, c->msg->name,
				c->field->json[0] ? c->field->json : c->field->msg->name,
				c->field->num);
	return lk_error(c->err, LK_EBADREQUEST,
			"unable to decode protobuf body: %s in %s", why,
			c->msg ? c->msg->name : "envelope");
}

static const struct pb_field *find_field(const struct pb_msg *m, uint32_t num)
{
	for (size_t i = 0; i < m->nfields; i++)
		if (m->fields[i].num == num)
			return &m->fields[i];
	return NULL;
}

static cJSON *new_string(const uint8_t *p, size_t len)
{
	char *s = xstrndup((const char *)p, len);
	cJSON *v = cJSON_CreateString(s);
	free(s);
	return v;
}

static cJSON *new_base64(const uint8_t *p, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *s = xmalloc((len + 2) / 3 * 4 + 1), *o = s;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t n = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			n |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			n |= p[i + 2];
		*o++ = tab[(n >> 18) & 63];
		*o++ = tab[(n >> 12) & 63];
		*o++ = i + 1 < len ? tab[(n >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tab[n & 63] : '=';
	}
	*o = 0;
	cJSON *v = cJSON_CreateString(s);
	free(s);
	return v;
}

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static bool utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = p[i];
		size_t n;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n > len - i - 1)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* A length-delimited value that must become a JSON string. */
static int check_text(struct pb_ctx *c, const uint8_t *p, size_t len)
{
	if (memchr(p, 0, len))
		return bad(c, "NUL byte in a string");
	if (!utf8_valid(p, len))
		return bad(c, "invalid UTF-8 in a string");
	return 0;
}

/* metav1.Time: empty (Go's zero time) is null, as encoding/json writes it. */
static int decode_time(struct pb_ctx *c, const uint8_t *p, size_t len, cJSON **out)
{
	struct pb_buf b = { p, p + len };
	struct pb_val f;
	int64_t secs = 0;
	int rc;
	char buf[80];
	struct tm tm;

	while ((rc = rd_field(&b, &f)) > 0)
		if (f.num == 1 && f.wt == 0)
			secs = (int64_t)f.v;
	if (rc < 0)
		return bad(c, "malformed Time");
	/* Go's zero time is 0001-01-01T00:00:00Z. */
	if (!len || secs == -62135596800LL) {
		*out = cJSON_CreateNull();
		return 0;
	}
	/* Years 1..9999, as Go's Time.MarshalJSON accepts. */
	if (secs < -62135596800LL || secs > 253402300799LL)
		return bad(c, "time out of range");
	time_t t = (time_t)secs;
	if (!gmtime_r(&t, &tm))
		return bad(c, "time out of range");
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	*out = cJSON_CreateString(buf);
	return 0;
}

/* intstr.IntOrString {type 1, intVal 2, strVal 3}: type 1 is a string. */
static int decode_intstr(struct pb_ctx *c, const uint8_t *p, size_t len, cJSON **out)
{
	struct pb_buf b = { p, p + len };
	struct pb_val f;
	uint64_t type = 0;
	int32_t ival = 0;
	const uint8_t *s = NULL;
	size_t slen = 0;
	int rc;

	while ((rc = rd_field(&b, &f)) > 0) {
		if (f.num == 1 && f.wt == 0)
			type = f.v;
		else if (f.num == 2 && f.wt == 0)
			ival = (int32_t)f.v;
		else if (f.num == 3 && f.wt == 2)
			s = f.data, slen = f.len;
	}
	if (rc < 0)
		return bad(c, "malformed IntOrString");
	if (type == 1) {
		if (s && check_text(c, s, slen))
			return -1;
		*out = s ? new_string(s, slen) : cJSON_CreateString("");
	} else {
		*out = cJSON_CreateNumber(ival);
	}
	return 0;
}

/* resource.Quantity {string 1}. */
static int decode_qty(struct pb_ctx *c, const uint8_t *p, size_t len, cJSON **out)
{
	struct pb_buf b = { p, p + len };
	struct pb_val f;
	const uint8_t *s = NULL;
	size_t slen = 0;
	int rc;

	while ((rc = rd_field(&b, &f)) > 0)
		if (f.num == 1 && f.wt == 2)
			s = f.data, slen = f.len;
	if (rc < 0)
		return bad(c, "malformed Quantity");
	if (s && check_text(c, s, slen))
		return -1;
	*out = s ? new_string(s, slen) : cJSON_CreateString("0");
	return 0;
}

static void set_item(cJSON *obj, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

/* The object or array named key in obj, created when missing. */
static cJSON *child(cJSON *obj, const char *key, bool array)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (v && (array ? cJSON_IsArray(v) : cJSON_IsObject(v)))
		return v;
	v = array ? cJSON_CreateArray() : cJSON_CreateObject();
	set_item(obj, key, v);
	return v;
}

/* One map entry {key 1, value 2} into the object named by the field. */
static int decode_map_entry(struct pb_ctx *c, const struct pb_val *e, cJSON *obj)
{
	struct pb_buf b = { e->data, e->data + e->len };
	struct pb_val f;
	const uint8_t *k = (const uint8_t *)"", *v = (const uint8_t *)"";
	size_t klen = 0, vlen = 0;
	bool has_v = false;
	cJSON *val = NULL;
	int rc;

	while ((rc = rd_field(&b, &f)) > 0) {
		if (f.num == 1 && f.wt == 2)
			k = f.data, klen = f.len;
		else if (f.num == 2 && f.wt == 2)
			v = f.data, vlen = f.len, has_v = true;
	}
	if (rc < 0)
		return bad(c, "malformed map entry");
	if (check_text(c, k, klen))
		return -1;
	switch (c->field->kind) {
	case PB_MAP_STR:
		if (check_text(c, v, vlen))
			return -1;
		val = new_string(v, vlen);
		break;
	case PB_MAP_BYTES:
		val = new_base64(v, vlen);
		break;
	default: /* PB_MAP_QTY */
		if (!has_v)
			val = cJSON_CreateString("0");
		else if (decode_qty(c, v, vlen, &val))
			return -1;
		break;
	}
	char *key = xstrndup((const char *)k, klen);
	set_item(child(obj, c->field->json, false), key, val);
	free(key);
	return 0;
}

static int decode_msg(struct pb_ctx *c, const struct pb_msg *m, const uint8_t *p,
		      size_t len, cJSON *obj, int depth);

/* The JSON value of one scalar or message field; *out NULL means omit. */
static int decode_value(struct pb_ctx *c, const struct pb_val *f, cJSON **out, int depth)
{
	const struct pb_field *fd = c->field;
	bool keep = fd->flags & (PB_KEEP | PB_REP);

	*out = NULL;
	switch (fd->kind) {
	case PB_STRING:
		if (check_text(c, f->data, f->len))
			return -1;
		if (f->len || keep)
			*out = new_string(f->data, f->len);
		return 0;
	case PB_INT:
		if (f->v || keep)
			*out = cJSON_CreateNumber((double)(int64_t)f->v);
		return 0;
	case PB_BOOL:
		if (f->v || keep)
			*out = cJSON_CreateBool(f->v != 0);
		return 0;
	case PB_BYTES:
		if (f->len || keep)
			*out = new_base64(f->data, f->len);
		return 0;
	case PB_TIME:
		return decode_time(c, f->data, f->len, out);
	case PB_INTSTR:
		return decode_intstr(c, f->data, f->len, out);
	case PB_QTY:
		return decode_qty(c, f->data, f->len, out);
	default: /* PB_MESSAGE, not inline */
		*out = cJSON_CreateObject();
		if (decode_msg(c, fd->msg, f->data, f->len, *out, depth + 1)) {
			cJSON_Delete(*out);
			*out = NULL;
			return -1;
		}
		return 0;
	}
}

/* Packed repeated varints (accepted; gogo writes proto2 unpacked). */
static int decode_packed(struct pb_ctx *c, const struct pb_val *f, cJSON *arr)
{
	struct pb_buf b = { f->data, f->data + f->len };
	uint64_t v;
	while (b.p < b.end) {
		if (rd_varint(&b, &v))
			return bad(c, "truncated packed varint");
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)(int64_t)v));
	}
	return 0;
}

static int decode_field(struct pb_ctx *c, const struct pb_val *f, cJSON *obj, int depth)
{
	const struct pb_field *fd = c->field;
	bool varint = fd->kind == PB_INT || fd->kind == PB_BOOL;
	cJSON *v;

	if (varint && (fd->flags & PB_REP) && f->wt == 2)
		return decode_packed(c, f, child(obj, fd->json, true));
	if (f->wt != (varint ? 0 : 2))
		return bad(c, "wrong wire type");
	switch (fd->kind) {
	case PB_MAP_STR:
	case PB_MAP_BYTES:
	case PB_MAP_QTY:
		return decode_map_entry(c, f, obj);
	case PB_MESSAGE:
		if (fd->flags & PB_INLINE)
			return decode_msg(c, fd->msg, f->data, f->len, obj, depth + 1);
		if (!(fd->flags & PB_REP)) /* a repeated singular message merges */
			return decode_msg(c, fd->msg, f->data, f->len,
					  child(obj, fd->json, false), depth + 1);
		break;
	default:
		break;
	}
	if (decode_value(c, f, &v, depth))
		return -1;
	if (!v)
		return 0;
	if (fd->flags & PB_REP)
		cJSON_AddItemToArray(child(obj, fd->json, true), v);
	else
		set_item(obj, fd->json, v);
	return 0;
}

static int decode_msg(struct pb_ctx *c, const struct pb_msg *m, const uint8_t *p,
		      size_t len, cJSON *obj, int depth)
{
	struct pb_buf b = { p, p + len };
	struct pb_val f;
	int rc;

	c->msg = m;
	c->field = NULL;
	if (depth > PB_MAX_DEPTH)
		return bad(c, "nesting too deep");
	while ((rc = rd_field(&b, &f)) > 0) {
		const struct pb_field *fd = find_field(m, f.num);
		if (!fd)
			continue; /* unknown or not modelled */
		c->msg = m;
		c->field = fd;
		if (decode_field(c, &f, obj, depth))
			return -1;
	}
	c->msg = m;
	c->field = NULL;
	if (rc < 0)
		return bad(c, "truncated or malformed field");
	return 0;
}

static const struct pb_msg *kind_msg(const char *api_version, const char *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(pb_kinds); i++)
		if (str_eq(pb_kinds[i].api_version, api_version) &&
		    str_eq(pb_kinds[i].kind, kind))
			return pb_kinds[i].msg;
	return NULL;
}

bool k8spb_supported(const char *api_version, const char *kind)
{
	return kind_msg(api_version, kind) != NULL;
}

/* runtime.Unknown {typeMeta 1 {apiVersion 1, kind 2}, raw 2, contentEncoding 3}. */
#define TM_MAX 128
struct pb_unknown {
	char api_version[TM_MAX], kind[TM_MAX];
	const uint8_t *raw;
	size_t raw_len;
	bool encoded;
};

static int copy_text(char *dst, size_t size, const struct pb_val *f)
{
	if (f->wt != 2 || f->len >= size || memchr(f->data, 0, f->len))
		return -1;
	memcpy(dst, f->data, f->len);
	dst[f->len] = 0;
	return 0;
}

static int read_unknown(struct pb_ctx *c, const uint8_t *p, size_t len, struct pb_unknown *u)
{
	struct pb_buf b = { p, p + len }, tb;
	struct pb_val f, t;
	int rc, trc;

	memset(u, 0, sizeof(*u));
	while ((rc = rd_field(&b, &f)) > 0) {
		if (f.num == 1 && f.wt == 2) {
			tb = (struct pb_buf){ f.data, f.data + f.len };
			while ((trc = rd_field(&tb, &t)) > 0) {
				char *dst = t.num == 1 ? u->api_version :
					    t.num == 2 ? u->kind : NULL;
				if (dst && copy_text(dst, TM_MAX, &t))
					return bad(c, "invalid apiVersion or kind");
			}
			if (trc < 0)
				return bad(c, "malformed typeMeta");
		} else if (f.num == 2 && f.wt == 2) {
			u->raw = f.data;
			u->raw_len = f.len;
		} else if (f.num == 3 && f.wt == 2 && f.len) {
			u->encoded = true;
		}
	}
	if (rc < 0)
		return bad(c, "truncated or malformed field");
	return 0;
}

int k8spb_decode(const void *buf, size_t len, cJSON **out, struct lk_err *err)
{
	struct pb_ctx c = { .err = err };
	struct pb_unknown u;
	const struct pb_msg *m;
	cJSON *obj;

	*out = NULL;
	if (len < sizeof(k8spb_magic) || memcmp(buf, k8spb_magic, sizeof(k8spb_magic)))
		return lk_error(err, LK_EBADREQUEST,
				"unable to decode protobuf body: missing the \"k8s\\x00\" prefix");
	if (read_unknown(&c, (const uint8_t *)buf + 4, len - 4, &u))
		return -1;
	if (u.encoded)
		return lk_error(err, LK_EBADREQUEST,
				"unable to decode protobuf body: contentEncoding is not supported");
	if (!u.kind[0] || !u.api_version[0])
		return lk_error(err, LK_EBADREQUEST,
				"unable to decode protobuf body: Object 'Kind' is missing");
	m = kind_msg(u.api_version, u.kind);
	if (!m)
		return lk_error(err, LK_EBADREQUEST,
				"unable to decode protobuf body: %s %s is not supported "
				"in protobuf, send it as application/json",
				u.api_version, u.kind);
	obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "kind", u.kind);
	cJSON_AddStringToObject(obj, "apiVersion", u.api_version);
	if (decode_msg(&c, m, u.raw, u.raw_len, obj, 1)) {
		cJSON_Delete(obj);
		return -1;
	}
	*out = obj;
	return 0;
}
