import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arThreadCount, SMALL_AR_HIDDEN } from '../../../src-main/engine/bundle/sessions';

test('a small AR decodes on one thread; a larger one keeps the configured threads', () => {
  assert.equal(arThreadCount(192, 2), 1); // the nano AR
  assert.equal(arThreadCount(SMALL_AR_HIDDEN, 4), 1);
  assert.equal(arThreadCount(SMALL_AR_HIDDEN + 1, 4), 4);
  assert.equal(arThreadCount(2048, undefined), undefined); // the provider's default then applies
});
