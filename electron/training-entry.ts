// The training process inside an Electron utilityProcess. engine/worker/process
// speaks Node's child-process IPC (process.send and 'message'); a utility process
// talks through process.parentPort instead. This maps one onto the other and
// then runs the worker unchanged. Messages are structured clones, so attention
// maps stay Float32Arrays.
const port = process.parentPort;
let connected = true;

Object.defineProperty(process, 'connected', { get: () => connected, configurable: true });
process.send = ((message: unknown, ...rest: unknown[]) => {
  port.postMessage(message);
  const callback = rest.find((r): r is (err: Error | null) => void => typeof r === 'function');
  callback?.(null);
  return true;
}) as typeof process.send;
process.disconnect = () => {
  connected = false;
  process.emit('disconnect');
  process.exit(0);
};
const emit = process.emit.bind(process) as (event: string, ...args: unknown[]) => boolean;
// The start command can arrive while the worker module is still loading: hold it until the worker listens.
let held: unknown[] | null = [];
port.on('message', (e) => (held ? held.push(e.data) : emit('message', e.data)));

await import('../engine/worker/process.js');
for (const m of held) emit('message', m);
held = null;
