// The page's HostApi, or null when the page runs without one (opened from the
// dev server without the token): then the editor works, but files are off.
import { createHostClient } from '../host-client.js';
import type { HostApi } from '../../../common/host-api/api.js';

function connect(): { host: HostApi | null; reason?: string } {
  try {
    return { host: createHostClient() };
  } catch (err) {
    return { host: null, reason: (err as Error).message };
  }
}

const made = connect();
export const host: HostApi | null = made.host;
export const noHostReason = made.reason;
