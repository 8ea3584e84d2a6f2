/**
 * Decides whether a jest run needs a Kafka broker, so that a run selecting only
 * unit tests does not pay for one.
 *
 * Jest (29) calls globalSetup with (globalConfig, projectConfig) but not the list
 * of selected test files, so the selection is re-derived here from the same
 * inputs jest uses. Kafka tests are the test files under test/integration/, plus
 * any other test file that names KAFKA_BROKERS or the shared kafka-helpers; they
 * are filtered by testPathIgnorePatterns and the CLI path pattern. When in doubt (changed-file
 * modes, unknown config shapes) it answers yes: a needless broker costs seconds,
 * a missing one fails the integration tests.
 *
 * KESTREL_TEST_KAFKA=always forces a broker.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The fields of jest's GlobalConfig read here (29.x; `testPathPatterns` is 30.x). */
export interface GlobalConfigLike {
  rootDir?: string;
  testPathPattern?: string;
  testPathPatterns?: { patterns?: string[] } | string[];
  runTestsByPath?: boolean;
  nonFlagArgs?: string[];
  findRelatedTests?: boolean;
  onlyChanged?: boolean;
  changedSince?: string;
  lastCommit?: boolean;
}

/** The fields of jest's ProjectConfig read here. */
export interface ProjectConfigLike {
  rootDir: string;
  roots?: string[];
  testPathIgnorePatterns?: string[];
}

const TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?$/;
const USES_KAFKA = /\bKAFKA_BROKERS\b|kafka-helpers/;

function listFiles(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : listFiles(full);
    return e.isFile() ? [full] : [];
  });
}

function cliPatterns(globalConfig: GlobalConfigLike): string[] {
  const p = globalConfig.testPathPatterns;
  if (Array.isArray(p)) return p;
  if (p && Array.isArray(p.patterns)) return p.patterns;
  return globalConfig.testPathPattern ? [globalConfig.testPathPattern] : [];
}

export function integrationTestsSelected(globalConfig: GlobalConfigLike, projectConfig: ProjectConfigLike): boolean {
  if (process.env.KESTREL_TEST_KAFKA === 'always') return true;
  // Selection by changed files needs git and the dependency graph: assume yes.
  if (globalConfig.findRelatedTests || globalConfig.onlyChanged || globalConfig.changedSince || globalConfig.lastCommit) {
    return true;
  }

  const rootDir = projectConfig.rootDir;
  const integrationDir = path.join(rootDir, 'test', 'integration') + path.sep;
  const ignore = (projectConfig.testPathIgnorePatterns ?? []).map((p) => new RegExp(p.replace(/<rootDir>/g, rootDir)));
  const roots = projectConfig.roots?.length ? projectConfig.roots : [rootDir];
  const integration = [...new Set(roots.flatMap((r) => listFiles(r)))].filter((f) => {
    if (!TEST_FILE.test(f) || ignore.some((re) => re.test(f))) return false;
    if (f.startsWith(integrationDir)) return true;
    try {
      return USES_KAFKA.test(fs.readFileSync(f, 'utf8'));
    } catch {
      return false;
    }
  });
  if (integration.length === 0) return false;

  if (globalConfig.runTestsByPath) {
    const wanted = (globalConfig.nonFlagArgs ?? []).map((a) => path.resolve(a));
    if (wanted.length === 0) return true;
    return integration.some((f) => wanted.includes(f));
  }

  const patterns = cliPatterns(globalConfig);
  if (patterns.length === 0) return true; // no path filter: every test runs
  return patterns.some((pattern) => {
    let re: RegExp;
    try {
      re = new RegExp(pattern, 'i'); // jest matches path patterns case-insensitively
    } catch {
      return true;
    }
    return integration.some((f) => re.test(f));
  });
}
