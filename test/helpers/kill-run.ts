// Killing a training process the way a crash would, at a checkpoint of the test's choosing.
import assert from 'node:assert/strict';
import { TrainingError, type TrainingClient } from '../../engine/worker/client.js';
import type { TrainEventOf } from '../../engine/schemas/train-events.js';

/** SIGKILLs the process at the first checkpoint `when` accepts; resolves with that checkpoint and the error the run ends with. */
export async function killAtCheckpoint(
  client: TrainingClient,
  when: (e: TrainEventOf<'checkpoint'>) => boolean,
): Promise<{ killedAfter: TrainEventOf<'checkpoint'> | undefined; err: TrainingError }> {
  let killedAfter: TrainEventOf<'checkpoint'> | undefined;
  client.on('checkpoint', (e: TrainEventOf<'checkpoint'>) => {
    if (!killedAfter && when(e)) {
      killedAfter = e;
      client.kill('SIGKILL');
    }
  });
  const err = await client.done.then(
    () => assert.fail('the run should not finish'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TrainingError);
  return { killedAfter, err };
}
