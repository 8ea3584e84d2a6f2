export const VERSION = '0.1.0';

/**
 * The Falco rules engine version whose rule-file features Kestrel implements.
 * A file's `required_engine_version: 15` means 0.15.0 in Falco's scheme.
 */
export const ENGINE_VERSION = '0.50.0';

/** Plugin APIs built into Kestrel and the plugin versions whose fields they match. */
export const PLUGIN_VERSIONS: Record<string, string> = {
  k8saudit: '0.18.0',
  'k8saudit-aks': '0.6.0',
  'k8saudit-eks': '0.12.0',
  'k8saudit-gke': '0.9.0',
  'k8saudit-ovh': '0.6.0',
  json: '0.7.3',
  k8sadmission: '0.1.0',
};

/** `15` -> `0.15.0`; `0.40.0` stays. Undefined when not a version. */
export function normalizeEngineVersion(v: string): string | undefined {
  const t = v.trim();
  if (/^\d+$/.test(t)) return `0.${t}.0`;
  if (/^\d+\.\d+\.\d+$/.test(t)) return t;
  return undefined;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  }
  return 0;
}
