// The desktop app's question before closing unsaved work (electron/close-prompt.ts):
// Save / Don't Save / Cancel, and what each answer does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterChoice, CLOSE_AFTER_SAVE, closeChoice, closePrompt, documentName } from '../electron/close-prompt.js';

test('the prompt offers Save, Don’t Save and Cancel, names the document, and Escape cancels', () => {
  const box = closePrompt('● resnet.attn.json — Attention Studio');
  assert.deepEqual(box.buttons, ['Save', "Don't Save", 'Cancel']);
  assert.equal(box.defaultId, 0, 'Enter saves');
  assert.equal(box.buttons![box.cancelId!], 'Cancel', 'Escape or closing the box is Cancel');
  assert.match(box.message, /resnet\.attn\.json/);
  assert.equal(closeChoice(box.defaultId!), 'save');
  assert.equal(closeChoice(box.cancelId!), 'cancel');
});

test('each answer: Save keeps the window and asks the renderer to save then close; Don’t Save closes; Cancel keeps everything', () => {
  const box = closePrompt('● untitled — Attention Studio');
  const answers = box.buttons!.map((label, i) => [label, afterChoice(closeChoice(i))]);
  assert.deepEqual(answers, [
    ['Save', { unload: false, saveThenClose: true }],
    ["Don't Save", { unload: true, saveThenClose: false }],
    ['Cancel', { unload: false, saveThenClose: false }],
  ]);
  // An answer outside the buttons (the box went away some other way) keeps the work.
  assert.deepEqual(afterChoice(closeChoice(-1)), { unload: false, saveThenClose: false });
  assert.deepEqual(afterChoice(closeChoice(7)), { unload: false, saveThenClose: false });
  assert.equal(CLOSE_AFTER_SAVE, 'close');
});

test('the document name comes from the title the renderer sets (renderer/src/files.ts documentTitle), dirty marker and app name removed', () => {
  assert.equal(documentName('● untitled — Attention Studio'), 'untitled');
  assert.equal(documentName('vit.attn.json — Attention Studio'), 'vit.attn.json');
  assert.equal(documentName('● my net — Attention Studio'), 'my net');
  assert.equal(documentName(''), 'untitled');
});
