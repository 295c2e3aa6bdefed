import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './App.js';
import { editor } from './editor.js';

// For end-to-end tests and the frame-time bench: the store, read and driven from the page.
(window as unknown as { attnEditor: typeof editor }).attnEditor = editor;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
