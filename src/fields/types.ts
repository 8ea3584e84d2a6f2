/**
 * The field catalog contract. `fields/` is a pure library: given a decoded
 * event object it extracts values; it never does I/O.
 *
 * Extraction semantics (Falco's): a field yields zero or more values. Zero
 * values means "absent", and every comparison on an absent field is false.
 * A non-list field yields at most one value; a list field may yield many.
 */
/** bigint for nanosecond timestamps (uint64 beyond 2^53). */
export type FieldValue = string | number | boolean | bigint;

export type FieldType = 'string' | 'uint64' | 'int64' | 'bool' | 'abstime' | 'reltime' | 'ipaddr';

export interface FieldArgSpec {
  /** true: the field cannot be used without `[arg]`. */
  required: boolean;
  /** index: `[0]` into a list; key: `[name]`; pointer: `[/json/pointer]` (RFC 6901). */
  kind: 'index' | 'key' | 'pointer';
}

/** What the extractor sees: the parsed JSON document of one event, plus its source. */
export interface EventView {
  /** The parsed event (an audit Event or an AdmissionReview), never mutated. */
  readonly obj: any;
  /** The event's source name, e.g. "k8s_audit". */
  readonly source: string;
  /** The event's original JSON text when known (for jevt.obj / ka.* raw output); may be undefined. */
  readonly raw?: string;
  /** 1-based sequence number of the event in its stream (evt.num), when known. */
  readonly num?: number;
  /** Host name reported in alerts (evt.hostname), when known. */
  readonly hostname?: string;
  /**
   * Optional addition: the event timestamp (ns since epoch) as assigned by the
   * source. When absent, evt.* / json.rawtime derive it from the document
   * (`stageTimestamp` for k8s_audit, `requestReceivedTimestamp` for k8s_admission).
   */
  readonly tsNs?: bigint;
  /** Optional addition: what the input envelope said about the event (kestrel.* fields). */
  readonly meta?: EventMeta;
}

/** Facts an input envelope carries beside the event itself. */
export interface EventMeta {
  /** Cluster name, when the record names it (GKE resource.labels.cluster_name, EKS log group, AKS resourceId). */
  readonly cluster?: string;
}

export interface FieldDef {
  name: string;
  type: FieldType;
  isList: boolean;
  arg?: FieldArgSpec;
  desc: string;
  /**
   * Return the values of this field for the event; [] when absent.
   * `arg` is the text between brackets, already validated by `checkArg`.
   * The returned array may be shared between calls: do not mutate it.
   */
  extract(ev: EventView, arg: string | undefined): FieldValue[];
  /** Optional extra check of an argument at compile time; returns an error message or undefined. */
  checkArg?(arg: string): string | undefined;
  /**
   * Optional addition: how one extracted value is printed in an output string
   * when it differs from the default (strings as-is, numbers in decimal,
   * booleans true/false); e.g. evt.rawtime.ns is zero-padded to 9 digits.
   */
  formatValue?(v: FieldValue): string;
  /**
   * Optional addition: the value Falco puts in a JSON alert's `output_fields`
   * when it is not the typed form of extract() (libsinsp `extract_as_js`); e.g.
   * evt.time is printed as text but exported as the integer timestamp in ns.
   * Returns null when absent. May return a bigint (serialize as a bare integer).
   */
  extractJson?(ev: EventView, arg: string | undefined): unknown;
}

export interface FieldCatalog {
  source: string;
  /** Look up a field by its exact name (without any [arg]). */
  get(name: string): FieldDef | undefined;
  all(): FieldDef[];
}
