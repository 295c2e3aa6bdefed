// What keeps a Node process alive, one line each, as specific as Node lets us be:
// child processes with their command lines, servers with their addresses, sockets,
// and the kinds of what is not a handle (timers, immediates, file requests).

export function openHandles(): string[] {
  const lines: string[] = [];
  const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
  for (const handle of handles) {
    const line = describeHandle(handle);
    if (line) lines.push(line);
  }
  // Timers and other requests are not among the handles; this names their kinds (the *Wrap kinds are the handles above).
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  for (const [kind, n] of counts) if (!kind.endsWith('Wrap')) lines.push(`${n} × ${kind}`);
  return lines;
}

function describeHandle(handle: object): string | null {
  const h = handle as Record<string, unknown> & { constructor: { name: string } };
  if (isStdio(h)) return null;
  switch (h.constructor.name) {
    case 'ChildProcess': {
      const args = (h.spawnargs as string[] | undefined) ?? [];
      return `child process ${String(h.pid)}: ${args.join(' ').slice(0, 200)}`;
    }
    case 'Server': {
      const address = (h as unknown as { address(): unknown }).address();
      return `server listening on ${JSON.stringify(address)}`;
    }
    case 'Socket': {
      const s = h as unknown as { remoteAddress?: string; remotePort?: number; localPort?: number };
      return s.remoteAddress ? `socket to ${s.remoteAddress}:${s.remotePort} (local port ${s.localPort})` : 'socket (a pipe: a child process stdio or IPC)';
    }
    default:
      return h.constructor.name;
  }
}

function isStdio(h: object): boolean {
  if (h === process.stdin || h === process.stdout || h === process.stderr) return true;
  const fd = (h as { fd?: number; _handle?: { fd?: number } })._handle?.fd ?? (h as { fd?: number }).fd;
  return fd === 0 || fd === 1 || fd === 2;
}
