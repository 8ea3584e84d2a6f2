/**
 * The managed-Kubernetes samples and upstream rules live outside the repo in
 * the conformance data (../shared/conformance or $KESTREL_CONFORMANCE_DIR, never
 * copied in). Tests that read them skip, with one line naming the missing
 * folder, when it is absent (test/support/conformance-data.ts).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse as parseYaml } from 'yaml';
import { conformanceDir, describeIfConformance } from '../support/conformance-data';

export const SHARED = conformanceDir();
export const MANAGED = join(SHARED, 'managed');
export const UPSTREAM = join(SHARED, 'upstream-latest');

/** `describe`, or `describe.skip` after one line on stderr when `folder` is missing. */
export const describeWithShared = describeIfConformance;

/** A sample's bytes as a Kafka payload; the GKE YAML samples become their JSON. */
export function samplePayload(rel: string): Buffer {
  const bytes = readFileSync(join(MANAGED, rel));
  return rel.endsWith('.yaml') ? Buffer.from(JSON.stringify(parseYaml(bytes.toString('utf8')))) : bytes;
}
