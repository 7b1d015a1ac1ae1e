// Field numbers and JSON names from upstream's generated.proto files
// (k8s.io/apimachinery meta/v1, runtime, intstr, resource; k8s.io/api
// core, apps, authentication, authorization, policy and rbac v1). Only
// what kubectl's typed commands send; a field outside this table is
// refused by name (protobuf.h).

#include "controlplane/server/api/proto_schema.h"

#include <string>
#include <utility>

namespace berth::controlplane::api::proto {
namespace {

// Builders keep the table one line per field.
Field S(int n, std::string_view json) {
  return {n, json, Type::kString};
}
Field I32(int n, std::string_view json, bool presence = false) {
  return {n, json, Type::kInt32, nullptr, false, false, presence};
}
Field I64(int n, std::string_view json, bool presence = false) {
  return {n, json, Type::kInt64, nullptr, false, false, presence};
}
Field B(int n, std::string_view json, bool presence = false) {
  return {n, json, Type::kBool, nullptr, false, false, presence};
}
Field M(int n, std::string_view json, const Message& m) {
  return {n, json, Type::kMessage, &m};
}
Field Inline(int n, const Message& m) {
  Field f{n, "", Type::kMessage, &m};
  f.inline_ = true;
  return f;
}
Field T(int n, std::string_view json, Type type = Type::kTime) {
  return {n, json, type};
}
Field Rep(Field f) {
  f.repeated = true;
  return f;
}
Field Map(int n, std::string_view json, Type value, const Message* m = nullptr) {
  Field f{n, json, value, m};
  f.map = true;
  return f;
}
Field Strings(int n, std::string_view json) {
  return Rep(S(n, json));
}

// meta/v1 and friends
const Message kOwnerReference{"OwnerReference",
                              {S(1, "kind"), S(3, "name"), S(4, "uid"), S(5, "apiVersion"),
                               B(6, "controller", true), B(7, "blockOwnerDeletion", true)}};
const Message kFieldsV1{"FieldsV1", {}};  // read as raw JSON
const Message kManagedFieldsEntry{"ManagedFieldsEntry",
                                  {S(1, "manager"),
                                   S(2, "operation"),
                                   S(3, "apiVersion"),
                                   T(4, "time"),
                                   S(6, "fieldsType"),
                                   {7, "fieldsV1", Type::kRawJson},
                                   S(8, "subresource")}};
const Message kObjectMeta{
    "ObjectMeta",
    {S(1, "name"), S(2, "generateName"), S(3, "namespace"), S(4, "selfLink"), S(5, "uid"),
     S(6, "resourceVersion"), I64(7, "generation"), T(8, "creationTimestamp"),
     T(9, "deletionTimestamp"), I64(10, "deletionGracePeriodSeconds", true),
     Map(11, "labels", Type::kString), Map(12, "annotations", Type::kString),
     Rep(M(13, "ownerReferences", kOwnerReference)), Strings(14, "finalizers"),
     Rep(M(17, "managedFields", kManagedFieldsEntry))}};
const Message kLabelSelectorRequirement{"LabelSelectorRequirement",
                                        {S(1, "key"), S(2, "operator"), Strings(3, "values")}};
const Message kLabelSelector{"LabelSelector",
                             {Map(1, "matchLabels", Type::kString),
                              Rep(M(2, "matchExpressions", kLabelSelectorRequirement))}};
const Message kPreconditions{"Preconditions", {S(1, "uid"), S(2, "resourceVersion")}};
const Message kDeleteOptions{
    "DeleteOptions",
    {I64(1, "gracePeriodSeconds", true), M(2, "preconditions", kPreconditions),
     B(3, "orphanDependents", true), S(4, "propagationPolicy"), Strings(5, "dryRun")}};

// core/v1
const Message kObjectReference{"ObjectReference",
                               {S(1, "kind"), S(2, "namespace"), S(3, "name"), S(4, "uid"),
                                S(5, "apiVersion"), S(6, "resourceVersion"), S(7, "fieldPath")}};
const Message kLocalObjectReference{"LocalObjectReference", {S(1, "name")}};
const Message kSecret{"Secret",
                      {M(1, "metadata", kObjectMeta), Map(2, "data", Type::kBytes), S(3, "type"),
                       Map(4, "stringData", Type::kString), B(5, "immutable", true)}};
const Message kConfigMap{"ConfigMap",
                         {M(1, "metadata", kObjectMeta), Map(2, "data", Type::kString),
                          Map(3, "binaryData", Type::kBytes), B(4, "immutable", true)}};
const Message kNamespaceSpec{"NamespaceSpec", {Strings(1, "finalizers")}};
const Message kNamespaceStatus{"NamespaceStatus", {S(1, "phase")}};
const Message kNamespace{"Namespace",
                         {M(1, "metadata", kObjectMeta), M(2, "spec", kNamespaceSpec),
                          M(3, "status", kNamespaceStatus)}};
const Message kServiceAccount{
    "ServiceAccount",
    {M(1, "metadata", kObjectMeta), Rep(M(2, "secrets", kObjectReference)),
     Rep(M(3, "imagePullSecrets", kLocalObjectReference)),
     B(4, "automountServiceAccountToken", true)}};
const Message kServicePort{"ServicePort",
                           {S(1, "name"),
                            S(2, "protocol"),
                            I32(3, "port"),
                            {4, "targetPort", Type::kIntOrString},
                            I32(5, "nodePort"),
                            S(6, "appProtocol")}};
const Message kServiceSpec{
    "ServiceSpec",
    {Rep(M(1, "ports", kServicePort)), Map(2, "selector", Type::kString), S(3, "clusterIP"),
     S(4, "type"), Strings(5, "externalIPs"), S(7, "sessionAffinity"), S(8, "loadBalancerIP"),
     Strings(9, "loadBalancerSourceRanges"), S(10, "externalName"), S(11, "externalTrafficPolicy"),
     I32(12, "healthCheckNodePort"), B(13, "publishNotReadyAddresses"), S(17, "ipFamilyPolicy"),
     Strings(18, "clusterIPs"), Strings(19, "ipFamilies"),
     B(20, "allocateLoadBalancerNodePorts", true), S(21, "loadBalancerClass"),
     S(22, "internalTrafficPolicy")}};
const Message kLoadBalancerStatus{"LoadBalancerStatus", {}};
const Message kServiceStatus{"ServiceStatus", {M(1, "loadBalancer", kLoadBalancerStatus)}};
const Message kService{
    "Service",
    {M(1, "metadata", kObjectMeta), M(2, "spec", kServiceSpec), M(3, "status", kServiceStatus)}};
const Message kBinding{"Binding",
                       {M(1, "metadata", kObjectMeta), M(2, "target", kObjectReference)}};
const Message kEventSource{"EventSource", {S(1, "component"), S(2, "host")}};
const Message kEventSeries{"EventSeries",
                           {I32(1, "count"), T(2, "lastObservedTime", Type::kMicroTime)}};
const Message kEvent{
    "Event",
    {M(1, "metadata", kObjectMeta), M(2, "involvedObject", kObjectReference), S(3, "reason"),
     S(4, "message"), M(5, "source", kEventSource), T(6, "firstTimestamp"), T(7, "lastTimestamp"),
     I32(8, "count"), S(9, "type"), T(10, "eventTime", Type::kMicroTime),
     M(11, "series", kEventSeries), S(12, "action"), M(13, "related", kObjectReference),
     S(14, "reportingComponent"), S(15, "reportingInstance")}};

// Pod templates, the fields `kubectl create deployment/job` fills.
const Message kResourceRequirements{
    "ResourceRequirements",
    {Map(1, "limits", Type::kQuantity), Map(2, "requests", Type::kQuantity)}};
const Message kContainerPort{
    "ContainerPort",
    {S(1, "name"), I32(2, "hostPort"), I32(3, "containerPort"), S(4, "protocol"), S(5, "hostIP")}};
const Message kEnvVar{"EnvVar", {S(1, "name"), S(2, "value")}};
const Message kVolumeMount{
    "VolumeMount",
    {S(1, "name"), B(2, "readOnly"), S(3, "mountPath"), S(4, "subPath"), S(5, "mountPropagation"),
     S(6, "subPathExpr"), S(7, "recursiveReadOnly")}};
const Message kContainer{
    "Container",
    {S(1, "name"), S(2, "image"), Strings(3, "command"), Strings(4, "args"), S(5, "workingDir"),
     Rep(M(6, "ports", kContainerPort)), Rep(M(7, "env", kEnvVar)),
     M(8, "resources", kResourceRequirements), Rep(M(9, "volumeMounts", kVolumeMount)),
     S(13, "terminationMessagePath"), S(14, "imagePullPolicy"), B(16, "stdin"), B(17, "stdinOnce"),
     B(18, "tty"), S(20, "terminationMessagePolicy"), S(24, "restartPolicy")}};
const Message kHostPathVolumeSource{"HostPathVolumeSource", {S(1, "path"), S(2, "type")}};
const Message kEmptyDirVolumeSource{"EmptyDirVolumeSource",
                                    {S(1, "medium"), {2, "sizeLimit", Type::kQuantity}}};
const Message kKeyToPath{"KeyToPath", {S(1, "key"), S(2, "path"), I32(3, "mode", true)}};
const Message kSecretVolumeSource{"SecretVolumeSource",
                                  {S(1, "secretName"), Rep(M(2, "items", kKeyToPath)),
                                   I32(3, "defaultMode", true), B(4, "optional", true)}};
const Message kConfigMapVolumeSource{
    "ConfigMapVolumeSource",
    {Inline(1, kLocalObjectReference), Rep(M(2, "items", kKeyToPath)), I32(3, "defaultMode", true),
     B(4, "optional", true)}};
const Message kVolumeSource{
    "VolumeSource",
    {M(1, "hostPath", kHostPathVolumeSource), M(2, "emptyDir", kEmptyDirVolumeSource),
     M(6, "secret", kSecretVolumeSource), M(19, "configMap", kConfigMapVolumeSource)}};
const Message kVolume{"Volume", {S(1, "name"), Inline(2, kVolumeSource)}};
const Message kPodSpec{"PodSpec",
                       {Rep(M(1, "volumes", kVolume)),
                        Rep(M(2, "containers", kContainer)),
                        S(3, "restartPolicy"),
                        I64(4, "terminationGracePeriodSeconds", true),
                        I64(5, "activeDeadlineSeconds", true),
                        S(6, "dnsPolicy"),
                        Map(7, "nodeSelector", Type::kString),
                        S(8, "serviceAccountName"),
                        S(9, "serviceAccount"),
                        S(10, "nodeName"),
                        B(11, "hostNetwork"),
                        B(12, "hostPID"),
                        B(13, "hostIPC"),
                        Rep(M(15, "imagePullSecrets", kLocalObjectReference)),
                        S(16, "hostname"),
                        S(17, "subdomain"),
                        S(19, "schedulerName"),
                        Rep(M(20, "initContainers", kContainer)),
                        B(21, "automountServiceAccountToken", true),
                        S(24, "priorityClassName"),
                        I32(25, "priority", true),
                        S(29, "runtimeClassName"),
                        B(30, "enableServiceLinks", true),
                        S(31, "preemptionPolicy")}};
const Message kPodTemplateSpec{"PodTemplateSpec",
                               {M(1, "metadata", kObjectMeta), M(2, "spec", kPodSpec)}};

// apps/v1
const Message kRollingUpdateDeployment{
    "RollingUpdateDeployment",
    {{1, "maxUnavailable", Type::kIntOrString}, {2, "maxSurge", Type::kIntOrString}}};
const Message kDeploymentStrategy{"DeploymentStrategy",
                                  {S(1, "type"), M(2, "rollingUpdate", kRollingUpdateDeployment)}};
const Message kDeploymentSpec{
    "DeploymentSpec",
    {I32(1, "replicas", true), M(2, "selector", kLabelSelector), M(3, "template", kPodTemplateSpec),
     M(4, "strategy", kDeploymentStrategy), I32(5, "minReadySeconds"),
     I32(6, "revisionHistoryLimit", true), B(7, "paused"),
     I32(9, "progressDeadlineSeconds", true)}};
const Message kDeploymentStatus{
    "DeploymentStatus",
    {I64(1, "observedGeneration"), I32(2, "replicas"), I32(3, "updatedReplicas"),
     I32(4, "availableReplicas"), I32(5, "unavailableReplicas"), I32(7, "readyReplicas"),
     I32(8, "collisionCount", true)}};
const Message kDeployment{"Deployment",
                          {M(1, "metadata", kObjectMeta), M(2, "spec", kDeploymentSpec),
                           M(3, "status", kDeploymentStatus)}};

// authentication/v1
// {items: [...]} on the wire, a bare list in JSON (IsExtraValue).
const Message kExtraValue{"ExtraValue", {Strings(1, "items")}};
const Message kBoundObjectReference{"BoundObjectReference",
                                    {S(1, "kind"), S(2, "apiVersion"), S(3, "name"), S(4, "uid")}};
const Message kTokenRequestSpec{
    "TokenRequestSpec",
    {Strings(1, "audiences"), M(3, "boundObjectRef", kBoundObjectReference),
     I64(4, "expirationSeconds", true)}};
const Message kTokenRequestStatus{"TokenRequestStatus",
                                  {S(1, "token"), T(2, "expirationTimestamp")}};
const Message kTokenRequest{"TokenRequest",
                            {M(1, "metadata", kObjectMeta), M(2, "spec", kTokenRequestSpec),
                             M(3, "status", kTokenRequestStatus)}};
const Message kUserInfo{"UserInfo",
                        {S(1, "username"), S(2, "uid"), Strings(3, "groups"),
                         Map(4, "extra", Type::kMessage, &kExtraValue)}};
const Message kTokenReviewSpec{"TokenReviewSpec", {S(1, "token"), Strings(2, "audiences")}};
const Message kTokenReviewStatus{
    "TokenReviewStatus",
    {B(1, "authenticated"), M(2, "user", kUserInfo), S(3, "error"), Strings(4, "audiences")}};
const Message kTokenReview{"TokenReview",
                           {M(1, "metadata", kObjectMeta), M(2, "spec", kTokenReviewSpec),
                            M(3, "status", kTokenReviewStatus)}};
const Message kSelfSubjectReviewStatus{"SelfSubjectReviewStatus", {M(1, "userInfo", kUserInfo)}};
const Message kSelfSubjectReview{
    "SelfSubjectReview", {M(1, "metadata", kObjectMeta), M(2, "status", kSelfSubjectReviewStatus)}};

// authorization/v1
const Message kFieldSelectorRequirement{"FieldSelectorRequirement",
                                        {S(1, "key"), S(2, "operator"), Strings(3, "values")}};
const Message kFieldSelectorAttributes{
    "FieldSelectorAttributes",
    {S(1, "rawSelector"), Rep(M(2, "requirements", kFieldSelectorRequirement))}};
const Message kLabelSelectorAttributes{
    "LabelSelectorAttributes",
    {S(1, "rawSelector"), Rep(M(2, "requirements", kLabelSelectorRequirement))}};
const Message kResourceAttributes{
    "ResourceAttributes",
    {S(1, "namespace"), S(2, "verb"), S(3, "group"), S(4, "version"), S(5, "resource"),
     S(6, "subresource"), S(7, "name"), M(8, "fieldSelector", kFieldSelectorAttributes),
     M(9, "labelSelector", kLabelSelectorAttributes)}};
const Message kNonResourceAttributes{"NonResourceAttributes", {S(1, "path"), S(2, "verb")}};
const Message kSubjectAccessReviewSpec{
    "SubjectAccessReviewSpec",
    {M(1, "resourceAttributes", kResourceAttributes),
     M(2, "nonResourceAttributes", kNonResourceAttributes), S(3, "user"), Strings(4, "groups"),
     Map(5, "extra", Type::kMessage, &kExtraValue), S(6, "uid")}};
const Message kSelfSubjectAccessReviewSpec{"SelfSubjectAccessReviewSpec",
                                           {M(1, "resourceAttributes", kResourceAttributes),
                                            M(2, "nonResourceAttributes", kNonResourceAttributes)}};
const Message kSubjectAccessReviewStatus{
    "SubjectAccessReviewStatus",
    {B(1, "allowed"), S(2, "reason"), S(3, "evaluationError"), B(4, "denied")}};
const Message kSubjectAccessReview{
    "SubjectAccessReview",
    {M(1, "metadata", kObjectMeta), M(2, "spec", kSubjectAccessReviewSpec),
     M(3, "status", kSubjectAccessReviewStatus)}};
const Message kLocalSubjectAccessReview{
    "LocalSubjectAccessReview",
    {M(1, "metadata", kObjectMeta), M(2, "spec", kSubjectAccessReviewSpec),
     M(3, "status", kSubjectAccessReviewStatus)}};
const Message kSelfSubjectAccessReview{
    "SelfSubjectAccessReview",
    {M(1, "metadata", kObjectMeta), M(2, "spec", kSelfSubjectAccessReviewSpec),
     M(3, "status", kSubjectAccessReviewStatus)}};
const Message kSelfSubjectRulesReviewSpec{"SelfSubjectRulesReviewSpec", {S(1, "namespace")}};
const Message kResourceRule{"ResourceRule",
                            {Strings(1, "verbs"), Strings(2, "apiGroups"), Strings(3, "resources"),
                             Strings(4, "resourceNames")}};
const Message kNonResourceRule{"NonResourceRule",
                               {Strings(1, "verbs"), Strings(2, "nonResourceURLs")}};
const Message kSubjectRulesReviewStatus{
    "SubjectRulesReviewStatus",
    {Rep(M(1, "resourceRules", kResourceRule)), Rep(M(2, "nonResourceRules", kNonResourceRule)),
     B(3, "incomplete"), S(4, "evaluationError")}};
const Message kSelfSubjectRulesReview{
    "SelfSubjectRulesReview",
    {M(1, "metadata", kObjectMeta), M(2, "spec", kSelfSubjectRulesReviewSpec),
     M(3, "status", kSubjectRulesReviewStatus)}};

// policy/v1
const Message kEviction{"Eviction",
                        {M(1, "metadata", kObjectMeta), M(2, "deleteOptions", kDeleteOptions)}};

// rbac/v1
const Message kPolicyRule{"PolicyRule",
                          {Strings(1, "verbs"), Strings(2, "apiGroups"), Strings(3, "resources"),
                           Strings(4, "resourceNames"), Strings(5, "nonResourceURLs")}};
const Message kAggregationRule{"AggregationRule",
                               {Rep(M(1, "clusterRoleSelectors", kLabelSelector))}};
const Message kSubject{"Subject",
                       {S(1, "kind"), S(2, "apiGroup"), S(3, "name"), S(4, "namespace")}};
const Message kRoleRef{"RoleRef", {S(1, "apiGroup"), S(2, "kind"), S(3, "name")}};
const Message kRole{"Role", {M(1, "metadata", kObjectMeta), Rep(M(2, "rules", kPolicyRule))}};
const Message kClusterRole{"ClusterRole",
                           {M(1, "metadata", kObjectMeta), Rep(M(2, "rules", kPolicyRule)),
                            M(3, "aggregationRule", kAggregationRule)}};
const Message kRoleBinding{
    "RoleBinding",
    {M(1, "metadata", kObjectMeta), Rep(M(2, "subjects", kSubject)), M(3, "roleRef", kRoleRef)}};
const Message kClusterRoleBinding{
    "ClusterRoleBinding",
    {M(1, "metadata", kObjectMeta), Rep(M(2, "subjects", kSubject)), M(3, "roleRef", kRoleRef)}};

struct KindEntry {
  std::string_view api_version;
  std::string_view kind;
  const Message* message;
};

const KindEntry kKinds[] = {
    {"v1", "Secret", &kSecret},
    {"v1", "ConfigMap", &kConfigMap},
    {"v1", "Namespace", &kNamespace},
    {"v1", "ServiceAccount", &kServiceAccount},
    {"v1", "Service", &kService},
    {"v1", "Binding", &kBinding},
    {"v1", "Event", &kEvent},
    {"v1", "DeleteOptions", &kDeleteOptions},
    {"apps/v1", "Deployment", &kDeployment},
    {"authentication.k8s.io/v1", "TokenRequest", &kTokenRequest},
    {"authentication.k8s.io/v1", "TokenReview", &kTokenReview},
    {"authentication.k8s.io/v1", "SelfSubjectReview", &kSelfSubjectReview},
    {"authorization.k8s.io/v1", "SubjectAccessReview", &kSubjectAccessReview},
    {"authorization.k8s.io/v1", "LocalSubjectAccessReview", &kLocalSubjectAccessReview},
    {"authorization.k8s.io/v1", "SelfSubjectAccessReview", &kSelfSubjectAccessReview},
    {"authorization.k8s.io/v1", "SelfSubjectRulesReview", &kSelfSubjectRulesReview},
    {"policy/v1", "Eviction", &kEviction},
    {"rbac.authorization.k8s.io/v1", "Role", &kRole},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", &kClusterRole},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", &kRoleBinding},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &kClusterRoleBinding},
};

}  // namespace

const Message* FindKind(std::string_view api_version, std::string_view kind) {
  for (const KindEntry& e : kKinds)
    if (e.api_version == api_version && e.kind == kind) return e.message;
  return nullptr;
}

bool IsExtraValue(const Message* m) {
  return m == &kExtraValue;
}

}  // namespace berth::controlplane::api::proto
