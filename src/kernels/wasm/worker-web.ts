// Entry of a browser kernel worker (a module Web Worker): the data comes as the first message.
import { serve, type WorkerData } from './worker-loop.js';

const scope = globalThis as unknown as { onmessage: ((e: { data: WorkerData }) => void) | null };
scope.onmessage = (e) => {
  scope.onmessage = null;
  serve(e.data);
};
