// Small line icons drawn as SVG, in the text's colour: unlike symbol characters
// (⧉, ⤓), they do not depend on which fonts the system has.

const ICON = { width: 12, height: 12, viewBox: '0 0 12 12', fill: 'none', stroke: 'currentColor', strokeWidth: 1.3, 'aria-hidden': true } as const;

/** A window with an arrow leaving it: open in a window of its own. */
export const DetachIcon = () => (
  <svg {...ICON} className="icon-svg" data-icon="detach">
    <path d="M5 2.5H2.5v7h7V7" />
    <path d="M6.5 1.5h4v4M10.5 1.5 5.5 6.5" />
  </svg>
);

/** An arrow down into a tray: put back in the main window. */
export const AttachIcon = () => (
  <svg {...ICON} className="icon-svg" data-icon="attach">
    <path d="M6 1.5v6M3.5 5 6 7.5 8.5 5" />
    <path d="M1.5 8v2.5h9V8" />
  </svg>
);
