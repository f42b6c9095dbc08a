// Child process for store-crash.test.ts: writes generations with image files (and deletes some)
// as fast as it can until it is killed. It prints one line per step, so the parent knows what was
// committed: "+ <id>" after a create committed; "? <id>" before a delete starts (from then on the row
// may or may not be there), "- <id>" after it committed.
import { randomBytes, randomInt } from 'node:crypto';
import { openStore } from '../../src-main/store/index';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: writer.ts DATA_DIR');
const store = openStore({ dataDir });
const alive: string[] = [];
process.stdout.write('ready\n');

for (;;) {
  if (alive.length > 3 && randomInt(5) === 0) {
    const [id] = alive.splice(randomInt(alive.length), 1);
    process.stdout.write(`? ${id}\n`);
    store.generations.delete(id!);
    process.stdout.write(`- ${id}\n`);
    continue;
  }
  // The bytes need not decode as images; what matters is that large files take a while to write,
  // so kills land in the middle of them. Sometimes an image repeats an existing one (reuse path).
  const images = Array.from({ length: 1 + randomInt(3) }, () => ({
    role: 'output' as const,
    data: randomBytes(65_536 + randomInt(1_048_576)),
    mime: 'image/png',
  }));
  const previous = alive.length > 0 ? store.generations.get(alive[alive.length - 1]!) : null;
  const reused = previous?.assets[0]?.asset.sha256;
  const g = store.generations.create({
    kind: reused ? 'edit' : 't2i',
    prompt: `crash test ${alive.length} ${randomBytes(4).toString('hex')}`,
    seed: randomInt(1_000_000),
    modelName: 'crash-test',
    parentId: previous?.id ?? null,
    images: reused ? [...images, { role: 'reference', sha256: reused }] : images,
  });
  alive.push(g.id);
  process.stdout.write(`+ ${g.id}\n`);
}
