// Text models in the editor, in headless Chromium against browser mode: a short
// real run on the built-in spam corpus shows the messages' words shaded by the
// word attention, a Transformer's heads labelled with the words, a Hierarchical
// Attention Network's sentences and words shaded, and Inspect classifies a typed
// text and shades its words. With ATTN_SCREENSHOTS=DIR the HAN test saves the
// README's pictures of the Attention tab and of Inspect there.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, openFile, skipReason, withEditor } from './harness.js';
import { assertDrawn, fillTrainingForm, selectOutput, text, waitForState } from './training-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const BIGRU = 'bigru-attention-spam.attn.json';
const TRANSFORMER = 'transformer-spam.attn.json';
const HAN = 'han-spam.attn.json';
const TYPED = 'FREE money!!! Click here to claim your prize now';
/** The typed text's tokens as the tokenizer splits them (lower case, punctuation on its own). */
const TYPED_TOKENS = ['free', 'money', '!', '!', '!', 'click', 'here', 'to', 'claim', 'your', 'prize', 'now'];

/** Opens a template, trains it for one short epoch on `spam` and waits until the run is done. */
async function trainOnSpam(page: Page, template: string, limit: number): Promise<void> {
  await openFile(page, template, 'node-words');
  await fillTrainingForm(page, { dataset: 'spam', limit: limit, epochs: 1, batchSize: 32, probeIntervalMs: 0 });
  await page.getByTestId('train-start').click();
  try {
    await waitForState(page, 'done', 180_000);
  } catch (err) {
    throw new Error(
      `the run is not done: state ${await text(page, 'train-state')}, step ${await text(page, 'train-step')}; log: ${await text(page, 'train-log')}`,
      {
        cause: err,
      },
    );
  }
}

async function showOutput(page: Page, key: string): Promise<void> {
  await page.getByTestId('dock-tab-attention').click();
  await selectOutput(page, key);
}

/** The shaded words inside `scope`: each word's text and weight. */
async function shadedWords(page: Page, scope: string): Promise<{ word: string; weight: number }[]> {
  const spans = page.locator(`${scope} [data-testid="attention-words"] .shaded-word`);
  await spans.first().waitFor();
  return Promise.all((await spans.all()).map(async (s) => ({ word: (await s.textContent()) ?? '', weight: Number(await s.getAttribute('data-weight')) })));
}

async function inspectTyped(page: Page, typed = TYPED): Promise<void> {
  await page.getByTestId('dock-tab-inspect').click();
  await page.getByTestId('inspect-text').fill(typed);
  await page.getByTestId('inspect-text-run').click();
  await page.getByTestId('inspect-verdict').waitFor({ timeout: 90_000 });
  assert.match((await text(page, 'inspect-verdict')) ?? '', /^predicted (ham|spam)$/, 'a typed text has no true class');
  assert.equal(await page.locator('[data-testid="inspect-probs"] li').count(), 2);
}

/** Each token is the typed one, or <unk> where the short run's vocabulary lacks it. */
function assertTypedTokens(got: string[]): void {
  assert.equal(got.length, TYPED_TOKENS.length, `tokens: ${got.join(' ')}`);
  got.forEach((w, i) => assert.ok(w === TYPED_TOKENS[i] || w === '<unk>', `token ${i}: ${w}, typed ${TYPED_TOKENS[i]}`));
  assert.ok(got.filter((w) => w !== '<unk>').length >= 4, `known words: ${got.join(' ')}`);
}

