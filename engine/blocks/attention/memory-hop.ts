import { defineBlock, ShapeError } from '../contract.js';
import { expectRank } from '../shape-rules.js';
import { memoryNetwork } from './ops/sequence-attention.js';
import { checkMask, maskPort, sequence } from './ops/shapes.js';
import { kerasCall, torchModule, tsTensors, unlessDefault } from './ops/emit.js';
import { tsObject } from '../emit/snippets.js';
import { linearWeights, TORCH_MASKED_SOFTMAX, TORCH_MEMORY } from './ops/emit-torch.js';
import { KERAS_MASKED_SOFTMAX, KERAS_MEMORY } from './ops/emit-keras.js';
import { TS_MEMORY } from './ops/emit-tfjs.js';

/** The MemoryNetwork layer's settings in every export, the default tying left out. */
const settings = (p: { dim: number; hops: number; tying: string }) => ({ dim: p.dim, hops: p.hops, tying: unlessDefault(p.tying, 'adjacent') });

export default defineBlock({
  type: 'attention.memoryHop',
  label: 'Memory network hops',
  category: 'Attention',
  paper: 'Sukhbaatar, S., Szlam, A., Weston, J. & Fergus, R. (2015). End-To-End Memory Networks. NeurIPS.',
  doc:
    'The hops of an end-to-end memory network (Sukhbaatar et al. 2015, "End-To-End Memory Networks", §2): the ' +
    'query is embedded as u = Bq; each hop k embeds the memory items x_i twice, m_i = A^k x_i and c_i = C^k x_i, ' +
    'reads with p = softmax(uᵀm_i) and o = Σ_i p_i c_i, and updates u ← u + o. Weight tying as in §2.2: adjacent ' +
    "(A^{k+1} = C^k and B = A^1, so the query needs the memory's feature size; (hops + 1)·F·d weights) or " +
    'layer-wise (one A and one C for all hops, and u ← Hu + o; 2·F·d + Fq·d + d² weights). Feed it memory items ' +
    'already reduced to vectors (e.g. bag-of-words counts); the answer layer softmax(W u) is a Dense after it. ' +
    'Outputs the final u and the read weights p of every hop.',
  params: {
    hops: { type: 'int', default: 3, min: 1, max: 16, doc: 'Number of hops K.' },
    dim: { type: 'int', default: 32, min: 1, max: 100000, label: 'embedding size', doc: 'Embedding size d.' },
    tying: { type: 'enum', options: ['adjacent', 'layerwise'], default: 'adjacent', doc: 'How the hops share embedding matrices.' },
  },
  inputs: [
    { name: 'memory', doc: 'Memory items [B, N, F] (sentences as feature vectors).', rank: 3 },
    { name: 'query', doc: 'The question [B, Fq] as a feature vector.', rank: 2 },
    { ...maskPort, doc: 'Optional mask [B, N] over the memory items: 1 keeps an item, 0 hides it (empty slots).' },
  ],
  outputs: [
    { name: 'out', doc: 'The final controller state u^{K+1} [B, d].' },
    { name: 'attention', doc: 'Read weights p of every hop [B, hops, N].', attention: 'matrix', axes: 'batch, hop, memory item' },
  ],
  inferShape({ params: p, inputs }) {
    const [n, f] = sequence(inputs.memory, 'memory');
    const [b, fq] = expectRank(inputs.query, 'query', 2, 'a feature vector [batch, features]');
    if (p.tying === 'adjacent' && fq !== null && fq !== f)
      throw new ShapeError(
        `with adjacent tying the query is embedded by A¹ and needs the memory's feature size: ${fq} vs ${f} (or use layer-wise tying)`,
        'query',
      );
    checkMask(inputs.mask, n, 'mask', 'memory');
    return { out: [b, p.dim], attention: [b, p.hops, n] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return memoryNetwork(tf, { memory: inputs.memory, query: inputs.query, mask: inputs.mask }, { ...p, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs: i, outputs: o, layer }) => {
      const options = { ...settings(p), name: layer };
      const x = tsTensors({ memory: i.memory, query: i.query, mask: i.mask });
      return {
        body: [`const { out: ${o.out}, attention: ${o.attention} } = memoryNetwork(tf, ${x}, ${tsObject(options)});`],
        helpers: [TS_MEMORY],
      };
    },
    keras: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [kerasCall('MemoryNetwork', [], { ...settings(p), name: layer }, [o.out, o.attention], [i.memory, i.query], { padding_mask: i.mask })],
      helpers: [KERAS_MASKED_SOFTMAX, KERAS_MEMORY],
    }),
    pytorch({ params: p, inputs: i, outputs: o, inputShapes: s, name }) {
      const keywords = { memory_dim: s.memory[2], query_dim: s.query[1], ...settings(p) };
      return {
        ...torchModule(name, 'MemoryNetwork', [], keywords, [o.out, o.attention], [i.memory, i.query], { mask: i.mask }),
        helpers: [TORCH_MASKED_SOFTMAX, TORCH_MEMORY],
        torchWeights:
          p.tying === 'adjacent'
            ? Array.from({ length: p.hops + 1 }, (_, k) => linearWeights(`embeddings.${k}`, `embed${k}`, false)).flat()
            : (['A', 'C', 'B', 'H'] as const).flatMap((m) => linearWeights(m, m.toLowerCase(), false)),
      };
    },
  },
  examples: [
    { params: { hops: 3, dim: 8 }, inputs: { memory: [null, 6, 10], query: [null, 10] } },
    { params: { hops: 2, dim: 4, tying: 'layerwise' }, inputs: { memory: [null, 5, 7], query: [null, 3], mask: [null, 5] } },
    { params: { hops: 1, dim: 4 }, inputs: { memory: [null, 4, 3], query: [null, 3] } },
  ],
});
