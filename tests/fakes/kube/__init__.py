"""A fake Kubernetes API server for the `kubernetes` Python client and its DynamicClient.

Standalone: ``python tests/fakes/kube --port P --token T`` (``--port 0 --port-file F`` picks a
free port and writes it to F). Plain HTTP on 127.0.0.1; a kubeconfig with ``server: http://127.0.0.1:P`` and
``token: T`` reaches it.

What it does like the real server: discovery, namespaces, Secrets, ConfigMaps, ServiceAccounts, Deployments,
StatefulSets, DaemonSets, RBAC objects and External Secrets Operator custom resources; create / get / list
(label and field selectors, limit/continue) / watch / PUT / PATCH (JSON patch, merge patch, strategic merge
patch) / delete / deletecollection; uid, creationTimestamp, a global resourceVersion, generation; 409 on
AlreadyExists and on a stale resourceVersion; 422 on immutable fields; Status error bodies; a simulated rollout
controller for workloads and a TokenReview endpoint.

Where it differs from a real API server the code says ``DIFF:``. The big ones:
- DIFF: RBAC is not enforced. One bearer token (``--token``) is cluster-admin; every other token gets 401
  (except service-account JWTs on the TokenReview endpoint, see there).
- DIFF: no schema validation beyond the few checks written below; unknown fields are kept, not pruned.
- DIFF: no admission, no garbage collection (ownerReferences are ignored), no pods or ReplicaSets.

A workload rollout converges ``--rollout-delay`` seconds (default 0.5) after a change. The annotation
``fake.agentarea.io/stuck: "true"`` (on the object or its pod template) keeps it from converging.
The annotation ``fake.agentarea.io/concurrent-writes: "N"`` stands for another writer (see concurrent_writer).
"""
