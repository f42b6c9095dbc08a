// `node --import tsx src-main/server/main.ts [--port N] [--host H] [--data DIR]`: browser mode
// without the CLI. Prints the URL (with its token) to open.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from './data-dir';
import { repoRoot } from './package-info';
import { startServer } from './server';

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string' },
      renderer: { type: 'string' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got ${values.port}`);
  const server = await startServer({
    port,
    host: values.host,
    dataDir: values.data ?? defaultDataDir(),
    rendererDir: values.renderer ?? join(repoRoot(), 'out', 'renderer'),
    log: (message) => console.error(message),
  });
  console.log(`Atelier is running at ${server.url}`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
