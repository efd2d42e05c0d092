-- Kubernetes runbook templates every tenant starts with. Teams copy and adapt them; a template is a
-- normal runbook row with is_template = true. Dollar quoting keeps the markdown verbatim.

insert into runbooks (title, category, tags, is_template, created_by, content) values
('Pod in CrashLoopBackOff', 'kubernetes', array['kubernetes', 'pod', 'crashloop'], true, 'nightowl', $md$
# Pod in CrashLoopBackOff

The container starts, exits, and the kubelet restarts it with growing back-off (10 s up to 5 min).

## 1. See why it exits
```sh
kubectl -n <ns> get pod <pod> -o wide
kubectl -n <ns> describe pod <pod>            # Last State: reason, exit code, events
kubectl -n <ns> logs <pod> -c <container> --previous --tail=200
```
Exit code hints: `1` application error, `137` killed (OOM or liveness), `139` segfault,
`143` SIGTERM not handled, `126/127` bad command or missing binary.

## 2. Common causes and fixes
| symptom | check | fix |
|---|---|---|
| config error in logs | `kubectl -n <ns> get cm,secret` referenced by the pod | fix the ConfigMap/Secret, then `kubectl -n <ns> rollout restart deploy/<name>` |
| liveness probe kills it | `describe` shows `Liveness probe failed` | raise `initialDelaySeconds` / `failureThreshold`, or use a `startupProbe` |
| dependency unreachable | logs show connection refused/timeouts | check the dependency's Service and Endpoints: `kubectl -n <ns> get endpoints <svc>` |
| exit 137, `OOMKilled` | `describe` Last State reason | see the OOMKilled runbook |
| bad image/command | exit 126/127 | check `command`/`args` and the image tag |

## 3. Roll back if a deploy caused it
```sh
kubectl -n <ns> rollout history deploy/<name>
kubectl -n <ns> rollout undo deploy/<name>
kubectl -n <ns> rollout status deploy/<name>
```

## 4. Verify
`kubectl -n <ns> get pod -l app=<name> -w` shows `Running` with a stable `RESTARTS` count for 5+ minutes.
$md$),
('Container OOMKilled', 'kubernetes', array['kubernetes', 'memory', 'oom'], true, 'nightowl', $md$
# Container OOMKilled

The container exceeded its memory limit and the kernel killed it (exit code 137, reason `OOMKilled`).

## 1. Confirm
```sh
kubectl -n <ns> describe pod <pod> | grep -A5 'Last State'
kubectl -n <ns> get pod <pod> -o jsonpath='{.spec.containers[*].resources}'
kubectl top pod -n <ns> <pod> --containers      # needs metrics-server
```
Node-level OOM (not the container limit) shows in `kubectl describe node <node>` events
(`SystemOOM`) and `dmesg | grep -i oom` on the node.

## 2. Decide: leak or undersized?
- Memory grows steadily until the kill → likely a leak: capture a heap profile before raising limits.
- Memory jumps with load or batch size → undersized: raise the limit.
- JVM: set `-XX:MaxRAMPercentage=75` so the heap fits the container limit.

## 3. Fix
```sh
kubectl -n <ns> set resources deploy/<name> -c <container> --limits=memory=1Gi --requests=memory=768Mi
kubectl -n <ns> rollout status deploy/<name>
```
Keep requests close to real usage so the scheduler does not overcommit the node.

## 4. Verify
No new `OOMKilled` in `kubectl -n <ns> get events --field-selector reason=OOMKilling` and memory
stays below ~80 % of the limit under normal load.
$md$),
('TLS certificate expiring or expired', 'security', array['kubernetes', 'tls', 'certificate', 'cert-manager'], true, 'nightowl', $md$
# TLS certificate expiring or expired

Clients fail with `x509: certificate has expired` or browsers warn; the alert fired days before expiry.

## 1. Which certificate, and when
```sh
echo | openssl s_client -connect <host>:443 -servername <host> 2>/dev/null | openssl x509 -noout -subject -issuer -dates
kubectl get certificate -A                        # cert-manager: READY and expiry
kubectl -n <ns> describe certificate <name>       # events, last renewal attempt
```

## 2. cert-manager did not renew
```sh
kubectl -n <ns> get certificaterequest,order,challenge
kubectl -n <ns> describe challenge <name>         # HTTP-01/DNS-01 failure reason
kubectl -n cert-manager logs deploy/cert-manager --tail=200
```
Typical causes: HTTP-01 path blocked by ingress auth or redirects, DNS-01 credentials expired,
ACME rate limits, the Issuer/ClusterIssuer not ready (`kubectl get clusterissuer`).

Force a renewal once the cause is fixed:
```sh
cmctl renew -n <ns> <certificate>     # or: kubectl -n <ns> delete secret <tls-secret>
```

## 3. Manually managed certificate
Create the new secret and roll the consumers:
```sh
kubectl -n <ns> create secret tls <name> --cert=fullchain.pem --key=privkey.pem --dry-run=client -o yaml | kubectl apply -f -
kubectl -n <ns> rollout restart deploy/<ingress-controller-or-app>
```

## 4. Verify
Re-run the `openssl s_client` check: new `notAfter`, full chain served (intermediate included).
$md$),
('etcd unhealthy or slow', 'kubernetes', array['kubernetes', 'etcd', 'control-plane'], true, 'nightowl', $md$
# etcd unhealthy or slow

Symptoms: API server errors or latency, `etcdserver: request timed out`, `leader changed`, alerts on
`etcd_server_has_leader`, fsync or commit latency.

## 1. Cluster health
```sh
export ETCDCTL_API=3 ETCDCTL_CACERT=/etc/kubernetes/pki/etcd/ca.crt \
  ETCDCTL_CERT=/etc/kubernetes/pki/etcd/server.crt ETCDCTL_KEY=/etc/kubernetes/pki/etcd/server.key
etcdctl --endpoints=https://127.0.0.1:2379 endpoint health --cluster
etcdctl --endpoints=https://127.0.0.1:2379 endpoint status --cluster -w table   # leader, DB size, raft index
etcdctl --endpoints=https://127.0.0.1:2379 alarm list
```

## 2. Causes
- **Slow disk**: `etcd_disk_wal_fsync_duration_seconds` p99 > 10 ms. Move etcd to dedicated SSD/NVMe;
  check noisy neighbours with `iostat -x 1`.
- **DB size / NOSPACE alarm**: default quota 2 GiB. Compact and defragment one member at a time:
  ```sh
  rev=$(etcdctl endpoint status -w json | grep -o '"revision":[0-9]*' | head -1 | cut -d: -f2)
  etcdctl compact "$rev"
  etcdctl --endpoints=https://<member>:2379 defrag
  etcdctl alarm disarm
  ```
- **Lost quorum** (fewer than (n/2)+1 members): restore from snapshot; do not add members while
  quorum is lost.
- **Clock skew / network**: check `chronyc tracking` and latency between members.

## 3. Always before risky work
```sh
etcdctl snapshot save /var/backups/etcd-$(date +%F-%H%M).db
```

## 4. Verify
`endpoint health` all true, one leader, fsync p99 back under 10 ms, API server error rate normal.
$md$),
('Node NotReady', 'kubernetes', array['kubernetes', 'node', 'kubelet'], true, 'nightowl', $md$
# Node NotReady

The node stopped reporting to the API server; after ~5 minutes its pods are evicted (or stuck
`Terminating` if the node is unreachable).

## 1. What does the API server know
```sh
kubectl get nodes -o wide
kubectl describe node <node>      # Conditions: Ready, MemoryPressure, DiskPressure, PIDPressure; events
kubectl get pods -A -o wide --field-selector spec.nodeName=<node>
```

## 2. On the node (ssh or the cloud console)
```sh
systemctl status kubelet containerd
journalctl -u kubelet --since '30 min ago' | tail -100
df -h /var/lib/kubelet /var/lib/containerd     # DiskPressure
free -m; dmesg -T | tail -50                   # memory, kernel errors, NIC resets
```
Common causes: kubelet or container runtime crashed, disk full, expired kubelet client certificate
(`x509` in the kubelet log), network or CNI failure, the VM itself is gone.

## 3. Fix
- Restart the runtime and kubelet: `systemctl restart containerd kubelet`.
- Disk full: prune images `crictl rmi --prune`, clear old logs.
- Unrecoverable: drain and replace the node:
  ```sh
  kubectl cordon <node>
  kubectl drain <node> --ignore-daemonsets --delete-emptydir-data --timeout=5m
  kubectl delete node <node>     # after the VM is replaced or removed
  ```

## 4. Verify
`kubectl get node <node>` is `Ready`, and workloads are rescheduled (`kubectl get pods -A | grep -v Running`).
$md$),
('PersistentVolumeClaim stuck Pending', 'kubernetes', array['kubernetes', 'storage', 'pvc'], true, 'nightowl', $md$
# PersistentVolumeClaim stuck Pending

Pods using the claim stay `Pending` / `ContainerCreating` with `pod has unbound immediate PersistentVolumeClaims`.

## 1. Why is it not bound
```sh
kubectl -n <ns> describe pvc <claim>          # events from the provisioner
kubectl get storageclass                      # does the requested class exist? which is default?
kubectl get pv | grep -v Bound                # for static provisioning: a matching PV?
```

## 2. Causes and fixes
| event or state | cause | fix |
|---|---|---|
| `storageclass.storage.k8s.io "<x>" not found` | wrong or missing class | fix `storageClassName`, or create the class |
| `waiting for first consumer` | `volumeBindingMode: WaitForFirstConsumer` | normal until a pod uses it; check that pod's scheduling events |
| provisioner errors (quota, permissions) | cloud quota or CSI driver credentials | `kubectl -n kube-system logs deploy/<csi-controller> -c csi-provisioner` |
| no PV matches (static) | size, access mode or selector mismatch | create a matching PV or fix the claim |
| zone conflict | volume in another zone than the node | use `WaitForFirstConsumer` or topology-aware classes |

Check the CSI driver when the provisioner is silent:
```sh
kubectl get csidrivers
kubectl -n kube-system get pods | grep -i csi
kubectl get events -A --field-selector involvedObject.kind=PersistentVolumeClaim --sort-by=.lastTimestamp | tail -20
```

Claims are immutable in most fields: delete and re-create the claim (after confirming no data is
at stake) when the class or access mode is wrong.

## 3. Verify
`kubectl -n <ns> get pvc <claim>` shows `Bound`, and the pod starts.
$md$),
('DNS resolution failing in the cluster', 'kubernetes', array['kubernetes', 'dns', 'coredns'], true, 'nightowl', $md$
# DNS resolution failing in the cluster

Symptoms: `no such host`, `i/o timeout` on lookups, intermittent 5 s delays (conntrack races).

## 1. Reproduce from inside the cluster
```sh
kubectl run dnsutils --rm -it --restart=Never --image=registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3 -- sh
nslookup kubernetes.default.svc.cluster.local
nslookup <service>.<ns>.svc.cluster.local
nslookup example.com                  # upstream resolution
cat /etc/resolv.conf                  # nameserver = kube-dns ClusterIP, search domains, ndots
```

## 2. Is CoreDNS healthy
```sh
kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide
kubectl -n kube-system logs -l k8s-app=kube-dns --tail=100
kubectl -n kube-system get endpoints kube-dns
kubectl -n kube-system get configmap coredns -o yaml
```

## 3. Causes and fixes
- CoreDNS pods crashlooping or OOMKilled → see those runbooks; scale: `kubectl -n kube-system scale deploy/coredns --replicas=3`.
- Upstream resolvers down → check `forward` in the Corefile and the node's `/etc/resolv.conf`.
- Overloaded by `ndots:5` search expansion → use FQDNs with a trailing dot or set `dnsConfig.options ndots: 2`.
- NetworkPolicy blocks UDP/TCP 53 to kube-system → allow egress to kube-dns.
- 5 s timeouts on lookups → add `options single-request-reopen` or deploy NodeLocal DNSCache.

## 4. Verify
Lookups from the debug pod succeed in < 50 ms, CoreDNS error logs are quiet.
$md$);
