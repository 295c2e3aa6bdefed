// The host's code export: the engine's exporters, one file per target (ONNX
// through the PyTorch export and a Python with torch).
import { exportKeras } from '../../engine/export/keras.js';
import { exportPytorch } from '../../engine/export/pytorch.js';
import { exportTfjs } from '../../engine/export/tfjs.js';
import { identifier } from '../../engine/export/names.js';
import { exportOnnx } from '../../engine/export/onnx.js';
import type { Exporter } from './service.js';

export const engineExporter: Exporter = async (graph, target) => {
  const base = identifier(graph.name || 'model', 'python');
  switch (target) {
    case 'typescript':
      return [{ name: `${base}.ts`, content: exportTfjs(graph) }];
    case 'keras':
      return [{ name: `${base}_keras.py`, content: exportKeras(graph) }];
    case 'pytorch':
      return [{ name: `${base}_torch.py`, content: exportPytorch(graph).code }];
    case 'onnx':
      return [{ name: `${base}.onnx`, content: Buffer.from(await exportOnnx(graph)).toString('base64'), encoding: 'base64' }];
  }
};
