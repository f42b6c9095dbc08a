// The preload: exposes `window.atelier` (one object per domain, plus events.on) and nothing else.
// Every method sends (route, input) over the single invoke channel; the main process validates
// everything. It imports only the dependency-free route list so the sandboxed bundle stays tiny.
import { contextBridge, ipcRenderer } from 'electron';
import { EVENT_CHANNEL, INVOKE_CHANNEL, buildAtelierObject } from '../src-shared/contract/route-names';

const listeners = new Set<(event: unknown) => void>();
ipcRenderer.on(EVENT_CHANNEL, (_ipcEvent, event: unknown) => {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      console.error(error);
    }
  }
});

const atelier = buildAtelierObject(
  (route, input) => ipcRenderer.invoke(INVOKE_CHANNEL, route, input),
  (listener) => {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  },
);

contextBridge.exposeInMainWorld('atelier', atelier);
