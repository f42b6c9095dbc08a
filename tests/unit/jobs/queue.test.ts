// The job queue with real worker threads running the built-in diagnostics handlers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { JobFailedError, JobQueue, JobQueueError, type JobEvent, type JobQueueOptions } from '../../../src-main/jobs/index';

function openQueue(t: TestContext, options: JobQueueOptions = {}): { queue: JobQueue; events: JobEvent[] } {
  const queue = new JobQueue(options);
  const events: JobEvent[] = [];
  queue.onEvent((event) => events.push(event));
  t.after(() => queue.close());
  return { queue, events };
}

/** Resolves with the first event (from now on) that matches. */
function nextEvent(queue: JobQueue, match: (event: JobEvent) => boolean): Promise<JobEvent> {
  return new Promise((resolve) => {
    const off = queue.onEvent((event) => {
      if (match(event)) {
        off();
        resolve(event);
      }
    });
  });
}

const of = (events: JobEvent[], jobId: string) => events.filter((e) => e.jobId === jobId);

test('a job reports queued, started, log, progress in order, previews and its result', async (t) => {
  const { queue, events } = openQueue(t);
  const id = queue.submit('diagnostics.count', { n: 5, delayMs: 5, preview: true });
  assert.equal(queue.get(id)!.status, 'queued');
  const result = await queue.wait(id);
  assert.deepEqual(result, { counted: 5, workerRuns: 1 });

  const mine = of(events, id);
  const types = mine.map((e) => e.type).filter((type) => type !== 'preview');
  assert.deepEqual(types, ['queued', 'started', 'log', 'progress', 'progress', 'progress', 'progress', 'progress', 'result']);
  const progress = mine.flatMap((e) => (e.type === 'progress' ? [[e.done, e.total, e.stage]] : []));
  assert.deepEqual(progress, [1, 2, 3, 4, 5].map((done) => [done, 5, 'counting']));
  const previews = mine.flatMap((e) => (e.type === 'preview' ? [e.png] : []));
  assert.equal(previews.length, 5);
  for (const png of previews) assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(mine.some((e) => e.type === 'log' && e.message === 'counting to 5'));

  const info = queue.get(id)!;
  assert.equal(info.status, 'done');
  assert.deepEqual(info.result, { counted: 5, workerRuns: 1 });
  assert.deepEqual(info.progress, { done: 5, total: 5, stage: 'counting' });
  assert.ok(info.startedAt! >= info.createdAt && info.finishedAt! >= info.startedAt!);
});

test('jobs run one at a time in submission order, in a worker that stays between jobs', async (t) => {
  const { queue, events } = openQueue(t);
  const ids = [1, 2, 3].map(() => queue.submit('diagnostics.count', { n: 2, delayMs: 10 }));
  assert.deepEqual(queue.list().map((j) => j.status), ['queued', 'queued', 'queued']);
  const results = await Promise.all(ids.map((id) => queue.wait(id)));
  // The module-level counter grows: the same worker (and its module cache) served all three.
  assert.deepEqual(results.map((r) => (r as { workerRuns: number }).workerRuns), [1, 2, 3]);
  const lifecycle = events.filter((e) => e.type === 'started' || e.type === 'result').map((e) => `${e.type}:${ids.indexOf(e.jobId)}`);
  assert.deepEqual(lifecycle, ['started:0', 'result:0', 'started:1', 'result:1', 'started:2', 'result:2']);
});

test('with concurrency 2 two jobs run at the same time', async (t) => {
  const { queue, events } = openQueue(t, { concurrency: 2 });
  const a = queue.submit('diagnostics.count', { n: 4, delayMs: 150 });
  const b = queue.submit('diagnostics.count', { n: 4, delayMs: 150 });
  const c = queue.submit('diagnostics.count', { n: 1 });
  await Promise.all([queue.wait(a), queue.wait(b), queue.wait(c)]);
  const order = events.filter((e) => e.type === 'started' || e.type === 'result').map((e) => `${e.type}:${[a, b, c].indexOf(e.jobId)}`);
  assert.deepEqual(order.slice(0, 2), ['started:0', 'started:1']);
  assert.equal(order.indexOf('started:2') > Math.min(order.indexOf('result:0'), order.indexOf('result:1')), true, 'the third waits for a free slot');
  // Both made progress while the other was still running: they really ran side by side.
  const steps = events.flatMap((e, i) => (e.type === 'progress' ? [{ i, job: e.jobId }] : []));
  const first = (job: string) => steps.find((s) => s.job === job)!.i;
  const last = (job: string) => steps.filter((s) => s.job === job).at(-1)!.i;
  assert.ok(first(a) < last(b) && first(b) < last(a));
});

