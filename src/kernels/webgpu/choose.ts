/// <reference types="@webgpu/types" preserve="true" />
// Which backend a page should run a model on: WebGPU when it has a GPU adapter (not a CPU
// emulation) and the model is large enough for the GPU's fixed costs to pay off, WebAssembly
// otherwise, with the reason in words. The browser entry's chooseBackend asks navigator.gpu and
// selects the answer; the rule itself is here so it reads (and is tested) on its own.

/** How much work the model is: its parameters, and/or the floating-point operations of one call (a forward or a training step). */
export interface ModelSize {
  params?: number;
  flops?: number;
}

export interface ChooseOptions {
  /** Parameters from which WebGPU is worth it (default WEBGPU_MIN_PARAMS). */
  minParams?: number;
  /** FLOPs per call from which WebGPU is worth it (default WEBGPU_MIN_FLOPS). */
  minFlops?: number;
  /** Take WebGPU on a CPU-emulated adapter (SwiftShader, a fallback adapter) too (default false: there wasm is faster). */
  allowEmulated?: boolean;
}

export interface ChosenBackend {
  /** 'webgpu', or the CPU backend kept instead ('wasm' in browsers; in Node the default one, e.g. 'native'). */
  backend: string;
  /** One sentence saying why. */
  reason: string;
  /** The adapter's name, or null when the page has none. */
  adapter: string | null;
}

/**
 * Estimates, not measurements (no GPU was at hand to measure the crossover): below about a
 * million parameters or a GFLOP per call, a call is short next to what WebGPU costs whatever the
 * size (a submission and a read back per step, dozens of dispatches), and wasm SIMD wins.
 */
export const WEBGPU_MIN_PARAMS = 1_000_000;
export const WEBGPU_MIN_FLOPS = 1e9;

/** What a page's adapter is, or why it has none. */
export interface AdapterProbe { name: string; emulated: boolean }

/** The adapter's name and whether it is a CPU emulation (SwiftShader, llvmpipe, WARP, a fallback adapter). */
export function describeAdapter(adapter: GPUAdapter): AdapterProbe {
  const info = adapter.info;
  const name = info?.description || [info?.vendor, info?.architecture].filter((s) => s).join(' ') || 'unknown adapter';
  const emulated = /swiftshader|llvmpipe|lavapipe|warp|software/i.test(`${info?.vendor} ${info?.architecture} ${info?.description}`)
    || (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { name, emulated };
}

/** The adapter `gpu` gives (null or undefined: WebGPU is off), or why there is none. */
export async function probeAdapter(gpu: GPU | null | undefined): Promise<AdapterProbe | string> {
  if (!gpu) return 'this page has no navigator.gpu (WebGPU is off or unsupported here)';
  try {
    const adapter = await gpu.requestAdapter();
    return adapter ? describeAdapter(adapter) : 'navigator.gpu gave no adapter (no usable GPU, or WebGPU is blocked here)';
  } catch (e) {
    return `navigator.gpu.requestAdapter failed (${(e as Error).message})`;
  }
}

/** The rule: WebGPU for a large enough model on a real GPU, wasm otherwise; the reason says which test decided. */
export function decideBackend(size: ModelSize, adapter: AdapterProbe | string, o: ChooseOptions = {}, cpu = 'wasm'): ChosenBackend {
  const minParams = o.minParams ?? WEBGPU_MIN_PARAMS;
  const minFlops = o.minFlops ?? WEBGPU_MIN_FLOPS;
  if (typeof adapter === 'string') return { backend: cpu, reason: `${cpu}: ${adapter}`, adapter: null };
  if (adapter.emulated && !o.allowEmulated) {
    return { backend: cpu, reason: `${cpu}: the GPU adapter "${adapter.name}" is a CPU emulation, slower than the CPU backends`, adapter: adapter.name };
  }
  const { params, flops } = size;
  const big = (params !== undefined && params >= minParams) || (flops !== undefined && flops >= minFlops);
  const said = [params !== undefined ? `${fmt(params)} parameters` : '', flops !== undefined ? `${fmt(flops)} FLOPs a call` : ''].filter(Boolean).join(', ') || 'no size given';
  if (!big) {
    return { backend: cpu, reason: `${cpu}: the model is too small to gain from the GPU "${adapter.name}" (${said}; WebGPU from ${fmt(minParams)} parameters or ${fmt(minFlops)} FLOPs a call)`, adapter: adapter.name };
  }
  return { backend: 'webgpu', reason: `webgpu: the page has the GPU "${adapter.name}" and the model is large enough to gain (${said})`, adapter: adapter.name };
}

/**
 * Both entries' chooseBackend after the probe: decide, then (unless `select: false`) select the
 * answer — WebGPU through `selectWebGpu`, and where that gives no device, `cpu` with the GPU's
 * error in the reason (its "use ..." advice dropped: the choice already took the other backend);
 * `selectCpu` makes the CPU backend the default and may add to the reason.
 */
export async function chooseAndSelect(
  size: ModelSize, probe: AdapterProbe | string, options: ChooseOptions & { select?: boolean }, cpu: string,
  selectWebGpu: () => Promise<void>, selectCpu: (choice: ChosenBackend) => ChosenBackend,
): Promise<ChosenBackend> {
  let choice = decideBackend(size, probe, options, cpu);
  if (options.select === false) return choice;
  if (choice.backend === 'webgpu') {
    try {
      await selectWebGpu();
      return choice;
    } catch (e) {
      choice = { backend: cpu, reason: `${cpu}: ${(e as Error).message.replace(/; use (the wasm backend|--backend ?).*$/, '')}`, adapter: choice.adapter };
    }
  }
  return selectCpu(choice);
}

const fmt = (n: number): string => (n >= 1e9 ? `${+(n / 1e9).toPrecision(3)}G` : n >= 1e6 ? `${+(n / 1e6).toPrecision(3)}M` : n >= 1e3 ? `${+(n / 1e3).toPrecision(3)}k` : String(n));