describe('text models (browser mode, headless Chromium)', { skip, timeout: 600_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [BIGRU, TRANSFORMER, HAN]));

  test('the BiGRU shades the words of a probe message; Inspect classifies typed text and shades its words', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await trainOnSpam(page, BIGRU, 100);
      await showOutput(page, 'attention.weights');
      const words = await shadedWords(page, '[data-testid="attention-map-attention-weights"]');
      assert.ok(words.length >= 3, `${words.length} words`);
      assert.ok(
        words.some((w) => /^[a-z]{3,}$/.test(w.word)),
        `the tokens are shown as words: ${words.map((w) => w.word).join(' ')}`,
      );
      const sum = words.reduce((a, w) => a + w.weight, 0);
      assert.ok(Math.abs(sum - 1) < 1e-3, `the weights over the words sum to ${sum}: padding gets none`);

      await inspectTyped(page);
      const typed = await shadedWords(page, '[data-testid="inspect-map-attention-weights"]');
      assertTypedTokens(typed.map((w) => w.word));
      assert.ok(Math.abs(typed.reduce((a, w) => a + w.weight, 0) - 1) < 1e-3);
      assert.match((await text(page, 'inspect-panel')) ?? '', /free money/, 'the input is shown as its words');
      assert.deepEqual(errors, []);
    });
  });

  test("the Transformer shows each head's word-to-word weights labelled with the words, live and in Inspect", async () => {
    await withEditor(env, async ({ page, errors }) => {
      await trainOnSpam(page, TRANSFORMER, 100);
      await showOutput(page, 'encoder1.attention');
      const map = '[data-testid="attention-map-encoder1-attention"]';
      await page.locator(`${map} [data-testid="token-heads"]`).waitFor();
      assert.equal(await page.locator(`${map} [data-testid^="token-head-canvas-"]`).count(), 4, 'one matrix per head');
      const labels = (await page.locator(`${map} [data-testid="token-head-0"]`).getAttribute('data-words')) ?? '';
      assert.ok(labels.split(' ').length >= 3, `head 0 is labelled with the message's words: ${labels}`);
      await assertDrawn(page, map, 4, 'the heads are drawn');

      await inspectTyped(page);
      const inspected = '[data-testid="inspect-map-encoder1-attention"]';
      await page.locator(`${inspected} [data-testid="token-heads"]`).waitFor();
      assertTypedTokens(((await page.locator(`${inspected} [data-testid="token-head-3"]`).getAttribute('data-words')) ?? '').split(' '));
      assertTypedTokens((await shadedWords(page, '[data-testid="inspect-map-attention-weights"]')).map((w) => w.word));
      assert.deepEqual(errors, []);
    });
  });

  test('HAN shades the sentences and words of a probe message, and of a typed text in Inspect', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await trainOnSpam(page, HAN, 150);
      await showOutput(page, 'wordAttention.weights');
      const live = await shadedDocument(page, '[data-testid="attention-map-wordAttention-weights"]');
      assert.ok(live.length >= 1, 'the probe message has sentences');
      const sentenceSum = live.reduce((a, s) => a + s.weight, 0);
      assert.ok(Math.abs(sentenceSum - 1) < 1e-3, `the sentence weights of the shown sentences sum to ${sentenceSum}: empty ones get none`);
      for (const [k, s] of live.entries()) {
        const sum = s.words.reduce((a, w) => a + w.weight, 0);
        assert.ok(s.words.length > 0 && Math.abs(sum - 1) < 1e-3, `sentence ${k}: its word weights sum to ${sum} over ${s.words.length} words`);
      }
      await screenshot(page, 'attention-panels', 'han-attention-tab.png');

      // Split after "!!!" and ".": three sentences, the first FREE money!!!.
      await inspectTyped(page, `${TYPED}. Reply today.`);
      const typed = await shadedDocument(page, '[data-testid="inspect-map-sentenceAttention-weights"]');
      assert.equal(typed.length, 3, `sentences: ${typed.map((s) => s.words.map((w) => w.word).join(' ')).join(' | ')}`);
      assertTypedTokens([...typed[0].words, ...typed[1].words].map((w) => w.word).slice(0, TYPED_TOKENS.length));
      assert.ok(Math.abs(typed.reduce((a, s) => a + s.weight, 0) - 1) < 1e-3);
      await screenshot(page, 'inspect-panel', 'han-inspect.png');
      assert.deepEqual(errors, []);
    });
  });
});

/** The shaded document inside `scope`: each sentence's weight and its words' texts and weights. */
async function shadedDocument(page: Page, scope: string): Promise<{ weight: number; words: { word: string; weight: number }[] }[]> {
  const sentences = page.locator(`${scope} .shaded-document .shaded-sentence`);
  await sentences.first().waitFor();
  return Promise.all(
    (await sentences.all()).map(async (s) => ({
      weight: Number(await s.getAttribute('data-weight')),
      words: await Promise.all(
        (await s.locator('.shaded-word').all()).map(async (w) => ({
          word: (await w.textContent()) ?? '',
          weight: Number(await w.getAttribute('data-weight')),
        })),
      ),
    })),
  );
}

/** With ATTN_SCREENSHOTS=DIR, the element `testId` as DIR/`file` (the README's pictures). */
async function screenshot(page: Page, testId: string, file: string): Promise<void> {
  const dir = process.env.ATTN_SCREENSHOTS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.getByTestId(testId).screenshot({ path: path.join(dir, file) });
}
