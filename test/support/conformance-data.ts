/**
 * Where the tests find Falco's conformance data (regression traces, upstream
 * rule files, real sample records). It lives outside the repository, in
 * ../shared/conformance, and is read in place. A clone without it still runs
 * `npm test`: the suites that need it are registered as skipped, with one line
 * saying which folder is missing and which variable points elsewhere. CI sets
 * KESTREL_REQUIRE_CONFORMANCE=1 so a missing folder fails instead of skipping.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const CONFORMANCE_DIR_VAR = 'KESTREL_CONFORMANCE_DIR';
export const REQUIRE_CONFORMANCE_VAR = 'KESTREL_REQUIRE_CONFORMANCE';

const REPO_ROOT = resolve(__dirname, '../..');

/** The conformance folder: $KESTREL_CONFORMANCE_DIR, else ../shared/conformance beside the repository. */
export function conformanceDir(): string {
  const fromEnv = process.env[CONFORMANCE_DIR_VAR];
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : resolve(REPO_ROOT, '../shared/conformance');
}

/** A path inside the conformance folder. */
export function conformancePath(...parts: string[]): string {
  return join(conformanceDir(), ...parts);
}

// Jest loads this module afresh for every test file, so this is per file.
let announced = false;

/**
 * True when the folder is there. When it is not: throws if CI demands the
 * data, otherwise prints the skip line (once per test file) and returns false.
 */
function conformancePresent(what: string, dir = conformanceDir()): boolean {
  if (existsSync(dir)) return true;
  if (process.env[REQUIRE_CONFORMANCE_VAR] === '1') {
    throw new Error(`'${what}' needs the conformance data (${REQUIRE_CONFORMANCE_VAR}=1) but ${dir} does not exist; set ${CONFORMANCE_DIR_VAR} to its folder`);
  }
  if (!announced) {
    announced = true;
    // Straight to stderr: one plain line, not jest's multi-line console block.
    process.stderr.write(`conformance data not found at ${dir} (set ${CONFORMANCE_DIR_VAR} to its folder): skipping '${what}'\n`);
  }
  return false;
}

/**
 * `describe` for a suite that reads conformance data. `fn` (and so every read
 * of the data) runs only when the folder exists; otherwise the suite shows up
 * in jest's summary as skipped.
 */
export function describeWithConformance(name: string, fn: () => void): void {
  if (conformancePresent(name)) {
    describe(name, fn);
  } else {
    describe.skip(name, () => {
      test.skip(`needs the conformance data (${CONFORMANCE_DIR_VAR})`, () => undefined);
    });
  }
}

/** `test` for a single case that reads conformance data, inside a suite that otherwise does not. */
export function testWithConformance(name: string, fn: jest.ProvidesCallback, timeout?: number): void {
  if (conformancePresent(name)) test(name, fn, timeout);
  else test.skip(name, () => undefined);
}

/**
 * `describe` when `folder` (a part of the conformance data) exists, else
 * `describe.skip` after the skip line (CI: an error). The suite's body still
 * runs when skipped, so it must read the data only inside tests and hooks.
 */
export function describeIfConformance(folder: string): jest.Describe {
  return conformancePresent(`the suites that read ${relative(conformanceDir(), folder) || '.'}`, folder) ? describe : describe.skip;
}
