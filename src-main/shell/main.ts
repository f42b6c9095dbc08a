// The Electron shell: one window over the core. Everything here is wiring; the decisions (window
// options, trusted senders, link policy, image paths) live in pure modules beside it.
import { join } from 'node:path';
import type { BrowserWindow as BrowserWindowType } from 'electron';
import { BrowserWindow, Menu, app, ipcMain, shell } from 'electron';
import type { AtelierEvent } from '../../src-shared/contract';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from '../../src-shared/contract/route-names';
import { createApi } from '../api/index';
import type { OpenedCore } from '../api/open-core';
import { openCore } from '../api/open-core';
import { openImageDialog } from './dialogs';
import { menuTemplate } from './menu';
import { imageProtocolUrl } from './protocol-path';
import { handleProtocols, registerSchemes } from './protocols';
import { APP_INDEX_URL, ExternalLinkPolicy, isTrustedSender, isUserInput, windowOptions } from './security';

const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

let mainWindow: BrowserWindowType | null = null;
let opened: OpenedCore | null = null;

function sendEvent(event: AtelierEvent) {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(EVENT_CHANNEL, event);
}

function createWindow(): BrowserWindowType {
  // The build lives under the app path both in development and inside the packaged asar.
  const window = new BrowserWindow(windowOptions(join(app.getAppPath(), 'out', 'preload', 'index.cjs')));
  const contents = window.webContents;
  const links = new ExternalLinkPolicy();

  contents.on('input-event', (_event, input) => {
    if (isUserInput(input.type)) links.recordUserInput(Date.now());
  });
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (links.shouldOpen(url, Date.now())) void shell.openExternal(url);
    return { action: 'deny' };
  });
  // The studio needs no camera, microphone, notifications, geolocation…: refuse every permission.
  contents.session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  contents.session.setPermissionCheckHandler(() => false);

  window.once('ready-to-show', () => window.show());
  void window.loadURL(devServerUrl ?? APP_INDEX_URL);
  return window;
}

async function start() {
  const dataDir = app.getPath('userData');
  const bundledModels = app.isPackaged ? join(process.resourcesPath, 'models') : join(app.getAppPath(), 'resources', 'models');
  // The engine's default-model lookup (and the job worker, which inherits the environment) must find
  // the shipped bundle outside the asar too.
  process.env.ATELIER_MODELS_DIR ??= bundledModels;
  opened = openCore({
    dataDir,
    version: app.getVersion(),
    modelRoots: [
      { dir: join(dataDir, 'models'), origin: 'imported' },
      { dir: bundledModels, origin: 'bundled' },
    ],
    imageUrl: imageProtocolUrl,
  });
  const api = createApi(opened.core, {
    trustSender: (frame) => isTrustedSender(frame as { url: string; parent: unknown } | null, devServerUrl),
    onInternalError: (route, error) => console.error(`internal error in ${route}:`, error),
  });
  ipcMain.handle(INVOKE_CHANNEL, (event, route: unknown, input: unknown) => api.invoke(route, input, event.senderFrame));
  api.forwardEvents(sendEvent, (error) => console.error('dropped an off-contract job event', error));

  handleProtocols(join(app.getAppPath(), 'out', 'renderer'), dataDir);
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        isMac: process.platform === 'darwin',
        isDev: !app.isPackaged,
        actions: {
          openImage: () => {
            if (!mainWindow) return;
            void openImageDialog(mainWindow).then((image) => {
              if (image) sendEvent({ name: 'app.imageOpened', data: { name: image.name, png: `data:image/png;base64,${image.png.toString('base64')}` } });
            });
          },
        },
      }),
    ),
  );
  mainWindow = createWindow();
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerSchemes();
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  // No window may be created by anything but us.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    if (!opened) return;
    // Let the queue cancel its jobs and the store close cleanly before we go.
    event.preventDefault();
    const closing = opened;
    opened = null;
    void closing.close().finally(() => app.quit());
  });
  app.whenReady().then(start, (error: unknown) => {
    console.error(error);
    app.exit(1);
  });
}