test('cancelling a queued job removes it at once; it never starts', async (t) => {
  const { queue, events } = openQueue(t);
  const running = queue.submit('diagnostics.count', { n: 3, delayMs: 20 });
  const queued = queue.submit('diagnostics.count', { n: 3, delayMs: 20 });
  const after = queue.submit('diagnostics.count', { n: 1, delayMs: 0 });
  assert.equal(queue.cancel(queued), true);
  // Synchronously: the event is out and the job is no longer waiting.
  assert.deepEqual(of(events, queued).map((e) => e.type), ['queued', 'cancelled']);
  assert.equal(queue.get(queued)!.status, 'cancelled');
  await assert.rejects(queue.wait(queued), (error: unknown) => error instanceof JobFailedError && error.status === 'cancelled');
  await queue.wait(running);
  await queue.wait(after);
  assert.deepEqual(of(events, queued).map((e) => e.type), ['queued', 'cancelled'], 'nothing more happened to it');
  assert.equal(queue.cancel(queued), false, 'a finished job cannot be cancelled again');
  assert.equal(queue.cancel('no-such-job'), false);
});

test('cancelling a running job stops it within one step and the next job runs', async (t) => {
  const { queue, events } = openQueue(t);
  const stepMs = 1000;
  const id = queue.submit('diagnostics.count', { n: 1000, delayMs: stepMs });
  const next = queue.submit('diagnostics.count', { n: 2, delayMs: 1 });
  await nextEvent(queue, (e) => e.jobId === id && e.type === 'progress' && e.done === 1);
  const asked = Date.now();
  assert.equal(queue.cancel(id), true);
  await assert.rejects(queue.wait(id), (error: unknown) => error instanceof JobFailedError && error.status === 'cancelled');
  const took = Date.now() - asked;
  assert.ok(took < stepMs, `cancel took ${took} ms, more than one step (${stepMs} ms)`);
  const mine = of(events, id);
  assert.equal(mine.at(-1)!.type, 'cancelled');
  assert.equal(mine.filter((e) => e.type === 'progress').length, 1, 'no step after the cancel');
  assert.equal(queue.get(id)!.status, 'cancelled');
  // The worker survived a cooperative cancel: its module state carries on.
  assert.deepEqual(await queue.wait(next), { counted: 2, workerRuns: 2 });
});

test('a handler that ignores cancel has its worker terminated after the grace period', async (t) => {
  const { queue } = openQueue(t, { cancelGraceMs: 200 });
  const id = queue.submit('diagnostics.spin', { ms: 20_000 });
  await nextEvent(queue, (e) => e.jobId === id && e.type === 'started');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const asked = Date.now();
  queue.cancel(id);
  await assert.rejects(queue.wait(id), (error: unknown) => error instanceof JobFailedError && error.status === 'cancelled');
  assert.ok(Date.now() - asked < 2_000);
  const next = queue.submit('diagnostics.count', { n: 1 });
  assert.deepEqual(await queue.wait(next), { counted: 1, workerRuns: 1 }, 'a fresh worker');
});

for (const [mode, why] of [
  ['exit', /exited with code 3/],
  ['throw', /uncaught error.*diagnostics\.crash: uncaught error in the worker/],
  ['oom', /ran out of memory/],
] as const) {
  test(`a worker crash (${mode}) fails its job with WORKER_CRASHED and a fresh worker runs the next job`, async (t) => {
    const { queue, events } = openQueue(t, { resourceLimits: { maxOldGenerationSizeMb: 48 } });
    const warm = queue.submit('diagnostics.count', { n: 1 });
    assert.deepEqual(await queue.wait(warm), { counted: 1, workerRuns: 1 });
    const crash = queue.submit('diagnostics.crash', { mode });
    const next = queue.submit('diagnostics.count', { n: 2, delayMs: 1 });
    await assert.rejects(queue.wait(crash), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.error?.code, 'WORKER_CRASHED');
      assert.match(error.message, why);
      return true;
    });
    const failure = of(events, crash).at(-1)!;
    assert.equal(failure.type, 'error');
    assert.equal(queue.get(crash)!.status, 'failed');
    assert.equal(queue.get(crash)!.error?.code, 'WORKER_CRASHED');
    // workerRuns starts again at 1: a new worker, the crashed one's state is gone.
    assert.deepEqual(await queue.wait(next), { counted: 2, workerRuns: 1 });
  });
}

