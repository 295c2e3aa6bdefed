// Every block's shape rule agrees with the tfjs layers it builds: symbolically,
// and on a real forward pass with a batch of 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../engine/blocks/registry.js';
import { portsOf, type Shape, type SymbolicTensor } from '../engine/blocks/contract.js';
import { defaultParams, resolveParams } from '../engine/blocks/params.js';
import { nodeInitializers } from '../engine/blocks/initializers.js';
import { fmtShape } from '../engine/shapes/rules.js';
import { tfReady } from './helpers/tf.js';

const concrete = (s: Shape, batch: number) => s.map((d, i) => (i === 0 ? batch : (d ?? 3)));

function sameShape(actual: readonly (number | null)[], expected: Shape, batch?: number): boolean {
  if (actual.length !== expected.length) return false;
  if (expected[0] !== null) return false;
  return expected.every((d, i) => (i === 0 ? (batch === undefined ? actual[0] === null : actual[0] === batch) : d === null || actual[i] === d));
}

for (const block of registry.all()) {
  test(`${block.type}: documented, with a valid parameter schema`, () => {
    assert.ok(block.doc.length > 60, 'doc paragraph');
    assert.ok(block.label && block.category);
    const { problems } = resolveParams(block, defaultParams(block) as Record<string, unknown>);
    assert.deepEqual(problems, [], 'defaults pass their own schema');
    assert.ok(block.examples.length > 0, 'at least one example');
  });

  if (block.type === 'io.output') continue;
  block.examples.forEach((ex, k) => {
    test(`${block.type} example ${k + 1}: shape rule matches tfjs`, async () => {
      const tf = await tfReady;
      const { values, problems } = resolveParams(block, ex.params as Record<string, unknown>);
      assert.deepEqual(problems, []);
      const inferred = block.inferShape({ params: values, inputs: ex.inputs });
      const inPorts = portsOf(block, values, 'inputs');
      const inputs: Record<string, SymbolicTensor> = {};
      for (const p of inPorts) {
        const s = ex.inputs[p.name];
        if (s) inputs[p.name] = tf.input({ shape: s.slice(1) as number[], dtype: p.dtype ?? 'float32' });
      }
      const built = block.build(tf, { params: values, inputs, inputShapes: ex.inputs, name: `ex_${k}_${block.type.replace(/\W/g, '_')}`, init: nodeInitializers(tf, 1, 'n') });
      const outPorts = portsOf(block, values, 'outputs');
      for (const p of outPorts) {
        const sym = built[p.name];
        assert.ok(sym, `build returned output "${p.name}"`);
        assert.ok(sameShape(sym.shape, inferred[p.name]), `${p.name}: tfjs ${JSON.stringify(sym.shape)} vs rule ${fmtShape(inferred[p.name])}`);
      }
      // Forward pass on real data.
      const inputList = Object.values(inputs);
      const model = tf.model({ inputs: inputList.length ? inputList : outPorts.map((p) => built[p.name]), outputs: outPorts.map((p) => built[p.name]) });
      const feeds = inputList.length
        ? inPorts.filter((p) => inputs[p.name]).map((p) => {
            const shape = concrete(ex.inputs[p.name], 2);
            return p.dtype === 'int32' ? tf.zeros(shape, 'int32') : tf.randomNormal(shape, 0, 1, 'float32', 7);
          })
        : outPorts.map((p) => tf.zeros(concrete(inferred[p.name], 2), built[p.name].dtype));
      const ys = model.predict(feeds) as ReturnType<typeof tf.zeros> | ReturnType<typeof tf.zeros>[];
      const list = Array.isArray(ys) ? ys : [ys];
      outPorts.forEach((p, i) => {
        assert.ok(sameShape(list[i].shape, inferred[p.name], 2), `${p.name}: forward ${JSON.stringify(list[i].shape)} vs rule ${fmtShape(inferred[p.name])}`);
        const data = list[i].dataSync();
        assert.ok(data.every(Number.isFinite), `${p.name}: finite values`);
      });
      tf.dispose([...feeds, ...list]);
    });
  });
}
