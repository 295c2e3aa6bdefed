// Starting the ranks of a PyTorch run on this machine: one Python process per
// rank with torch.distributed's standard environment (what torchrun would set;
// Debian's torch 1.13 on Python 3.11 cannot run plain torchrun). Rank 0 speaks
// the protocol on stdin/stdout; every rank's stderr goes to a log file. A rank
// that dies ends the others, and the run fails naming it. Each rank leads its own
// process group, so that ending it also ends whatever it started (a wrapper's
// Python, a data loader's workers).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { WORKER_SCRIPT } from './prepare.js';

/** How long a rank's last stderr lines may trail its exit. */
const STDIO_GRACE_MS = 2000;
/** How long the other ranks have to end on SIGTERM, after one failed, before they are killed. */
const END_GRACE_MS = 5000;

/** Ranks this process has signalled: a rank that dies of a signal it was not sent was killed from outside. */
const signalledByUs = new WeakSet<ChildProcess>();

/** A rank's failure; `external` where a signal it was not sent by us ended it (the run's cause, not an echo). */
type RankError = Error & { external?: boolean };

/** A port nothing listens on now, for the ranks' rendezvous. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Signals a rank and every process in its group; a rank that has already gone is left alone. */
function signalRank(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  signalledByUs.add(child);
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal); // no group (it could not start one): the rank alone
  }
}

/** The loopback interface's name (lo on Linux, lo0 on macOS), for gloo between ranks on this machine. */
export function loopbackInterface(): string | undefined {
  return Object.entries(networkInterfaces()).find(([, addrs]) => addrs?.some((a) => a.internal && a.address === '127.0.0.1'))?.[0];
}

export interface Ranks {
  /** A command for rank 0, as one JSON line. */
  send(command: { type: string }): void;
  /**
   * Resolves when every rank has exited cleanly. Otherwise, once every rank has ended, rejects naming a rank
   * killed from outside if one was (the others' failures echo it), else the first rank that failed.
   */
  readonly exited: Promise<void>;
  /** Process ids by rank. */
  readonly pids: (number | undefined)[];
  kill(): void;
}

export async function launchRanks(opts: {
  python: string;
  specFile: string;
  nproc: number;
  /** Where rank-N.log files go. */
  logDir: string;
  /** Each JSON line rank 0 prints. */
  onLine: (event: Record<string, unknown>) => void;
}): Promise<Ranks> {
  const port = opts.nproc > 1 ? await freePort() : 0;
  // Every rank is on this machine: gloo's pairs connect over loopback rather than whatever
  // address the hostname resolves to (another interface, or none).
  const loopback = loopbackInterface();
  const children: ChildProcess[] = [];
  const tails: string[][] = [];
  let ending = false;
  const outcomes = Array.from({ length: opts.nproc }, (_, rank) => {
    const env = {
      ...process.env,
      RANK: String(rank),
      LOCAL_RANK: String(rank),
      WORLD_SIZE: String(opts.nproc),
      LOCAL_WORLD_SIZE: String(opts.nproc),
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(port),
      ...(opts.nproc > 1 && loopback && !process.env.GLOO_SOCKET_IFNAME ? { GLOO_SOCKET_IFNAME: loopback } : {}),
      PYTHONUNBUFFERED: '1',
      ATTN_COMMANDS: 'stdin',
      ATTN_DRIVEN: '1',
    };
    const child = spawn(opts.python, [WORKER_SCRIPT, opts.specFile], {
      env,
      detached: true,
      stdio: [rank === 0 ? 'pipe' : 'ignore', rank === 0 ? 'pipe' : 'ignore', 'pipe'],
    });
    children.push(child);
    const tail: string[] = (tails[rank] = []);
    const log = createWriteStream(path.join(opts.logDir, `rank-${rank}.log`));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      log.write(`${line}\n`);
      tail.push(line);
      if (tail.length > 20) tail.shift();
    });
    if (rank === 0) {
      child.stdin!.on('error', () => {}); // a rank that died mid-write is reported by its exit
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.startsWith('{')) return void log.write(`stdout: ${line}\n`);
        try {
          opts.onLine(JSON.parse(line));
        } catch (err) {
          log.write(`unparsable event: ${line} (${(err as Error).message})\n`);
        }
      });
    }
    return new Promise<void>((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`rank ${rank} could not start ${opts.python}: ${err.message}`)));
      let settled = false;
      let grace: NodeJS.Timeout | undefined;
      let external = false;
      const settle = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(grace);
        // Our ends of its pipes: a process the rank started may still hold the others.
        for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
        log.end();
        if (code === 0) return resolve();
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        const last = tail.filter((l) => l.trim()).at(-1);
        const err: RankError = new Error(
          `PyTorch rank ${rank} of ${opts.nproc} ${how}${last ? `: ${last.trim()}` : ''} (log: ${path.join(opts.logDir, `rank-${rank}.log`)})`,
        );
        err.external = external;
        reject(err);
      };
      // 'close' waits for the pipes too, which a process the rank started (a wrapper's child)
      // may hold open after the rank has gone: its exit settles it shortly after.
      child.on('exit', (code, signal) => {
        external = signal !== null && !signalledByUs.has(child);
        grace = setTimeout(() => settle(code, signal), STDIO_GRACE_MS);
      });
      child.on('close', settle);
    });
  });
  const firstFailure = Promise.all(outcomes);
  // The first failure ends the other ranks (they would wait forever in their next collective).
  firstFailure.catch(() => {
    ending = true;
    for (const c of children) signalRank(c, 'SIGTERM');
    setTimeout(() => children.forEach((c) => signalRank(c, 'SIGKILL')), END_GRACE_MS).unref();
  });
  // Which rank settles first is a race (a killed rank's pipes may close after the others' echo of
  // its death, gloo's "connection closed by peer"), so the cause is chosen once all have ended.
  const exited = firstFailure.then(
    () => undefined,
    async (first: RankError) => {
      const ended = await Promise.allSettled(outcomes);
      const errors = ended.flatMap((r) => (r.status === 'rejected' ? [r.reason as RankError] : []));
      throw errors.find((e) => e.external) ?? first;
    },
  );
  return {
    send: (cmd) => {
      const stdin = children[0]?.stdin;
      if (!ending && stdin && !stdin.destroyed) stdin.write(`${JSON.stringify(cmd)}\n`);
    },
    exited,
    pids: children.map((c) => c.pid),
    kill: () => {
      ending = true;
      for (const c of children) signalRank(c, 'SIGKILL');
    },
  };
}
