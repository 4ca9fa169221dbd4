// Where the playground's models train: WebGPU when the page has an adapter, else WebAssembly
// (on worker threads when the page is cross-origin isolated); ?backend=wasm|webgpu forces one.
// Returns the sentence the page shows: which backend, and why.
import { getBackend, selectBackendAsync } from '../../src/browser.js';

export async function chooseBackend(asked: string | null): Promise<string> {
  let note = '';
  if (asked !== null && asked !== 'wasm' && asked !== 'webgpu') note = `?backend=${asked.slice(0, 20)} is not a backend (wasm or webgpu), so the page chose. `;
  const want = asked === 'wasm' || asked === 'webgpu' ? asked : 'auto';
  const gpu = (navigator as Navigator & { gpu?: unknown }).gpu;
  if (want === 'webgpu' || (want === 'auto' && gpu)) {
    try {
      await selectBackendAsync('webgpu');
      const adapter = (getBackend() as { adapter?: string }).adapter ?? '';
      const emulated = /swiftshader|llvmpipe|software/i.test(adapter) ? ' This adapter emulates a GPU on the CPU, so WebAssembly may well be faster here.' : '';
      return `${note}WebGPU${adapter ? ` (${adapter})` : ''}: this page has a GPU adapter, so the models train there.${emulated} Add ?backend=wasm to the address to train on WebAssembly instead.`;
    } catch (e) {
      // the device layer's advice names the CLI's flag; in a page the choice is already made
      note += `WebAssembly: WebGPU is not usable here (${(e as Error).message.replace(/; use (the wasm backend|--backend .*)$/, '')}). `;
    }
  } else {
    note += want === 'wasm' ? 'WebAssembly, as the address asks (?backend=wasm). ' : 'WebAssembly: this browser has no WebGPU (navigator.gpu). ';
  }
  await (getBackend() as { whenReady?: () => Promise<void> }).whenReady?.(); // start the worker threads now, not mid-training
  return note + (crossOriginIsolated
    ? 'The page is cross-origin isolated, so the kernels run on worker threads.'
    : 'The page is not cross-origin isolated (no COOP/COEP headers), so the kernels run on one thread.');
}
