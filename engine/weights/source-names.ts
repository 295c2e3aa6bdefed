// State-dict names of reference implementations -> the names of our own PyTorch
// export for the templates that equal them (engine/export/pytorch.ts names each
// weight `<node>.<param>`, composites flattened `<composite>_<node>`, repeats
// `_r<k>`). A source is recognised by its keys; anything else is taken to be
// our own export's names already. Attention units (timm's SE, the CBAM
// authors' module) are recognised on their own, wherever they sit, so their
// names translate inside a reference network or inside any graph of ours.
import type { NamedArray } from '../export/safetensors.js';

export interface SourceNames {
  /** e.g. "torchvision resnet" */
  name: string;
  /** Recognised by its names (`keys`), or by the arrays' shapes too. */
  matches(keys: Set<string>, arrays: NamedArray[]): boolean;
  /** Our export's arrays from the source's; names it does not know are returned as they are (then reported unexpected). */
  translate(arrays: NamedArray[]): NamedArray[];
}

/** Splits a [3·d, ...] array (PyTorch's packed q, k, v projection) into three along axis 0. */
function splitQkv(a: NamedArray, names: [string, string, string]): NamedArray[] {
  const rows = a.shape[0] / 3;
  const size = a.data.length / 3;
  return names.map((name, i) => ({ name, shape: [rows, ...a.shape.slice(1)], data: a.data.slice(i * size, (i + 1) * size) }));
}

const renamer =
  (rules: [RegExp, string | ((...m: string[]) => string)][]) =>
  (a: NamedArray): NamedArray => {
    for (const [re, to] of rules) {
      const m = re.exec(a.name);
      if (m) return { ...a, name: typeof to === 'string' ? a.name.replace(re, to) : to(...m) };
    }
    return a;
  };

/** torchvision's ResNet (resnet50: layerK.I.convN / bnN / downsample.0|1, conv1, bn1, fc) onto the ResNet templates' stages. */
const torchvisionResnet: SourceNames = {
  name: 'torchvision ResNet',
  matches: (keys) => keys.has('layer1.0.conv1.weight') && keys.has('fc.weight'),
  translate: (arrays) =>
    arrays
      .filter((a) => !a.name.endsWith('num_batches_tracked'))
      .map(
        renamer([
          [/^layer(\d+)\.0\.downsample\.0\.(.*)$/, (_, k, p) => `stage${k}.first.proj.${p}`],
          [/^layer(\d+)\.0\.downsample\.1\.(.*)$/, (_, k, p) => `stage${k}.first.projbn.${p}`],
          [/^layer(\d+)\.0\.(.*)$/, (_, k, p) => `stage${k}.first.${p}`],
          [/^layer(\d+)\.(\d+)\.(.*)$/, (_, k, i, p) => `stage${k}.rest.${Number(i) - 1}.${p}`],
        ]),
      ),
};

/** The ViT templates' names: patch embedding `patches`, encoder layers `<repeat>.<k>.layer` (k from 0), final `norm`, `head`. */
function vitTarget(encoder: string) {
  const layer = (i: string) => `${encoder}.${Number(i)}.layer`;
  return { layer, attn: (i: string) => `${layer(i)}.self_attn` };
}

/** torchvision's VisionTransformer (class_token, conv_proj, encoder.layers.encoder_layer_I, encoder.ln, heads.head). */
const torchvisionVit = (encoder: string): SourceNames => {
  const t = vitTarget(encoder);
  return {
    name: 'torchvision VisionTransformer',
    matches: (keys) => keys.has('class_token') && keys.has('encoder.pos_embedding'),
    translate: (arrays) =>
      arrays.flatMap((a) => {
        const qkv = /^encoder\.layers\.encoder_layer_(\d+)\.self_attention\.in_proj_(weight|bias)$/.exec(a.name);
        if (qkv) return splitQkv(a, ['q_proj', 'k_proj', 'v_proj'].map((p) => `${t.attn(qkv[1])}.${p}.${qkv[2]}`) as [string, string, string]);
        return [
          renamer([
            [/^class_token$/, 'patches.class_token'],
            [/^encoder\.pos_embedding$/, 'patches.positions'],
            [/^conv_proj\.(.*)$/, (_, p) => `patches.proj.${p}`],
            [/^encoder\.layers\.encoder_layer_(\d+)\.ln_1\.(.*)$/, (_, i, p) => `${t.layer(i)}.norm1.${p}`],
            [/^encoder\.layers\.encoder_layer_(\d+)\.ln_2\.(.*)$/, (_, i, p) => `${t.layer(i)}.norm2.${p}`],
            [/^encoder\.layers\.encoder_layer_(\d+)\.self_attention\.out_proj\.(.*)$/, (_, i, p) => `${t.attn(i)}.out_proj.${p}`],
            [/^encoder\.layers\.encoder_layer_(\d+)\.mlp\.(?:0|linear_1)\.(.*)$/, (_, i, p) => `${t.layer(i)}.linear1.${p}`],
            [/^encoder\.layers\.encoder_layer_(\d+)\.mlp\.(?:3|linear_2)\.(.*)$/, (_, i, p) => `${t.layer(i)}.linear2.${p}`],
            [/^encoder\.ln\.(.*)$/, (_, p) => `norm.${p}`],
            [/^heads\.head\.(.*)$/, (_, p) => `head.${p}`],
          ])(a),
        ];
      }),
  };
};

