/**
 * MITRE ATT&CK from Falco rule tags: `mitre_<tactic>` tags name tactics and
 * `T<4 digits>[.<3 digits>]` tags name techniques (and sub-techniques), as in
 * Falco's and Kestrel's rules. A technique is paired with each tagged tactic it
 * belongs to in ATT&CK (table below); a tagged tactic no tagged technique
 * belongs to, and a technique none of whose tactics is tagged (or that is not
 * in the table), stand alone. Nothing is made up: an unknown technique keeps its
 * id without a name.
 */

export interface Tactic {
  uid: string;
  name: string;
}

export interface Technique {
  uid: string;
  name?: string;
}

export interface Attack {
  tactic?: Tactic;
  technique?: Technique;
  sub_technique?: Technique;
}

/** Falco's tactic tags (`mitre_` + the tactic's name in snake case). */
const TACTICS: Record<string, Tactic> = {
  mitre_reconnaissance: { uid: 'TA0043', name: 'Reconnaissance' },
  mitre_resource_development: { uid: 'TA0042', name: 'Resource Development' },
  mitre_initial_access: { uid: 'TA0001', name: 'Initial Access' },
  mitre_execution: { uid: 'TA0002', name: 'Execution' },
  mitre_persistence: { uid: 'TA0003', name: 'Persistence' },
  mitre_privilege_escalation: { uid: 'TA0004', name: 'Privilege Escalation' },
  mitre_defense_evasion: { uid: 'TA0005', name: 'Defense Evasion' },
  mitre_credential_access: { uid: 'TA0006', name: 'Credential Access' },
  mitre_discovery: { uid: 'TA0007', name: 'Discovery' },
  mitre_lateral_movement: { uid: 'TA0008', name: 'Lateral Movement' },
  mitre_collection: { uid: 'TA0009', name: 'Collection' },
  mitre_command_and_control: { uid: 'TA0011', name: 'Command and Control' },
  mitre_exfiltration: { uid: 'TA0010', name: 'Exfiltration' },
  mitre_impact: { uid: 'TA0040', name: 'Impact' },
};

/** Techniques the Kubernetes rules use (Kestrel's and Falco's), with the tactics they belong to. */
const TECHNIQUES: Record<string, { name: string; tactics: string[] }> = {
  T1078: { name: 'Valid Accounts', tactics: ['TA0001', 'TA0003', 'TA0004', 'TA0005'] },
  T1090: { name: 'Proxy', tactics: ['TA0011'] },
  T1098: { name: 'Account Manipulation', tactics: ['TA0003', 'TA0004'] },
  T1133: { name: 'External Remote Services', tactics: ['TA0001', 'TA0003'] },
  T1136: { name: 'Create Account', tactics: ['TA0003'] },
  T1485: { name: 'Data Destruction', tactics: ['TA0040'] },
  T1489: { name: 'Service Stop', tactics: ['TA0040'] },
  T1528: { name: 'Steal Application Access Token', tactics: ['TA0006'] },
  T1531: { name: 'Account Access Removal', tactics: ['TA0040'] },
  T1546: { name: 'Event Triggered Execution', tactics: ['TA0003', 'TA0004'] },
  T1552: { name: 'Unsecured Credentials', tactics: ['TA0006'] },
  T1557: { name: 'Adversary-in-the-Middle', tactics: ['TA0006', 'TA0009'] },
  T1564: { name: 'Hide Artifacts', tactics: ['TA0005'] },
  T1565: { name: 'Data Manipulation', tactics: ['TA0040'] },
  T1578: { name: 'Modify Cloud Compute Infrastructure', tactics: ['TA0005'] },
  T1609: { name: 'Container Administration Command', tactics: ['TA0002'] },
  T1610: { name: 'Deploy Container', tactics: ['TA0002', 'TA0005'] },
  T1611: { name: 'Escape to Host', tactics: ['TA0004'] },
  T1613: { name: 'Container and Resource Discovery', tactics: ['TA0007'] },
  T1649: { name: 'Steal or Forge Authentication Certificates', tactics: ['TA0006'] },
};

const TECHNIQUE_TAG = /^(T\d{4})(?:\.(\d{3}))?$/;

export function attacksFromTags(tags: readonly string[]): Attack[] {
  const tactics: Tactic[] = [];
  const techniques: { technique: Technique; sub?: Technique; tactics: string[] }[] = [];
  for (const tag of tags) {
    const tactic = TACTICS[tag.toLowerCase()];
    if (tactic) {
      if (!tactics.includes(tactic)) tactics.push(tactic);
      continue;
    }
    const m = TECHNIQUE_TAG.exec(tag);
    if (!m) continue;
    const known = TECHNIQUES[m[1]];
    techniques.push({
      technique: known ? { uid: m[1], name: known.name } : { uid: m[1] },
      sub: m[2] !== undefined ? { uid: tag } : undefined,
      tactics: known?.tactics ?? [],
    });
  }
  const attacks: Attack[] = [];
  const paired = new Set<Tactic>();
  for (const t of techniques) {
    const mine = tactics.filter((x) => t.tactics.includes(x.uid));
    if (mine.length === 0) attacks.push(withSub({ technique: t.technique }, t.sub));
    for (const tactic of mine) {
      paired.add(tactic);
      attacks.push(withSub({ tactic, technique: t.technique }, t.sub));
    }
  }
  for (const tactic of tactics) if (!paired.has(tactic)) attacks.push({ tactic });
  return attacks;
}

function withSub(a: Attack, sub: Technique | undefined): Attack {
  return sub ? { ...a, sub_technique: sub } : a;
}

/** True for tags that name a tactic or technique (kept out of OCSF finding types). */
export function isMitreTag(tag: string): boolean {
  return TACTICS[tag.toLowerCase()] !== undefined || TECHNIQUE_TAG.test(tag);
}
