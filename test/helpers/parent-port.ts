// A stand-in for Electron's utilityProcess parentPort, so that the desktop
// training entry (electron/training-entry.ts) runs under plain Node: its
// parentPort is an EventEmitter with Electron's shape ({ data } message events,
// postMessage) carried over Node IPC.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The desktop training entry, built. */
export const TRAINING_ENTRY = fileURLToPath(new URL('../../electron/training-entry.js', import.meta.url));

// Node delivers IPC as process 'message' events; in a utility process those go to parentPort
// only. So every 'message' not emitted from inside a parentPort listener (where the entry
// relays to the worker) is turned into a parentPort message.
const PARENT_PORT = `
import { EventEmitter } from 'node:events';
const send = process.send.bind(process);
const port = new EventEmitter();
port.postMessage = (m) => send(m);
const emit = process.emit;
let relaying = false;
process.emit = function (event, ...args) {
  if (event !== 'message' || relaying) return emit.call(this, event, ...args);
  relaying = true;
  try {
    port.emit('message', { data: args[0], ports: [] });
  } finally {
    relaying = false;
  }
  return true;
};
process.parentPort = port;
`;

/** Writes the stand-in into `dir`; answers the execArgv that loads it in a forked process. */
export async function parentPortStandIn(dir: string): Promise<string[]> {
  const file = path.join(dir, 'parent-port.mjs');
  await writeFile(file, PARENT_PORT);
  return ['--import', file];
}
