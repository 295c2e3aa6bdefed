// One parameter, with the control its type calls for. The field keeps what the
// user types as a draft, checks it on every keystroke with the block's own
// schema, and writes it to the graph only when it is valid.
import { useEffect, useId, useState } from 'react';
import type { AnyBlock, ParamDef } from '../../../engine/blocks/contract.js';
import { resolveParams } from '../../../engine/blocks/params.js';
import { editor } from '../editor.js';

interface Props {
  block: AnyBlock;
  nodeId: string;
  name: string;
  def: ParamDef;
  /** The raw value in the graph (may be absent: the default applies, or invalid: loaded from a file). */
  value: unknown;
  /** Problems the analysis found with the stored value. */
  stored?: string;
}

/** Text for a value in a text-like field. */
function toText(def: ParamDef, v: unknown): string {
  if (v === undefined) return '';
  if (def.type === 'ints' && Array.isArray(v)) return v.join(', ');
  return String(v);
}

/** Parses a draft; returns the value to validate (NaN and friends let the schema word the error). */
function parse(def: ParamDef, text: string): unknown {
  switch (def.type) {
    case 'int':
    case 'float':
      return text.trim() === '' ? undefined : Number(text);
    case 'ints':
      return text.trim() === ''
        ? []
        : text
            .split(/[\s,×x]+/)
            .filter(Boolean)
            .map(Number);
    default:
      return text;
  }
}

function problemWith(block: AnyBlock, name: string, value: unknown): string | undefined {
  if (value === undefined) return 'a value is required';
  return resolveParams(block, { [name]: value }).problems[0]?.message.replace(/^parameter "[^"]+" /, '');
}

export function ParamField({ block, nodeId, name, def, value, stored }: Props) {
  const id = useId();
  const effective = value === undefined ? def.default : value;
  const [draft, setDraft] = useState(() => toText(def, effective));
  const [problem, setProblem] = useState<string | undefined>();
  const [focused, setFocused] = useState(false);

  // Follow the graph (undo, redo, reset) except while the user is typing here.
  const effectiveKey = JSON.stringify(effective);
  useEffect(() => {
    if (focused) return;
    setDraft(toText(def, effective));
    setProblem(undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [effectiveKey, focused]);

  const commit = (v: unknown) => editor.getState().setParam(nodeId, name, v);
  const onText = (text: string) => {
    setDraft(text);
    const v = parse(def, text);
    const p = problemWith(block, name, v);
    setProblem(p);
    if (!p) commit(v);
  };
  const focus = {
    onFocus: () => setFocused(true),
    onBlur: () => {
      setFocused(false);
      editor.getState().seal();
    },
  };
  const label = def.label ?? name;
  const message = problem ?? stored;
  const isDefault = value === undefined || JSON.stringify(value) === JSON.stringify(def.default);

  let control: React.ReactNode;
  switch (def.type) {
    case 'bool':
      control = (
        <input id={id} type="checkbox" checked={effective === true} data-testid={`param-${name}`} onChange={(e) => commit(e.target.checked)} {...focus} />
      );
      break;
    case 'enum':
      control = (
        <select id={id} value={String(effective)} data-testid={`param-${name}`} onChange={(e) => commit(e.target.value)} {...focus}>
          {!def.options.includes(String(effective)) && <option value={String(effective)}>{String(effective)} (invalid)</option>}
          {def.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
    case 'int':
    case 'float':
      control = (
        <input
          id={id}
          type="number"
          inputMode={def.type === 'int' ? 'numeric' : 'decimal'}
          min={def.min}
          max={def.max}
          step={def.type === 'int' ? 1 : 'any'}
          value={draft}
          data-testid={`param-${name}`}
          aria-invalid={!!message}
          onChange={(e) => onText(e.target.value)}
          onKeyDown={(e) => e.key === 'Escape' && (e.currentTarget as HTMLInputElement).blur()}
          {...focus}
        />
      );
      break;
    case 'ints':
    case 'string':
      control = (
        <input
          id={id}
          type="text"
          value={draft}
          placeholder={def.type === 'ints' ? 'e.g. 3, 3' : undefined}
          data-testid={`param-${name}`}
          aria-invalid={!!message}
          onChange={(e) => onText(e.target.value)}
          {...focus}
        />
      );
      break;
  }

  return (
    <div className={`field${message ? ' field--error' : ''}`} data-testid={`field-${name}`}>
      <label htmlFor={id} title={def.doc}>
        {label}
        {!isDefault && (
          <button
            className="reset"
            title={`Reset to ${toText(def, def.default) || 'default'}`}
            onClick={() => commit(undefined)}
            data-testid={`param-reset-${name}`}
          >
            ↺
          </button>
        )}
      </label>
      {control}
      <div className="field__help">{rangeHint(def)}</div>
      {message && (
        <div className="field__error" data-testid={`param-error-${name}`}>
          {message}
        </div>
      )}
    </div>
  );
}

function rangeHint(def: ParamDef): string {
  const range = (d: { min?: number; max?: number }) =>
    d.min !== undefined && d.max !== undefined ? `${d.min} … ${d.max}` : d.min !== undefined ? `≥ ${d.min}` : d.max !== undefined ? `≤ ${d.max}` : '';
  switch (def.type) {
    case 'int':
    case 'float':
      return [def.doc, range(def)].filter(Boolean).join(' · ');
    case 'ints':
      return [def.doc, range(def) && `each ${range(def)}`].filter(Boolean).join(' · ');
    default:
      return def.doc;
  }
}
