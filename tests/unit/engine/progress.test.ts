import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar } from '../../../src-main/cli/progress';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const out = { isTTY, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WriteStream;
  return { out, text: () => chunks.join('') };
}

test('on a terminal the bar redraws one line per stage and ends with a newline', () => {
  const s = sink(true);
  const bar = new ProgressBar(s.out, 10);
  bar.update({ stage: 'ar', done: 8, total: 16 });
  bar.update({ stage: 'ar', done: 16, total: 16 });
  bar.update({ stage: 'dit', done: 1, total: 4 });
  bar.done();
  const lines = s.text().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /\rimage tokens █████░░░░░ +8\/16 .*\rimage tokens ██████████ +16\/16/);
  assert.match(lines[1]!, /diffusion +███░░░░░░░ +1\/4/);
  assert.equal(lines[2], '');
});

test('without a terminal it prints one line per stage', () => {
  const s = sink(false);
  const bar = new ProgressBar(s.out);
  for (let i = 1; i <= 16; i++) bar.update({ stage: 'ar', done: i, total: 16 });
  bar.update({ stage: 'dit', done: 1, total: 2 });
  bar.update({ stage: 'decode', done: 0, total: 1 });
  bar.done();
  assert.equal(s.text(), 'image tokens…\ndiffusion…\ndecode…\n');
});
