/**
 * The managed-Kubernetes samples and upstream rules live outside the repo in
 * ../shared/conformance (never copied in). Tests that read them skip, with one
 * line naming the missing folder, when it is absent. (Local guard: a common
 * skip helper may replace it.)
 */
import { existsSync, readFileSync } from 'fs';
import { join, resolve } from 'path';
import { parse as parseYaml } from 'yaml';

export const SHARED = resolve(__dirname, '../../../shared/conformance');
export const MANAGED = join(SHARED, 'managed');
export const UPSTREAM = join(SHARED, 'upstream-latest');

/** `describe`, or `describe.skip` after one line on stderr when `folder` is missing. */
export function describeWithShared(folder: string): jest.Describe {
  if (existsSync(folder)) return describe;
  process.stderr.write(`skipping: ${folder} is absent\n`);
  return describe.skip;
}

/** A sample's bytes as a Kafka payload; the GKE YAML samples become their JSON. */
export function samplePayload(rel: string): Buffer {
  const bytes = readFileSync(join(MANAGED, rel));
  return rel.endsWith('.yaml') ? Buffer.from(JSON.stringify(parseYaml(bytes.toString('utf8')))) : bytes;
}
