// What inspecting a trained run answers: one sample (or a given image) through a
// checkpoint, with the prediction and every attention map. The training process
// sends it, the host passes it on, the renderer draws it.
import { z } from 'zod';
import { attentionMapSchema } from './train-events.js';
import { captionRecordSchema } from './caption.js';

/** The class-activation-map methods (engine/explain/gradcam.ts computes them all in one backward pass). */
export const CAM_METHODS = ['gradcam', 'gradcam++', 'hirescam'] as const;
export type CamMethod = (typeof CAM_METHODS)[number];

/**
 * What each method is, said where it is picked (Inspect's menu, `attn explain --help`). Grad-CAM++'s weakness
 * is measured in test/explain-digit-mass.test.ts and test/explain-mnist.test.ts.
 */
export const CAM_METHOD_NOTES: Record<CamMethod, string> = {
  gradcam:
    'Grad-CAM: the channels weighed by their gradient averaged over positions. Passes the randomisation check (the map changes when the weights are random); behind a flatten + dense head the averages can all be negative and leave the map empty.',
  'gradcam++':
    "Grad-CAM++: by its formula no channel's weight is below 0, so the map leans more on where the layer's channels fire than on the weights above it: with random weights it changes less than Grad-CAM's, and behind a flatten + dense head (the small CBAM template) not at all with the head random (Spearman ρ 1.0; 0.81 with all weights random), failing the randomisation check. Use it to see what the layer responds to, not why the class was chosen.",
  hirescam:
    "HiResCAM: gradient times activation at each position, summed over channels; the class score's own decomposition behind a dense head. Passes the randomisation check.",
};

/** What Inspect asks to explain; without it an inspection computes no explanation (a backward pass costs seconds on large models). */
export const explainOptionsSchema = z.strictObject({
  /** The class whose activation maps are computed (default: the predicted one). */
  classIndex: z.number().int().min(0).optional(),
  /** The layer they are computed on: "NODE" or "NODE:PORT" (default: chosen from the graph). */
  layer: z.string().min(1).max(400).optional(),
});
export type ExplainOptions = z.infer<typeof explainOptionsSchema>;

const layerRef = z.object({ nodeId: z.string(), port: z.string() });

export const inspectionSchema = z.object({
  type: z.literal('inspection'),
  /** The validation sample inspected; -1 for an image or a text given instead. */
  index: z.number().int(),
  validationSamples: z.number().int(),
  /** The image given instead of a validation sample, with its size before it was fitted to the input. */
  image: z.object({ name: z.string(), width: z.number().int(), height: z.number().int() }).optional(),
  classNames: z.array(z.string()),
  /** The sample's class (or per position for sequences; -1: no target). */
  label: z.array(z.number().int()),
  /** Text models: the input's words (padding left out), so that views can label and shade them. */
  words: z.array(z.string()).optional(),
  /** Hierarchical text models ([sentences, words] input): the words of each sentence row, padding left out, so that views can shade sentences and words. */
  sentences: z.array(z.array(z.string())).optional(),
  /** The text typed in instead of a validation sample. */
  text: z.string().optional(),
  input: z.object({ shape: z.array(z.number().int()), data: z.union([z.instanceof(Float32Array), z.instanceof(Int32Array)]) }),
  /** Class probabilities of each model output, [positions × classes] flattened. */
  outputs: z.array(z.object({ nodeId: z.string(), shape: z.array(z.number().int()), probs: z.instanceof(Float32Array) })),
  maps: z.array(attentionMapSchema),
  /** A captioning model: the sample's greedy caption, each word with its map over the feature grid. */
  caption: captionRecordSchema.optional(),
  /** Grad-CAM (every CAM method) and attention rollout of the sample (engine/explain/inspection.ts). */
  explanations: z
    .object({
      cam: z
        .object({
          nodeId: z.string(),
          port: z.string(),
          classIndex: z.number().int(),
          predicted: z.number().int(),
          /** Every layer the maps can be computed on, in the model's order. */
          layers: z.array(layerRef),
          rows: z.number().int(),
          cols: z.number().int(),
          maps: z.record(z.enum(CAM_METHODS), z.instanceof(Float32Array)),
        })
        .optional(),
      rollout: z
        .object({
          layers: z.array(layerRef),
          rows: z.number().int(),
          cols: z.number().int(),
          map: z.instanceof(Float32Array),
        })
        .optional(),
      /** The layer × head grid: every attention matrix, [heads, queries, keys] each, first layer first. */
      grid: z
        .array(
          z.object({
            nodeId: z.string(),
            port: z.string(),
            heads: z.number().int(),
            queries: z.number().int(),
            keys: z.number().int(),
            data: z.instanceof(Float32Array),
          }),
        )
        .optional(),
      notes: z.array(z.string()),
    })
    .optional(),
  checkpoint: z.string(),
  backend: z.string(),
});
export type Inspection = z.infer<typeof inspectionSchema>;
