// A labelled field of the training form, and its text input.
import type { ReactNode } from 'react';
import { setForm, useTrainForm, type TrainForm } from './form.js';

export function Field({ label, children, help }: { label: string; children: ReactNode; help?: string }) {
  return (
    <label className="tfield" title={help}>
      <span>{label}</span>
      {children}
    </label>
  );
}

/** The form's free-text settings (not the choices among a few names). */
type TextKey = { [K in keyof TrainForm]-?: string extends TrainForm[K] ? K : never }[keyof TrainForm];

/** A text field bound to one setting of the form. */
export function TextInput({ k, placeholder, disabled }: { k: TextKey; placeholder?: string; disabled?: boolean }) {
  const value = useTrainForm((s) => s[k]);
  return (
    <input
      value={value}
      placeholder={placeholder}
      disabled={disabled}
      data-testid={`train-${k}`}
      onChange={(e) => setForm({ [k]: e.target.value } as Partial<TrainForm>)}
    />
  );
}
