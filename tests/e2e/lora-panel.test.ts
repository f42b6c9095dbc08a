// End to end: LoRAs in the prompt panel (issue 6), in browser mode with the fixture bundle (it has
// LoRA graphs). A LoRA file is put in <dataDir>/loras/; the person picks it in the panel, sets its
// weight with the slider (keyboard), generates, finds the image in history under the LoRA filter
// (and not an image made without it), and "reuse parameters" brings the LoRA and weight back.
// Expects the renderer build in out/renderer (`npm run test:e2e` builds first).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { writeTestLora } from '../unit/contract/lora-helpers';
import type { Studio } from './harness';
import { FIXTURE_MODELS, generateFromPrompt, startStudio, useCpu } from './harness';

let studio: Studio;
let page: Page;

before(async () => {
  studio = await startStudio({ name: 'lora-panel', recordHttpErrors: true });
  page = studio.page;
  writeTestLora(join(FIXTURE_MODELS.dir, 'bundle-fixture'), join(studio.root, 'data', 'loras', 'ink.safetensors'), { seed: 5 });
});

after(() => studio?.close());

interface ItemLite {
  id: string;
  prompt: string;
  params: { loras?: { key: string; name: string; weight: number }[] };
}
const historyList = (query: unknown) =>
  page.evaluate(
    async (q) => ((await (globalThis as unknown as { atelier: { history: { list(i: unknown): Promise<{ data: { items: ItemLite[] } }> } } }).atelier.history.list(q)).data.items),
    query,
  );

const prompt = () => page.getByRole('form', { name: 'Prompt' });
const history = () => page.getByRole('region', { name: 'History' });


test('pick a LoRA with a weight, generate, find it in history under the LoRA filter, reuse it', { timeout: 120_000 }, async () => {
  await page.goto(studio.server.url);
  await useCpu(page);
  await prompt().locator('select[name=model]').selectOption('bundle-fixture');
  await prompt().locator('input[name=steps]').fill('2');

  const slot = page.locator('[data-slot=loras]');
  const add = slot.getByLabel('Add a LoRA');
  await add.locator('option[value="file:ink.safetensors"]').waitFor({ state: 'attached' });
  await add.selectOption('file:ink.safetensors');
  const chosen = slot.getByTestId('lora-chosen');
  assert.equal(await chosen.count(), 1);
  assert.equal(await chosen.getAttribute('data-key'), 'file:ink.safetensors');
  // The slider moves in 0.05 steps: five steps down from 1.
  const slider = slot.getByLabel('weight of ink', { exact: true });
  await slider.focus();
  for (let i = 0; i < 5; i++) await slider.press('ArrowLeft');
  assert.equal(await slot.getByLabel('weight value of ink').textContent(), '0.75');
  await studio.screenshot('lora-panel-picked');

  await generateFromPrompt(page, 'an ink fox');
  // Retries keep the choice.
  assert.equal(await chosen.count(), 1);
  assert.equal(await slot.getByLabel('weight value of ink').textContent(), '0.75');
  await history().getByTestId('history-item').filter({ hasText: 'an ink fox' }).filter({ hasText: 'ink 0.75' }).waitFor();

  // Without the LoRA: removed in the panel.
  await slot.getByRole('button', { name: 'remove ink' }).click();
  assert.equal(await chosen.count(), 0);
  await generateFromPrompt(page, 'a plain fox');

  const filter = history().getByLabel('Filter by LoRA');
  await filter.selectOption('file:ink.safetensors');
  await history().getByTestId('history-item').filter({ hasText: 'a plain fox' }).waitFor({ state: 'detached' });
  const shown = history().getByTestId('history-item');
  assert.equal(await shown.count(), 1);
  assert.match((await shown.first().textContent()) ?? '', /an ink fox/);
  await studio.screenshot('lora-panel-history-filter');

  // The same through the contract: the LoRA is in the item's params, the filter finds only it.
  const filtered = await historyList({ lora: 'file:ink.safetensors' });
  assert.deepEqual(filtered.map((i) => [i.prompt, i.params.loras]), [['an ink fox', [{ key: 'file:ink.safetensors', name: 'ink', weight: 0.75 }]]]);
  assert.equal((await historyList({})).length, 2);

  // Reuse parameters brings the LoRA and its weight back into the panel.
  await shown.first().getByRole('button', { name: 'reuse parameters' }).click();
  await chosen.first().waitFor();
  assert.equal(await chosen.getAttribute('data-key'), 'file:ink.safetensors');
  assert.equal(await slot.getByLabel('weight value of ink').textContent(), '0.75');
  assert.equal(await prompt().locator('textarea[name=prompt]').inputValue(), 'an ink fox');

  // Back to every image.
  await filter.selectOption('');
  await history().getByTestId('history-item').filter({ hasText: 'a plain fox' }).waitFor();
  assert.deepEqual(studio.pageErrors, []);
});
