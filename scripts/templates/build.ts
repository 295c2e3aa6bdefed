// Writes templates/<file>.attn.json for every template made in code:
//   npx tsc -p . && node dist/scripts/templates/build.js
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serializeGraph } from '../../engine/graph/schema.js';
import { imagenetTemplates } from './imagenet.js';
import { smallTemplates } from './small.js';
import { textTemplates } from './text.js';
import { captionTemplates } from './captions.js';

const dir = fileURLToPath(new URL('../../../templates/', import.meta.url));
for (const { file, ...graph } of [...imagenetTemplates, ...smallTemplates, ...textTemplates, ...captionTemplates]) {
  writeFileSync(`${dir}${file}.attn.json`, serializeGraph(graph));
  console.log(`templates/${file}.attn.json`);
}
