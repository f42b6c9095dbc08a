// Native file dialogs. Their option objects are plain data (dialog-options.ts); these wrappers only
// show them and read the chosen image.
import { readFile } from 'node:fs/promises';
import type { BrowserWindow } from 'electron';
import { dialog } from 'electron';
import { chooseFolderOptions, isPng, openImageOptions, saveImageOptions } from './dialog-options';

/** Asks for a PNG and returns its bytes, or null when cancelled or not a PNG. */
export async function openImageDialog(window: BrowserWindow): Promise<{ name: string; png: Buffer } | null> {
  const result = await dialog.showOpenDialog(window, openImageOptions());
  const path = result.canceled ? undefined : result.filePaths[0];
  if (!path) return null;
  const bytes = await readFile(path);
  if (!isPng(bytes)) {
    await dialog.showMessageBox(window, { type: 'warning', message: 'That file is not a PNG image.', detail: path });
    return null;
  }
  return { name: path.split(/[\\/]/).pop() ?? 'image.png', png: bytes };
}

export async function chooseFolderDialog(window: BrowserWindow, title: string): Promise<string | null> {
  const result = await dialog.showOpenDialog(window, chooseFolderOptions(title));
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

export async function saveImageDialog(window: BrowserWindow, suggestedName: string): Promise<string | null> {
  const result = await dialog.showSaveDialog(window, saveImageOptions(suggestedName));
  return result.canceled ? null : (result.filePath ?? null);
}
