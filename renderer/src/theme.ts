// The colour theme: System (follow prefers-color-scheme), Light or Dark,
// remembered in localStorage. The choice is the root's data-theme attribute;
// styles.css maps it to `color-scheme`, and every colour that differs between
// the themes is written once as light-dark(light, dark).
import { createStore } from 'zustand/vanilla';

export const THEMES = ['system', 'light', 'dark'] as const;
export type ThemeChoice = (typeof THEMES)[number];

const STORAGE_KEY = 'attn.theme';

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return (THEMES as readonly string[]).includes(v ?? '') ? (v as ThemeChoice) : 'system';
  } catch {
    return 'system'; // storage refused (privacy mode): follow the system
  }
}

export const theme = createStore<{ choice: ThemeChoice }>(() => ({ choice: stored() }));

function apply(choice: ThemeChoice): void {
  document.documentElement.dataset.theme = choice;
}

export function setTheme(choice: ThemeChoice): void {
  try {
    localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    // not remembered, but still applied for this session
  }
  theme.setState({ choice });
  apply(choice);
}

/** System → Light → Dark → System. */
export function cycleTheme(): void {
  setTheme(THEMES[(THEMES.indexOf(theme.getState().choice) + 1) % THEMES.length]);
}

if (typeof document !== 'undefined') apply(theme.getState().choice);
