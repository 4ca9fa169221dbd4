// A small ONNX graph builder: named values (strings), nodes, initializers (a module's parameters
// under their PyTorch names), graph inputs/outputs with symbolic dims, and the ModelProto bytes.
// The lowering functions (layers.ts, attention-kinds.ts, transformer.ts, ...) write through it.
import type { Tensor } from '../../tensor/tensor.js';
import { ATTR_TYPE, DATA_TYPE, modelProto, type OnnxDType } from './schema.js';

/** A dimension: a size, or a name (dynamic: 'batch', 'sequence', ...). */
export type Dim = number | string;
/** Node attributes: numbers and number lists are ints; floats are tagged. */
export type Attr = number | number[] | string | { float: number } | { floats: number[] };

interface NodeJSON { input: string[]; output: string[]; name: string; op_type: string; domain: string; attribute: object[] }
interface ValueInfo { name: string; type: { tensor_type: { elem_type: number; shape: { dim: object[] } } } }

export const ONNX_OPSETS = [17, 23] as const;
export const DEFAULT_OPSET = 17;

export class OnnxGraph {
  readonly nodes: NodeJSON[] = [];
  readonly initializers: object[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  /** Notes on how the model was lowered (e.g. "additive attention as primitive ops"). */
  readonly notes = new Set<string>();
  private readonly params = new Map<Tensor, string>();
  private readonly names = new Map<Tensor, string>();
  private readonly consts = new Map<string, string>();
  private readonly used = new Set<string>();

  constructor(readonly name: string, readonly opset: number) {}

  /** Initializer names for a module's tensors: its state-dict names (tied weights get the first). */
  nameTensors(entries: Iterable<[string, Tensor]>): void {
    for (const [n, t] of entries) if (!this.names.has(t)) this.names.set(t, n);
  }

  /** A name not used yet in the graph. */
  fresh(prefix: string): string {
    let n = prefix;
    for (let i = 1; this.used.has(n); i++) n = `${prefix}_${i}`;
    this.used.add(n);
    return n;
  }

  input(name: string, dtype: OnnxDType, dims: Dim[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Makes `value` a graph output called `name`. */
  output(value: string, name: string, dtype: OnnxDType, dims: Dim[]): void {
    if (value !== name) this.op('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** A module parameter or buffer as an initializer (once per tensor, so tied weights stay one). */
  param(t: Tensor): string {
    const known = this.params.get(t);
    if (known) return known;
    const name = this.fresh(this.names.get(t) ?? 'param');
    const data = t.toTypedArray();
    this.initializer(name, t.dtype === 'int32' ? 'int32' : 'float32', [...t.shape], data as Float32Array | Int32Array);
    this.params.set(t, name);
    return name;
  }

  initializer(name: string, dtype: OnnxDType, dims: number[], data: Float32Array | Int32Array | BigInt64Array | Uint8Array): string {
    const bytes = new Uint8Array(data.byteLength);
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // little-endian, as ONNX's raw_data
    this.used.add(name);
    this.initializers.push({ name, dims, data_type: DATA_TYPE[dtype], raw_data: bytes });
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, split sizes), shared by every use. */
  ints(values: number[]): string {
    return this.constant(`ints:${values.join(',')}`, 'int64', [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** A 0-D constant. */
  scalar(v: number, dtype: 'float32' | 'int64' = 'float32'): string {
    const data = dtype === 'int64' ? BigInt64Array.of(BigInt(v)) : Float32Array.of(v);
    return this.constant(`${dtype}:${v}`, dtype, [], data);
  }

  /** A float32 constant table made by the exporter (positions, rotary tables). */
  table(prefix: string, dims: number[], data: Float32Array): string {
    return this.initializer(this.fresh(prefix), 'float32', dims, data);
  }

  private constant(key: string, dtype: OnnxDType, dims: number[], data: Float32Array | BigInt64Array): string {
    let n = this.consts.get(key);
    if (!n) {
      n = this.initializer(this.fresh(`const_${key.replace(/[^A-Za-z0-9]+/g, '_')}`), dtype, dims, data);
      this.consts.set(key, n);
    }
    return n;
  }

  /** Adds a node; returns its output (named `out` or a fresh name from the op). */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.opN(type, inputs, attrs, 1, out ? [out] : undefined)[0]!;
  }

  /** A node with several outputs. */
  opN(type: string, inputs: string[], attrs: Record<string, Attr>, count: number, outs?: string[]): string[] {
    const output = outs ?? Array.from({ length: count }, () => this.fresh(type));
    if (outs) outs.forEach((o) => this.used.add(o));
    const attribute = Object.entries(attrs).map(([name, a]) => attribute_(name, a));
    this.nodes.push({ input: inputs, output, name: this.fresh(`${type}_node`), op_type: type, domain: '', attribute });
    return output;
  }

  /** The ModelProto bytes, with string metadata (metadata_props). */
  encode(metadata: Record<string, string> = {}, producerVersion = '0.1.0'): Uint8Array {
    const M = modelProto();
    const doc = [...this.notes].join('\n');
    const message = M.fromObject({
      ir_version: this.opset >= 23 ? 11 : 8,
      opset_import: [{ domain: '', version: this.opset }],
      producer_name: 'qkv',
      producer_version: producerVersion,
      doc_string: doc,
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadata_props: Object.entries({ ...metadata, ...(doc ? { export_notes: doc } : {}) }).map(([key, value]) => ({ key, value })),
    });
    return M.encode(message).finish();
  }
}

function attribute_(name: string, a: Attr): object {
  if (typeof a === 'string') return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(a) };
  if (typeof a === 'number') return { name, type: ATTR_TYPE.INT, i: a };
  if (Array.isArray(a)) return { name, type: ATTR_TYPE.INTS, ints: a };
  if ('float' in a) return { name, type: ATTR_TYPE.FLOAT, f: a.float };
  return { name, type: ATTR_TYPE.FLOATS, floats: a.floats };
}

function valueInfo(name: string, dtype: OnnxDType, dims: Dim[]): ValueInfo {
  return {
    name,
    type: { tensor_type: { elem_type: DATA_TYPE[dtype], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}
