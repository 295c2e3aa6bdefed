// A block's documentation card: what it computes, its paper, its ports.
import type { AnyBlock } from '../../../engine/blocks/contract.js';
import { portsOf } from '../../../engine/blocks/contract.js';
import { defaultParams } from '../../../engine/blocks/params.js';
import { ATTENTION_LABEL, rankText } from '../ui-format.js';

export function BlockDocBody({ block }: { block: AnyBlock }) {
  const params = defaultParams(block);
  const inputs = portsOf(block, params, 'inputs');
  const outputs = portsOf(block, params, 'outputs');
  return (
    <>
      <p>{block.doc}</p>
      {block.paper && <p className="paper">{block.paper}</p>}
      {inputs.length > 0 && (
        <dl>
          {inputs.map((p) => (
            <div key={p.name}>
              <dt>
                ▸ {p.name} <small>{rankText(p)}</small>
              </dt>
              <dd>{p.doc}</dd>
            </div>
          ))}
        </dl>
      )}
      {outputs.length > 0 && (
        <dl>
          {outputs.map((p) => (
            <div key={p.name}>
              <dt>
                ◂ {p.name} {p.attention && <span className={`attention-tag attention-${p.attention}`}>{ATTENTION_LABEL[p.attention]}</span>}
              </dt>
              <dd>{p.doc}</dd>
            </div>
          ))}
        </dl>
      )}
    </>
  );
}

export function BlockDoc({ block, top }: { block: AnyBlock; top: number }) {
  return (
    <div className="block-doc" style={{ top: Math.max(8, Math.min(top - 20, window.innerHeight - 320)) }} data-testid="block-doc" role="tooltip">
      <h4>
        {block.label} <small>{block.type}</small>
      </h4>
      <BlockDocBody block={block} />
    </div>
  );
}