/** timm's VisionTransformer (cls_token, pos_embed, patch_embed.proj, blocks.I.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm, head). */
const timmVit = (encoder: string): SourceNames => {
  const t = vitTarget(encoder);
  return {
    name: 'timm VisionTransformer',
    matches: (keys) => keys.has('cls_token') && keys.has('pos_embed'),
    translate: (arrays) =>
      arrays.flatMap((a) => {
        const qkv = /^blocks\.(\d+)\.attn\.qkv\.(weight|bias)$/.exec(a.name);
        if (qkv) return splitQkv(a, ['q_proj', 'k_proj', 'v_proj'].map((p) => `${t.attn(qkv[1])}.${p}.${qkv[2]}`) as [string, string, string]);
        return [
          renamer([
            [/^cls_token$/, 'patches.class_token'],
            [/^pos_embed$/, 'patches.positions'],
            [/^patch_embed\.proj\.(.*)$/, (_, p) => `patches.proj.${p}`],
            [/^blocks\.(\d+)\.norm1\.(.*)$/, (_, i, p) => `${t.layer(i)}.norm1.${p}`],
            [/^blocks\.(\d+)\.norm2\.(.*)$/, (_, i, p) => `${t.layer(i)}.norm2.${p}`],
            [/^blocks\.(\d+)\.attn\.proj\.(.*)$/, (_, i, p) => `${t.attn(i)}.out_proj.${p}`],
            [/^blocks\.(\d+)\.mlp\.fc1\.(.*)$/, (_, i, p) => `${t.layer(i)}.linear1.${p}`],
            [/^blocks\.(\d+)\.mlp\.fc2\.(.*)$/, (_, i, p) => `${t.layer(i)}.linear2.${p}`],
          ])(a),
        ];
      }),
  };
};

/** timm's SEModule (seresnet50's `se`): fc1/fc2 are 1×1 convolutions, [out, in, 1, 1], where our SE has linear layers. */
const timmSe: SourceNames = {
  name: "timm's SEModule",
  matches: (_, arrays) => arrays.some((a) => /\.se\.fc1\.weight$/.test(a.name) && a.shape.length === 4),
  translate: (arrays) => arrays.map((a) => (/\.se\.fc[12]\.weight$/.test(a.name) && a.shape.length === 4 ? { ...a, shape: a.shape.slice(0, 2) } : a)),
};

/** [1, 2, k, k] → the same with its two input channels swapped: the authors' spatial gate stacks [max; mean], ours [mean; max]. */
function swapInputPair(a: NamedArray): NamedArray {
  const half = a.data.length / 2;
  const data = new Float32Array(a.data.length);
  data.set(a.data.subarray(half), 0);
  data.set(a.data.subarray(0, half), half);
  return { ...a, data };
}

/** The CBAM authors' module (Jongchan/attention-module: ChannelGate.mlp.1|3, SpatialGate.spatial.conv|bn) onto our CBAM block's channel.fc1|fc2, spatial.conv|bn. */
const cbamAuthors: SourceNames = {
  name: "the CBAM authors' CBAM (Jongchan/attention-module)",
  matches: (keys) => [...keys].some((k) => /(^|\.)ChannelGate\.mlp\.1\.weight$/.test(k)),
  translate: (arrays) =>
    arrays.map((a) => {
      if (/(^|\.)SpatialGate\.spatial\.conv\.weight$/.test(a.name) && a.shape[1] === 2)
        return swapInputPair({ ...a, name: a.name.replace(/SpatialGate\.spatial\.conv\.weight$/, 'spatial.conv.weight') });
      return renamer([
        [/(^|\.)ChannelGate\.mlp\.1\.(weight|bias)$/, '$1channel.fc1.$2'],
        [/(^|\.)ChannelGate\.mlp\.3\.(weight|bias)$/, '$1channel.fc2.$2'],
        [/(^|\.)SpatialGate\.spatial\.bn\.(.*)$/, '$1spatial.bn.$2'],
      ])(a);
    }),
};

/** A checkpoint saved from nn.DataParallel carries "module." before every name (the CBAM authors' do): drop it. */
const savedFromDataParallel = (arrays: NamedArray[]) => arrays.length > 0 && arrays.every((a) => a.name.startsWith('module.'));
function withoutDataParallelPrefix(arrays: NamedArray[]): NamedArray[] {
  if (!savedFromDataParallel(arrays)) return arrays;
  return arrays.map((a) => ({ ...a, name: a.name.slice('module.'.length) }));
}

/**
 * The source whose names `arrays` carry, given the prefix our export gives the ViT encoder layers (from the
 * graph): a reference network's and/or attention units', composed; undefined for our own export's names.
 */
export function recogniseSource(arrays: NamedArray[], targetNames: string[]): SourceNames | undefined {
  const named = withoutDataParallelPrefix(arrays);
  const keys = new Set(named.map((a) => a.name));
  const encoder =
    /^(.*)\.0\.layer\.self_attn\.q_proj\.weight$/.exec(targetNames.find((n) => /\.0\.layer\.self_attn\.q_proj\.weight$/.test(n)) ?? '')?.[1] ?? 'encoder';
  const network = [torchvisionResnet, torchvisionVit(encoder), timmVit(encoder)].find((s) => s.matches(keys, named));
  const units = [timmSe, cbamAuthors].filter((s) => s.matches(keys, named));
  const dataParallel = savedFromDataParallel(arrays);
  if (!network && !units.length && !dataParallel) return undefined;
  const parts = [...(network ? [network] : []), ...units];
  return {
    name:
      [network?.name ?? "Attention Studio's PyTorch export", ...units.map((u) => u.name)].join(' + ') +
      (dataParallel ? ' (DataParallel\'s "module." dropped)' : ''),
    matches: () => true,
    translate: (all) => parts.reduce((a, s) => s.translate(a), withoutDataParallelPrefix(all)),
  };
}
