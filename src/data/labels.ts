// Label sets: the classes of a tag or classify task -> ids 0..n-1 (the classifier's outputs).
// No unknown label: a label not seen when the set was built is an error naming where it came
// from. Labels are kept in code-unit order, so the ids do not depend on the data's order.
import { QkvError } from '../core/errors.js';
import { DataError } from './errors.js';
import type { Origin } from './types.js';

export interface LabelSetJSON {
  kind: 'labels';
  labels: string[];
}

export class LabelSet {
  private readonly ids = new Map<string, number>();

  /** A set whose id i is `labels[i]`. Use LabelSet.build to collect them from data. */
  constructor(readonly labels: readonly string[]) {
    labels.forEach((l, i) => {
      if (typeof l !== 'string') throw new QkvError(`LabelSet: entry ${i} is not a string`);
      if (this.ids.has(l)) throw new QkvError(`LabelSet: label ${JSON.stringify(l)} appears twice`);
      this.ids.set(l, i);
    });
  }

  /** The distinct labels, sorted. */
  static build(labels: Iterable<string>): LabelSet {
    return new LabelSet([...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  get size(): number {
    return this.labels.length;
  }

  has(label: string): boolean {
    return this.ids.has(label);
  }

  /**
   * The id of a label. An unknown label throws DataError "file:line: unknown label "X" (known:
   * A, B, C)" naming the example's origin (or "<unknown origin>" without one).
   */
  id(label: string, origin?: Origin): number {
    const id = this.ids.get(label);
    if (id !== undefined) return id;
    const known = this.labels.length <= 12 ? this.labels.join(', ') : `${this.labels.slice(0, 12).join(', ')}, ... (${this.labels.length} in all)`;
    const detail = `unknown label ${JSON.stringify(label)} (known: ${known})`;
    throw origin ? new DataError(origin.file, origin.line, detail) : new DataError('<unknown origin>', null, detail);
  }

  encode(labels: readonly string[], origin?: Origin): Int32Array {
    return Int32Array.from(labels, (l) => this.id(l, origin));
  }

  label(id: number): string {
    const l = this.labels[id];
    if (l === undefined) throw new QkvError(`LabelSet: id ${id} is out of range for ${this.size} labels`);
    return l;
  }

  decode(ids: ArrayLike<number>): string[] {
    return Array.from({ length: ids.length }, (_, i) => this.label(ids[i]!));
  }

  toJSON(): LabelSetJSON {
    return { kind: 'labels', labels: [...this.labels] };
  }

  static fromJSON(json: unknown): LabelSet {
    const j = json as Partial<LabelSetJSON> | null;
    if (j === null || typeof j !== 'object' || j.kind !== 'labels' || !Array.isArray(j.labels)) {
      throw new QkvError('LabelSet.fromJSON: expected {"kind": "labels", "labels": [...]}');
    }
    return new LabelSet(j.labels);
  }
}
