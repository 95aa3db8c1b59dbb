/**
 * High-availability analysis of a spec, after the seed: etcd keeps working while more than half of
 * its members do, so what matters is how many masters each zone holds.
 */
import { render } from "../templates";
import { mermaidBlock, mermaidPicture, nodeShareText, outageText, specPicture } from "./ha-picture";
import { ClusterSpec, MasterSlot } from "./types";

/** What losing one zone does to the control plane. */
export interface ZoneOutage {
  readonly zone: string;
  /** Masters lost with the zone. */
  readonly mastersLost: number;
  /** True when the remaining masters still form a quorum. */
  readonly keepsQuorum: boolean;
}

/** The masters of one zone. */
export interface ZoneMasters {
  readonly zone: string;
  /** How many masters (etcd members) run in the zone. */
  readonly masters: number;
  /** Their etcd member names (`a`, `a-2`), in master order: what the picture of the cluster shows. */
  readonly members: readonly string[];
}

/** The HA facts of one cluster. */
export interface HaAnalysis {
  readonly masterCount: number;
  /** Masters per zone, in the order of the cluster's zones. */
  readonly mastersPerZone: readonly ZoneMasters[];
  /** Members etcd needs up: more than half. */
  readonly quorum: number;
  /** How many masters may fail at once with the API still up. */
  readonly toleratedFailures: number;
  /** For each zone of the cluster, whether losing it keeps quorum. */
  readonly zoneOutages: readonly ZoneOutage[];
  /** True when every single-zone outage keeps quorum. */
  readonly survivesAnyZoneOutage: boolean;
}

/**
 * Analyses the masters of a cluster over its zones (zones without masters are included). Every view of
 * a cluster's availability (the synthesis summary, the HA report, its picture and the pull request's
 * picture of a plan) is drawn from this one analysis, so that they cannot disagree.
 */
export function analyseHa(
  masters: readonly Pick<MasterSlot, "zone" | "member">[],
  zones: readonly string[],
): HaAnalysis {
  const masterCount = masters.length;
  const quorum = Math.floor(masterCount / 2) + 1;
  const allZones = [...zones, ...masters.map((m) => m.zone).filter((z) => !zones.includes(z))];
  const uniqueZones = [...new Set(allZones)];
  const mastersPerZone = uniqueZones.map((zone) => {
    const members = masters.filter((m) => m.zone === zone).map((m) => m.member);
    return { zone, masters: members.length, members };
  });
  const zoneOutages = mastersPerZone.map(({ zone, masters: lost }) => ({
    zone,
    mastersLost: lost,
    keepsQuorum: masterCount - lost >= quorum,
  }));
  return {
    masterCount,
    mastersPerZone,
    quorum,
    toleratedFailures: masterCount - quorum,
    zoneOutages,
    survivesAnyZoneOutage: zoneOutages.every((o) => o.keepsQuorum),
  };
}

/** One line per zone whose outage loses quorum although the cluster has several masters. */
export function quorumWarnings(ha: HaAnalysis): string[] {
  if (ha.masterCount < 2) {
    return [];
  }
  return ha.zoneOutages
    .filter((o) => !o.keepsQuorum)
    .map(
      (o) =>
        `${o.mastersLost} of ${ha.masterCount} masters run in ${o.zone}: losing ${o.zone} loses etcd quorum ` +
        `(${ha.masterCount - o.mastersLost} members left, ${ha.quorum} needed) and stops the Kubernetes API. ` +
        `This is the seed's best practice for a region with two zones; with three or more zones, ` +
        `spread the masters with --master-zones.`,
    );
}

/** What the report says of the etcd the masters run. */
export interface EtcdFacts {
  readonly etcdVersion: string;
  readonly backupIntervalMinutes: number;
}

/**
 * The Markdown report written to `<output>/stacks/NAME/ha-report.md`: the facts, the cluster's picture
 * (Mermaid, which GitHub renders) and the same per zone as a table, for reading as plain text, and
 * what the masters run.
 */
export function renderHaReport(spec: ClusterSpec, ha: HaAnalysis, warnings: readonly string[], etcd: EtcdFacts): string {
  const picture = specPicture(spec, ha);
  return render("ha-report.md.hbs", {
    name: spec.name,
    ha,
    kubernetesVersion: spec.kubernetesVersion,
    ...etcd,
    picture: mermaidBlock(mermaidPicture([{ title: `${spec.name} (${spec.region})`, picture }])),
    zones: picture.zones.map((column) => ({
      zone: column.zone,
      masters: column.masters.length > 0 ? column.masters.join(", ") : "-",
      members: column.members.length > 0 ? column.members.join(", ") : "-",
      nodes: column.nodes.length > 0 ? column.nodes.map(nodeShareText).join(", ") : "-",
      outage: outageText(ha, column.outage),
    })),
    zonesWithMasters: ha.mastersPerZone.filter((z) => z.masters > 0).length,
    lostZones: ha.zoneOutages.filter((o) => !o.keepsQuorum).map((o) => o.zone),
    warnings,
  });
}

/** The short summary printed at synthesis, one line. */
export function haSummaryLine(name: string, ha: HaAnalysis): string {
  if (ha.masterCount === 0) {
    return `${name}: no masters.`;
  }
  const layout = ha.mastersPerZone
    .filter((z) => z.masters > 0)
    .map((z) => `${z.zone}: ${z.masters}`)
    .join(", ");
  const lost = ha.zoneOutages.filter((o) => !o.keepsQuorum).map((o) => o.zone);
  const outages = ha.survivesAnyZoneOutage
    ? "survives the loss of any one zone"
    : `does not survive the loss of ${lost.join(" or ")}`;
  return (
    `${name}: ${ha.masterCount} ${ha.masterCount === 1 ? "master" : "masters"} (${layout}); ` +
    `etcd quorum ${ha.quorum} of ${ha.masterCount}, tolerates ${ha.toleratedFailures} master ` +
    `${ha.toleratedFailures === 1 ? "failure" : "failures"}; ${outages}.`
  );
}
