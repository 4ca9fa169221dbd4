// `qkv playground`: the page where two models learn one of the lecture's tasks in the browser tab
// (qkv's own library, bundled: WebGPU or WebAssembly), served on 127.0.0.1; --export writes the
// static folder to serve from anywhere; --experiment NAME opens it on that experiment's comparison.
import { Command } from 'commander';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { applyConfig, int, UsageError } from '../shared.js';
import { HOST } from '../viz/server.js';
import { playgroundFiles, startPlaygroundServer } from '../playground/server.js';
import { openBrowser } from './viz.js';
import { PLAYGROUND_EXPERIMENTS, PLAYGROUND_PORT, playgroundLink } from '../playground-links.js';
import type { Server } from 'node:http';

/** The static build (scripts/build-playground.mjs). */
const BUILD = fileURLToPath(new URL('../../web/playground-site', import.meta.url));

export function playgroundCommand(): Command {
  return new Command('playground')
    .description('train two models on one of the lecture\'s tasks in a browser tab and watch the loss, the accuracy and α′ (served on 127.0.0.1)')
    .option('--port <n>', `port on 127.0.0.1 (default: ${PLAYGROUND_PORT}, the port the experiment report links to, or a free one when it is taken; 0: a free one)`, int('--port', 0, 65535))
    .option('--open', 'open the page in the default browser', false)
    .option('--export <dir>', 'copy the static page (HTML, JS, wasm) into a new folder instead of serving it')
    .option('--experiment <name>', `open on the comparison of a \`qkv experiment\` (${PLAYGROUND_EXPERIMENTS.join(', ')})`)
    .option('--config <file>', 'JSON file of flag values')
    .action(async (_o, cmd: Command) => {
      const o = applyConfig(cmd);
      playgroundFiles(BUILD); // a missing build is one line
      const experiment = o.experiment === undefined ? null : playgroundLink(String(o.experiment));
      if (o.experiment !== undefined && !experiment) throw new UsageError(`--experiment ${String(o.experiment)}: not an experiment the playground shows (${PLAYGROUND_EXPERIMENTS.join(', ')})`);
      if (experiment && o.export !== undefined) throw new UsageError('--experiment opens the served page; with --export, append the settings to the address yourself');
      if (o.export !== undefined) {
        const out = String(o.export);
        if (out.trim() === '') throw new UsageError('--export: the path is empty; give the folder to write');
        if (existsSync(out) && readdirSync(out).length) throw new UsageError(`--export ${out}: exists and is not empty; give a new folder`);
        cpSync(BUILD, out, { recursive: true });
        console.log(`qkv playground: wrote ${out} (serve it over http; threads need the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)`);
        return;
      }
      const server = await listen(o.port as number | undefined);
      const url = `http://${HOST}:${(server.address() as { port: number }).port}/${experiment?.query ?? ''}`;
      console.log(`qkv playground: ${url} (Ctrl-C to stop)${experiment ? `\n  ${experiment.note}` : ''}`);
      if (o.open) openBrowser(url);
    });
}

/** The server on --port, or on PLAYGROUND_PORT when none is given and a free port when that one
 * is taken (said on stderr: the report's links point at PLAYGROUND_PORT). */
async function listen(port: number | undefined): Promise<Server> {
  if (port !== undefined) return startPlaygroundServer(BUILD, port);
  try {
    return await startPlaygroundServer(BUILD, PLAYGROUND_PORT);
  } catch (e) {
    if (!/already in use/.test((e as Error).message)) throw e;
    console.error(`qkv playground: port ${PLAYGROUND_PORT} is taken, serving on a free one (the experiment report's links point at ${PLAYGROUND_PORT})`);
    return startPlaygroundServer(BUILD, 0);
  }
}