test('a worker script that cannot load fails the job with a clear error', async (t) => {
  const missing = pathToFileURL(path.join(os.tmpdir(), 'atelier-no-such-worker', 'jobs-worker.js'));
  const { queue } = openQueue(t, { workerEntry: { url: missing } });
  const id = queue.submit('diagnostics.count', { n: 1 });
  await assert.rejects(queue.wait(id), (error: unknown) => {
    assert.ok(error instanceof JobFailedError);
    assert.equal(error.error?.code, 'WORKER_CRASHED');
    assert.match(error.message, /jobs-worker\.js/);
    return true;
  });
});

test('handler errors carry their messages and leave the worker running', async (t) => {
  const { queue, events } = openQueue(t);
  const fail = queue.submit('diagnostics.fail', { message: 'the model file is missing: nano.onnx' });
  await assert.rejects(queue.wait(fail), (error: unknown) => {
    assert.ok(error instanceof JobFailedError);
    assert.equal(error.message, 'the model file is missing: nano.onnx');
    assert.deepEqual(error.error, { code: 'HANDLER_ERROR', message: 'the model file is missing: nano.onnx' });
    return true;
  });
  const event = of(events, fail).at(-1)!;
  assert.deepEqual(event, { type: 'error', jobId: fail, error: { code: 'HANDLER_ERROR', message: 'the model file is missing: nano.onnx' } });

  const badParams = queue.submit('diagnostics.count', { n: -4 });
  await assert.rejects(queue.wait(badParams), /integer n between 0 and 1000000/);
  const ok = queue.submit('diagnostics.count', { n: 1 });
  assert.deepEqual(await queue.wait(ok), { counted: 1, workerRuns: 1 }, 'same worker; the failed runs never counted');
});

test('unknown kinds and a closed queue are refused at submit', async (t) => {
  const { queue } = openQueue(t);
  assert.throws(() => queue.submit('image.paint', {}), (error: unknown) => error instanceof JobQueueError && error.code === 'UNKNOWN_KIND');
  assert.throws(
    () => queue.submit('diagnostics.count', { n: 1, onDone: () => {} }),
    (error: unknown) => error instanceof JobQueueError && error.code === 'INVALID_PARAMS' && /cannot be sent to the worker/.test(error.message),
  );
  assert.deepEqual(queue.list(), [], 'refused jobs leave no trace');
  await queue.close();
  assert.throws(() => queue.submit('diagnostics.count', { n: 1 }), (error: unknown) => error instanceof JobQueueError && error.code === 'QUEUE_CLOSED');
});

test('close cancels queued and running jobs and stops the workers', async (t) => {
  const { queue, events } = openQueue(t);
  const running = queue.submit('diagnostics.count', { n: 1000, delayMs: 50 });
  const queued = queue.submit('diagnostics.count', { n: 1 });
  await nextEvent(queue, (e) => e.jobId === running && e.type === 'progress');
  await queue.close();
  assert.equal(queue.get(running)!.status, 'cancelled');
  assert.equal(queue.get(queued)!.status, 'cancelled');
  assert.deepEqual(of(events, queued).map((e) => e.type), ['queued', 'cancelled']);
  const count = events.length;
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(events.length, count, 'no events after close');
});

test('list shows active jobs in queue order, then recent finished ones', async (t) => {
  const { queue } = openQueue(t, { keepFinished: 2, keepResults: 1 });
  const done = [1, 2, 3].map(() => queue.submit('diagnostics.count', { n: 0 }));
  await Promise.all(done.map((id) => queue.wait(id)));
  const a = queue.submit('diagnostics.count', { n: 100, delayMs: 20 });
  const b = queue.submit('diagnostics.count', { n: 1 });
  await nextEvent(queue, (e) => e.jobId === a && e.type === 'started');
  assert.deepEqual(
    queue.list().map((j) => [j.id, j.status]),
    [[a, 'running'], [b, 'queued'], [done[2], 'done'], [done[1], 'done']],
  );
  assert.equal(queue.get(done[0]!), null, 'older finished jobs are forgotten');
  assert.deepEqual(queue.get(done[2]!)!.result, { counted: 0, workerRuns: 3 });
  assert.equal(queue.get(done[1]!)!.result, undefined, 'only the newest results stay in memory');
  const listed = queue.list()[0]!;
  listed.status = 'failed';
  assert.equal(queue.get(a)!.status, 'running', 'list returns copies');
});
