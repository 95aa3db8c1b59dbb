/**
 * Cordon and drain, as `kubectl drain --ignore-daemonsets --delete-emptydir-data` (kops's settings for
 * a rolling update): every pod is evicted through the Eviction API, so PodDisruptionBudgets are
 * honoured; a refused eviction is retried until the drain's deadline, then the drain fails naming the
 * pods that stayed and why.
 */
import { Io } from "./io";
import { KubeApi, KubePod } from "./kube-api";
import { Timing, WaitTimeoutError, waitFor } from "./wait";

/** Pods a drain leaves alone: mirror pods of static pods (the control plane), DaemonSet pods, finished pods. */
export function evictable(pod: KubePod): boolean {
  if (pod.metadata.annotations?.["kubernetes.io/config.mirror"] !== undefined) {
    return false;
  }
  if ((pod.metadata.ownerReferences ?? []).some((o) => o.kind === "DaemonSet")) {
    return false;
  }
  return pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed";
}

/** A drain that did not finish in time: the pods still there and why their eviction was refused. */
export class DrainTimeoutError extends Error {
  constructor(
    readonly node: string,
    readonly remaining: readonly string[],
    readonly cause: WaitTimeoutError,
  ) {
    super(`draining ${node}: ${cause.message}`);
    this.name = "DrainTimeoutError";
  }
}

/**
 * Cordons `node` and evicts its pods, within `timeoutMs`. Throws {@link DrainTimeoutError} when pods
 * remain (the node stays cordoned: the caller decides what to tell the user).
 */
export async function drainNode(kube: KubeApi, node: string, timeoutMs: number, io: Io, timing: Timing): Promise<void> {
  await kube.cordon(node);
  io.err(`  cordoned ${node}`);
  const pods = (await kube.listPods({ fieldSelector: `spec.nodeName=${node}` })).filter(evictable);
  // namespace/name -> uid of the pod being evicted, and the last refusal of each.
  const pending = new Map(pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p.metadata.uid]));
  const refused = new Map<string, string>();
  if (pending.size === 0) {
    io.err(`  ${node} has no pods to evict`);
    return;
  }
  io.err(`  evicting ${pending.size} pod${pending.size === 1 ? "" : "s"} from ${node}`);
  try {
    await waitFor(
      `the drain of ${node}`,
      async () => {
        for (const [key, uid] of [...pending]) {
          const [namespace, name] = key.split("/");
          const current = await kube.getPod(namespace, name);
          if (!current || (uid && current.metadata.uid !== uid)) {
            pending.delete(key); // gone (or a new pod of the same name elsewhere)
            refused.delete(key);
            continue;
          }
          if (current.metadata.deletionTimestamp) {
            continue; // evicted, terminating
          }
          const result = await kube.evict(namespace, name);
          if (result.outcome === "refused") {
            refused.set(key, result.message);
          } else {
            refused.delete(key);
            if (result.outcome === "gone") {
              pending.delete(key);
            }
          }
        }
        if (pending.size === 0) {
          return { done: true, value: undefined };
        }
        const why = [...pending.keys()].map((k) => (refused.has(k) ? `${k} (eviction refused: ${refused.get(k)})` : `${k} (terminating)`));
        return { done: false, status: `${pending.size} pod${pending.size === 1 ? "" : "s"} left: ${why.join("; ")}` };
      },
      timeoutMs,
      io,
      timing,
    );
  } catch (e) {
    if (e instanceof WaitTimeoutError) {
      throw new DrainTimeoutError(node, [...pending.keys()], e);
    }
    throw e;
  }
  io.err(`  drained ${node}`);
}
