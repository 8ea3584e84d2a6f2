/**
 * A file input (a path, or '-' for stdin): documents are split from the byte
 * stream (JSON lines or pretty-printed documents), sent to the rule workers in
 * runs, and delivered in order; a document that does not decode goes to the
 * dead letters with its line. The input is finished at the end of the file;
 * a service whose inputs are all finished drains and exits.
 */
import { createReadStream } from 'node:fs';
import type { Logger } from 'pino';
import type { FileInputConfig } from '../config/types';
import { DEFAULT_SPLITTER_OPTIONS, DocumentSplitter, type RawDocument } from '../decode/documents';
import type { Metrics } from '../observability/metrics';
import type { Evaluator } from './evaluate';
import type { OutputSet } from './outputs';

const RUN = 500;

export interface FileInputDeps {
  evaluator: Evaluator;
  outputs: OutputSet;
  maxEventBytes: number;
  logger: Logger;
  metrics: Metrics;
}

export class FileInput {
  private stopping = false;
  private reading = false;
  /** Resolves when the whole file was evaluated and delivered. */
  finished: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly cfg: FileInputConfig, private readonly deps: FileInputDeps) {
    this.log = deps.logger.child({ input: cfg.name });
  }

  get name(): string {
    return this.cfg.name;
  }

  notReady(): string[] {
    return [];
  }

  /** Open the file (errors here are the user's: a missing file) and start reading. */
  async start(): Promise<void> {
    const stream = this.cfg.path === '-' ? process.stdin : createReadStream(this.cfg.path);
    if (stream !== process.stdin) {
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
    }
    this.reading = true;
    this.finished = this.read(stream).finally(() => (this.reading = false));
  }

  get done(): boolean {
    return !this.reading;
  }

  private async read(stream: NodeJS.ReadableStream): Promise<void> {
    const splitter = new DocumentSplitter({ ...DEFAULT_SPLITTER_OPTIONS, maxBytes: this.deps.maxEventBytes });
    let run: RawDocument[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (this.stopping) break;
      run.push(...splitter.push(chunk));
      if (run.length >= RUN) {
        await this.evaluate(run);
        run = [];
      }
    }
    if (!this.stopping) run.push(...splitter.end());
    if (run.length > 0) await this.evaluate(run);
    this.log.info('end of input');
  }

  private async evaluate(docs: RawDocument[]): Promise<void> {
    const { evaluator, outputs, metrics } = this.deps;
    const name = this.cfg.name;
    metrics.received.inc({ input: name }, docs.length);
    const good = docs.filter((d): d is Extract<RawDocument, { ok: true }> => d.ok);
    const letters = docs.flatMap((d) => (d.ok ? [] : [{ value: null, reason: d.reason, origin: { input: name, line: d.line } }]));
    for (const _ of letters) metrics.rejected.inc({ input: name });
    const out = await evaluator.run(evaluator.pool.nextWorker(), good.map((d) => Buffer.from(d.text)), {
      input: name, format: this.cfg.format, source: this.cfg.source, aksCategories: this.cfg.aksCategories, fields: Object.keys(this.cfg.fields).length ? this.cfg.fields : undefined,
      origin: (i) => ({ input: name, line: good[i].line }),
    });
    await outputs.deliver({ alerts: out.alerts, letters: [...letters, ...out.letters] });
  }

  stop(): void {
    this.stopping = true;
  }
}
