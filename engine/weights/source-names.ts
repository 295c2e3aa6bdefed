// State-dict names of reference implementations -> the names of our own PyTorch
// export for the templates that equal them (engine/export/pytorch.ts names each
// weight `<node>.<param>`, composites flattened `<composite>_<node>`, repeats
// `_r<k>`). A source is recognised by its keys; anything else is taken to be
// our own export's names already.
import type { NamedArray } from '../export/safetensors.js';

export interface SourceNames {
  /** e.g. "torchvision resnet" */
  name: string;
  matches(keys: Set<string>): boolean;
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

/** The source whose names `arrays` carry, given the prefix our export gives the ViT encoder layers (from the graph). */
export function recogniseSource(arrays: NamedArray[], targetNames: string[]): SourceNames | undefined {
  const keys = new Set(arrays.map((a) => a.name));
  const encoder =
    /^(.*)\.0\.layer\.self_attn\.q_proj\.weight$/.exec(targetNames.find((n) => /\.0\.layer\.self_attn\.q_proj\.weight$/.test(n)) ?? '')?.[1] ?? 'encoder';
  return [torchvisionResnet, torchvisionVit(encoder), timmVit(encoder)].find((s) => s.matches(keys));
}
