// What the native dialogs ask for, as plain data.
import type { OpenDialogOptions, SaveDialogOptions } from 'electron';

export function openImageOptions(): OpenDialogOptions {
  return { title: 'Open image', properties: ['openFile'], filters: [{ name: 'PNG images', extensions: ['png'] }] };
}

export function chooseFolderOptions(title: string): OpenDialogOptions {
  return { title, properties: ['openDirectory', 'createDirectory'] };
}

export function saveImageOptions(suggestedName: string): SaveDialogOptions {
  // Only a base name is suggested: a path in it could point the dialog somewhere surprising.
  const name = suggestedName.replace(/[\\/:*?"<>|\0]/g, '_').slice(0, 200) || 'image.png';
  return {
    title: 'Save image',
    defaultPath: name.toLowerCase().endsWith('.png') ? name : `${name}.png`,
    filters: [{ name: 'PNG image', extensions: ['png'] }],
    properties: ['showOverwriteConfirmation', 'createDirectory'],
  };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length > PNG_SIGNATURE.length && PNG_SIGNATURE.every((byte, i) => bytes[i] === byte);
}
