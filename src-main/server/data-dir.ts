// Where browser mode and the CLI keep their data when not told: the same folder Electron's
// app.getPath('userData') uses for a product named Atelier, so both hosts share one history.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(): string {
  if (process.env.ATELIER_DATA_DIR) return process.env.ATELIER_DATA_DIR;
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Atelier');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Atelier');
  return join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Atelier');
}
