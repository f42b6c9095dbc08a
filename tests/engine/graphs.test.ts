// Every graph of the fixture bundle, run through onnxruntime-node, against the outputs the PyTorch
// modules gave on the same inputs (tests/fixtures/reference/graphs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Bundle } from '../../src-main/engine';
import type { GraphRole } from '../../src-main/engine';
import { TensorLedger } from '../../src-main/engine/runtime/ledger';
import { FIXTURE_BUNDLE, REFERENCE_DIR, maxAbsDiff, readSafetensors } from './helpers';

const index = path.join(REFERENCE_DIR, 'graphs.json');
const skip = !existsSync(index) && 'reference fixtures not generated';
const cases = skip ? {} : (JSON.parse(readFileSync(index, 'utf8')) as Record<string, { role: GraphRole; file: string }>);
const bundleP = skip ? null : Bundle.open(FIXTURE_BUNDLE, { executionProvider: 'cpu', threads: 1 });
after(async () => (await bundleP)?.dispose());

for (const [name, c] of Object.entries(cases)) {
  test(`graph case ${name} (${c.role}) matches the PyTorch outputs`, async (t) => {
    const bundle = (await bundleP)!;
    const tensors = readSafetensors(path.join(REFERENCE_DIR, c.file));
    const feeds: Record<string, ort.Tensor> = {};
    const expected = new Map<string, Float32Array | BigInt64Array>();
    for (const [key, v] of tensors) {
      const [kind, tensorName] = [key.slice(0, key.indexOf('.')), key.slice(key.indexOf('.') + 1)];
      if (kind === 'input') feeds[tensorName] = new ort.Tensor(v.dtype === 'I64' ? 'int64' : 'float32', v.data as Float32Array, v.shape);
      else if (v.dtype !== 'U8') expected.set(tensorName, v.data);
    }
    const ledger = new TensorLedger();
    const out = await bundle.sessions.run(c.role, feeds, ledger);
    assert.deepEqual(Object.keys(out).sort(), [...expected.keys()].sort(), 'every output of the role');
    const errors: string[] = [];
    for (const [outName, ref] of expected) {
      const got = out[outName]!.data;
      if (ref instanceof BigInt64Array) assert.deepEqual(got, ref, `${outName} (int64) exactly`);
      else {
        const err = maxAbsDiff(got as Float32Array, ref);
        errors.push(`${outName} ${err.toExponential(1)}`);
        assert.ok(err < 1e-4, `${outName}: max error ${err}`);
      }
    }
    t.diagnostic(errors.join(', '));
    ledger.disposeAll(Object.values(out));
    assert.equal(ledger.liveCount, 0);
  });
}
