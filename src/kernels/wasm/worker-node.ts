// Entry of a Node kernel worker (worker_threads): the data comes as workerData.
import { workerData } from 'node:worker_threads';
import { serve, type WorkerData } from './worker-loop.js';

serve(workerData as WorkerData);
