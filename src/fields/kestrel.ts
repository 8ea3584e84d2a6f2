/**
 * `kestrel.*`: facts Kestrel knows about an event beyond the event document,
 * for every source, usable in rules and outputs like any field. Values come from
 * the input envelope (EventView.meta); absent values print `<NA>`.
 */
import type { EventView, FieldDef, FieldValue } from './types';

const NONE: FieldValue[] = Object.freeze([]) as unknown as FieldValue[];

export function kestrelFields(): FieldDef[] {
  return [
    {
      name: 'kestrel.cluster',
      type: 'string',
      isList: false,
      desc:
        'Cluster the event comes from, when its managed-Kubernetes record names it: GKE resource.labels.cluster_name, ' +
        'EKS CloudWatch log group /aws/eks/<cluster>/cluster, AKS resourceId .../managedClusters/<name> (upper-cased by Azure).',
      extract(ev: EventView) {
        const c = ev.meta?.cluster;
        return c === undefined || c === '' ? NONE : [c];
      },
    },
  ];
}
