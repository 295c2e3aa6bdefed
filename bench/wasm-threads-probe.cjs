/* eslint-disable @typescript-eslint/no-require-imports */
/* global require, process, URL, console, setTimeout, performance */
// Can tfjs-backend-wasm 4.22 run its threaded binary in Node? tfjs answers no by
// itself (WASM_HAS_MULTITHREAD_SUPPORT is false under Node, tfjs issue #3830);
// forced, emscripten hands worker_threads a blob: URL (ERR_WORKER_PATH). This
// forces the flag and serves the two scripts from files instead, then times a
// ResNet-sized convolution:  node bench/wasm-threads-probe.cjs [threads]
const fs = require('fs'),
  os = require('os'),
  path = require('path');
const tf = require('@tensorflow/tfjs-core');
const wasm = require('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
const nThreads = Number(process.argv[2] || 2);
wasm.setThreadsCount(nThreads);
// Node's worker_threads cannot load blob: URLs: keep the texts of string Blobs and hand out files instead.
const RealBlob = globalThis.Blob,
  texts = new WeakMap(),
  realCreate = URL.createObjectURL;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-wasm-threads-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let mainPath;
globalThis.Blob = class extends RealBlob {
  constructor(parts, o) {
    super(parts, o);
    if (parts.every((p) => typeof p === 'string')) {
      const t = parts.join('');
      texts.set(this, t);
      if (t.startsWith('var WasmBackendModuleThreadedSimd')) {
        mainPath = path.join(dir, 'main.cjs');
        fs.writeFileSync(
          mainPath,
          "var commonjsGlobal = globalThis, require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os');\n" +
            t,
        );
      }
    }
  }
};
URL.createObjectURL = (b) => {
  const text = texts.get(b);
  if (text === undefined) return realCreate(b);
  if (text.startsWith('var WasmBackendModuleThreadedSimd')) {
    mainPath = path.join(dir, 'main.cjs');
    fs.writeFileSync(mainPath, text);
    return mainPath;
  }
  const worker = text.replace(
    /if\(typeof e\.data\.urlOrBlob=="string"\)\{importScripts\(e\.data\.urlOrBlob\)\}else\{[^}]*\}/,
    `importScripts(${JSON.stringify(mainPath)});`,
  );
  if (worker === text) throw new Error('worker text not recognised');
  const p = path.join(dir, 'worker.cjs');
  fs.writeFileSync(p, worker);
  return p;
};
process.on('uncaughtException', (e) => {
  console.log('uncaught:', e && e.code, e && e.message);
  process.exit(1);
});
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
tf.setBackend('wasm').then(
  async (ok) => {
    globalThis.Blob = RealBlob;
    URL.createObjectURL = realCreate;
    console.log('setBackend', ok, tf.getBackend(), 'threads', wasm.getThreadsCount(), 'mainPath', mainPath);
    await new Promise((r) => setTimeout(r, 1500));
    const b = tf.backend();
    b.wasm.tfjs.initWithThreadsCount(nThreads);
    console.log(
      'after re-init threads',
      b.wasm.tfjs.getThreadsCount(),
      'PThread',
      !!b.wasm.PThread,
      b.wasm.PThread && [b.wasm.PThread.runningWorkers.length, b.wasm.PThread.unusedWorkers.length],
    );
    const x = tf.randomNormal([64, 28, 28, 16]),
      w = tf.randomNormal([3, 3, 16, 16]);
    tf.conv2d(x, w, 1, 'same').dispose();
    const t0 = performance.now(),
      c0 = cpu();
    for (let i = 0; i < 20; i++) tf.conv2d(x, w, 1, 'same').dataSync();
    console.log('conv 64x28x28x16: wall ms', ((performance.now() - t0) / 20).toFixed(2), 'cpu ms', ((cpu() - c0) / 20).toFixed(2));
    process.exit(0);
  },
  (e) => {
    console.log('rejected', e && e.message);
    process.exit(1);
  },
);
