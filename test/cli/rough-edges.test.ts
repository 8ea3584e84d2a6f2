/**
 * The CLI rough edges of issue 11, each against the real `kestrel` process:
 * help per command, -V, a closed stdout, exit codes, `check` on nothing to
 * evaluate, the stdin-terminal hint, `run FILE`, and the progress line (on a
 * real pseudo-terminal made by util-linux `script`, part of every Debian).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { COMMANDS } from '../../src/cli/help';
import { VERSION } from '../../src/version';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/kestrel.js');
const EXAMPLES = join(ROOT, 'examples/audit-events.jsonl');
const tmp = mkdtempSync(join(tmpdir(), 'kestrel-cli-edges-'));

function kestrel(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

/** Run a shell command line on a pseudo-terminal; returns everything the terminal showed. */
function onTerminal(commandLine: string, input = ''): { code: number | null; screen: string } {
  const r = spawnSync('script', ['-qfec', commandLine, '/dev/null'], { cwd: ROOT, input, timeout: 20_000 });
  return { code: r.status, screen: r.stdout.toString('utf8') };
}

describe('help and version', () => {
  test.each(Object.keys(COMMANDS))('`kestrel help %s` equals its --help and explains every flag', (name) => {
    const help = kestrel(['help', name]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: kestrel ${name} `));
    expect(kestrel([name, '--help'])).toEqual(help);
    for (const o of COMMANDS[name].options) {
      // Each flag starts a line of the Options section, with its explanation beside it.
      expect(help.stdout).toMatch(new RegExp(`^  ${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value.replace(/\|/g, '\\|')}` : ''}  +\\S`, 'm'));
    }
    expect(help.stdout).toContain('Exit codes: 0 ');
    expect(Math.max(...help.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
  });

  test('--max-event-bytes is explained', () => {
    expect(kestrel(['help', 'run']).stdout).toContain('      --max-event-bytes N        reject (and report) a document larger than N\n');
  });

  test('help serve / help consume print those commands\' own help, not the global one', () => {
    expect(kestrel(['help', 'serve']).stdout).toMatch(/^Usage: kestrel serve /);
    expect(kestrel(['help', 'consume']).stdout).toMatch(/^Usage: kestrel consume /);
    expect(kestrel(['help', 'nope'])).toEqual({ code: 2, stdout: '', stderr: "kestrel: unknown command 'nope' (try: run, check, test, rules, fields, start, serve, consume; kestrel help)\n" });
  });

  test('global help lists every command and the exit codes; -V and --version print the version', () => {
    const help = kestrel(['help']);
    expect(help.code).toBe(0);
    for (const c of ['run', 'check', 'rules', 'fields', 'serve', 'consume', 'help']) expect(help.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    expect(help.stdout).toContain('Exit codes: 0 ok; 1 the rules did not load');
    expect(kestrel(['-V'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(kestrel(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });
});

describe('a closed stdout', () => {
  test('`kestrel fields` whose reader went away exits 0 without a word (EPIPE)', async () => {
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, [BIN, 'fields'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      // Close our end before the child writes: its first write meets a closed pipe.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise((res) => child.on('close', res));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    }
  });

  test('`kestrel fields | head -2` in a shell: two lines, nothing on stderr', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" fields 2>"${tmp}/err" | head -2`], { cwd: ROOT });
    expect(r.status).toBe(0);
    const lines = r.stdout.toString().split('\n');
    expect([lines[0], lines[1].split(/\s+/)[0], lines.length]).toEqual(['Source k8s_audit', 'NAME', 3]);
    expect(readFileSync(join(tmp, 'err'), 'utf8')).toBe('');
  });
});

describe('exit codes', () => {
  test('an unreadable -i file is an input error: one line, exit 2', () => {
    const missing = join(tmp, 'missing.jsonl');
    expect(kestrel(['run', '-i', missing])).toEqual({ code: 2, stdout: '', stderr: `kestrel: cannot read ${missing}: no such file or directory (ENOENT)\n` });
    expect(kestrel(['run', '-i', tmp])).toEqual({ code: 2, stdout: '', stderr: `kestrel: cannot read ${tmp}: is a directory (EISDIR)\n` });
    if (process.getuid?.() !== 0) {
      const locked = join(tmp, 'locked.jsonl');
      writeFileSync(locked, '{}\n');
      chmodSync(locked, 0o000);
      expect(kestrel(['run', '-i', locked])).toEqual({ code: 2, stdout: '', stderr: `kestrel: cannot read ${locked}: permission denied (EACCES)\n` });
    }
  });

  test('`run FILE` suggests -i FILE; `check FILE` suggests -r FILE; both exit 2', () => {
    expect(kestrel(['run', 'events.jsonl'])).toEqual({ code: 2, stdout: '', stderr: 'kestrel: run does not take positional arguments; did you mean -i events.jsonl?\n' });
    expect(kestrel(['check', 'rules.yaml'])).toEqual({ code: 2, stdout: '', stderr: 'kestrel: check does not take positional arguments; did you mean -r rules.yaml?\n' });
  });

  test('rules that do not load: exit 1, with a summary line', () => {
    const file = join(tmp, 'broken.yaml');
    writeFileSync(file, '- macro: m\n  condition: ka.verb = get\n- rule: R\n  desc: d\n  condition: m and ka.nope = 1\n  output: o\n  priority: INFO\n  source: k8s_audit\n');
    expect(kestrel(['run', '-r', file], '')).toEqual({
      code: 1,
      stdout: '',
      stderr: `${file}:5:20: error LOAD_ERR_COMPILE_CONDITION: rule 'R': unknown field 'ka.nope' for source k8s_audit\nkestrel: 1 error(s), 0 warning(s) in rules\n`,
    });
  });
});

describe('check when nothing can be evaluated', () => {
  test('an empty directory is a usage error (exit 2)', () => {
    const dir = join(tmp, 'empty');
    mkdirSync(dir);
    writeFileSync(join(dir, 'README.md'), 'not rules\n');
    const expected = { code: 2, stdout: '', stderr: `kestrel: no rule files in ${dir} (a directory is read for its *.yaml and *.yml files)\n` };
    expect(kestrel(['check', '-r', dir])).toEqual(expected);
    expect(kestrel(['run', '-r', dir], '')).toEqual(expected);
  });

  test('a rule without source: is a syscall rule (as in Falco): skipped with LOAD_UNKNOWN_SOURCE, then exit 1', () => {
    const file = join(tmp, 'nosource.yaml');
    writeFileSync(file, '- rule: Shell\n  desc: d\n  condition: ka.verb = create\n  output: o\n  priority: WARNING\n');
    const stderr = [
      `${file}:1:1: warning LOAD_UNKNOWN_SOURCE: 1 rule(s) of source 'syscall' skipped: Kestrel evaluates k8s_audit and k8s_admission events only`,
      "kestrel: no rule to evaluate: none of the 1 rule(s) is of source k8s_audit or k8s_admission (a rule without 'source:' is a syscall rule, as in Falco)",
      '',
    ].join('\n');
    expect(kestrel(['check', '-r', file])).toEqual({ code: 1, stdout: '', stderr });
    expect(kestrel(['run', '-r', file], '')).toEqual({ code: 1, stdout: '', stderr });
  });

  test('a file without rules: exit 1', () => {
    const file = join(tmp, 'lists-only.yaml');
    writeFileSync(file, '- list: l\n  items: [a]\n');
    expect(kestrel(['check', '-r', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: `${file}:1:3: warning LOAD_UNUSED_LIST: list 'l' is not referred to by any rule, macro or list\nkestrel: no rule to evaluate: the rule files define no rule\n`,
    });
  });

  test('warnings with their codes, then "Ok, with N warning(s)"', () => {
    const file = join(tmp, 'warned.yaml');
    writeFileSync(file, [
      '- list: unused_list', '  items: [a]',
      '- list: used_list', '  items: [get]',
      '- macro: unused_macro', '  condition: ka.verb = list',
      '- rule: R', '  desc: d', '  condition: ka.verb in (used_list)', '  output: o', '  priority: INFO', '  source: k8s_audit', '  colour: red',
      '',
    ].join('\n'));
    expect(kestrel(['check', '-r', file])).toEqual({
      code: 0,
      stdout: 'Ok, with 3 warning(s): 1 rules (1 compiled for k8s_audit, 0 of other sources skipped)\n',
      stderr: [
        `${file}:13:3: warning LOAD_UNKNOWN_ITEM: unknown key 'colour' in rule (ignored)`,
        `${file}:5:3: warning LOAD_UNUSED_MACRO: macro 'unused_macro' is not referred to by any rule or macro`,
        `${file}:1:3: warning LOAD_UNUSED_LIST: list 'unused_list' is not referred to by any rule, macro or list`,
        '',
      ].join('\n'),
    });
    // run prints the same warnings, one line each, before it evaluates.
    const run = kestrel(['run', '-r', file], '');
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n').slice(0, 3)).toEqual(kestrel(['check', '-r', file]).stderr.split('\n').slice(0, 3));
  });
});

describe('run on a terminal', () => {
  const HINT = 'kestrel: reading audit events from stdin (end with Ctrl-D); pass -i FILE to read a file';

  test('stdin is a terminal: a one-line hint on stderr, then it reads on', () => {
    const lines = readFileSync(EXAMPLES, 'utf8').split('\n').slice(0, 2).join('\n') + '\n';
    const t = onTerminal(`"${process.execPath}" "${BIN}" run`, lines);
    expect(t.code).toBe(0);
    expect(t.screen).toContain(`${HINT}\r\n`);
    expect(t.screen).toContain('kestrel: 2 events read, 0 rejected, 1 alerts\r\n');
  });

  test('stdin is not a terminal: no hint', () => {
    expect(kestrel(['run'], '').stderr).toBe('kestrel: 0 events read, 0 rejected, 0 alerts\n');
  });

  test('a long job on a terminal shows a progress line, erased before the summary', async () => {
    const fifo = join(tmp, 'slow.fifo');
    spawnSync('mkfifo', [fifo]);
    const events = readFileSync(EXAMPLES, 'utf8').trimEnd().split('\n');
    const child = spawn('script', ['-qfec', `"${process.execPath}" "${BIN}" run -i "${fifo}"`, '/dev/null'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d));
    const { createWriteStream } = await import('node:fs');
    const writer = createWriteStream(fifo);
    writer.write(`${events.slice(0, 3).join('\n')}\nnot json\n`);
    // Keep the job open until the progress line shows (it appears after about a second).
    const shown = /\r\x1b\[Kkestrel: 3 events, \d+ events\/s, 1 rejected, 2 alerts/;
    for (let waited = 0; !shown.test(screen) && waited < 20_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    writer.end(`${events.slice(3).join('\n')}\n`);
    const code = await new Promise((res) => child.on('close', res));
    expect(code).toBe(0);
    expect(screen).toMatch(shown);
    // The summary starts on a clean line: the progress line was erased just before.
    expect(screen).toMatch(/\r\x1b\[K[^\r\n]*\r\n[\s\S]*kestrel: 7 events read, 1 rejected, 6 alerts\r\n/);
    // What the terminal finally shows: no progress text left, no alert glued to it.
    const visible = screen.split('\r\n').map((l) => l.split('\r\x1b[K').pop()!);
    expect(visible.filter((l) => l.includes('events/s'))).toEqual([]);
    expect(visible.filter((l) => /^\d\d:\d\d:\d\d\.\d{9}: /.test(l))).toHaveLength(6);
  }, 30_000);

  test('stderr that is not a terminal never gets a progress line', async () => {
    const child = spawn(process.execPath, [BIN, 'run'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const events = readFileSync(EXAMPLES, 'utf8');
    child.stdin.write(events);
    await new Promise((r) => setTimeout(r, 2600));
    child.stdin.end(events);
    expect(await new Promise((res) => child.on('close', res))).toBe(0);
    expect(stderr).not.toContain('\r');
    expect(stderr.split('\n')[0]).toBe('kestrel: 14 events read, 0 rejected, 12 alerts');
  }, 30_000);
});
