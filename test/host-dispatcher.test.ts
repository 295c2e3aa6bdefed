// The host's one door: every method of the API reaches its handler, and only
// after its request fits the method's schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOST_METHODS, HostRequestError, type HostHandlers, type HostMethod } from '../common/host-api/api.js';
import { HostDispatcher } from '../electron/host/dispatcher.js';

/** A handler table that records what each method was handed. */
function recording(): { handlers: HostHandlers; calls: [HostMethod, unknown][] } {
  const calls: [HostMethod, unknown][] = [];
  const handlers = Object.fromEntries(
    HOST_METHODS.map((m) => [
      m,
      async (request: unknown) => {
        calls.push([m, request]);
        return m;
      },
    ]),
  ) as unknown as HostHandlers;
  return { handlers, calls };
}

test('each method goes to its own handler, with the request as parsed (defaults filled in)', async () => {
  const { handlers, calls } = recording();
  const d = new HostDispatcher(handlers);
  assert.equal(await d.dispatch('listRuns', undefined), 'listRuns');
  assert.equal(await d.dispatch('writeRecovery', { graph: { nodes: [] } }), 'writeRecovery');
  assert.deepEqual(calls, [
    ['listRuns', {}],
    ['writeRecovery', { graph: { nodes: [] }, path: null, dirty: true }],
  ]);
});

test('a request that does not fit its schema never reaches a handler', async () => {
  const { handlers, calls } = recording();
  const d = new HostDispatcher(handlers);
  await assert.rejects(
    d.dispatch('openRun', { runId: '../etc' }),
    (e: Error) => e instanceof HostRequestError && /bad request for openRun: runId/.test(e.message),
  );
  await assert.rejects(d.dispatch('listRuns', { extra: 1 }), HostRequestError);
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'dispatch', 42])
    await assert.rejects(d.dispatch(name, {}), (e: Error) => e instanceof HostRequestError && /unknown host method/.test(e.message), String(name));
  assert.deepEqual(calls, []);
});
