// What the rest of the app may ask of the canvas (set while it is mounted).
import type { XY } from '../store/document.js';
import type { Measured } from './flowElements.js';

export interface CanvasApi {
  toFlow(screen: XY): XY;
  /** Where new things go: under the pointer when it is over the canvas, else the middle of the view. */
  dropPoint(): XY;
  pointerOverCanvas(): XY | null;
  fit(): void;
  /** Readable zoom, the graph's input end in view (framing.ts). */
  frameInputEnd(): void;
  zoomIn(): void;
  zoomOut(): void;
  zoomReset(): void;
  focusNode(id: string): void;
  measured: Measured;
}

export const canvasApi: { current: CanvasApi | null } = { current: null };
