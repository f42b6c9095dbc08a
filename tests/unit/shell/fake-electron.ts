// A recording stand-in for the `electron` module, so the shell's wiring (main.ts) runs in plain
// Node: every call the shell makes is kept for the test to inspect and drive.
type Listener = (...args: unknown[]) => unknown;

export const recorded = {
  singleInstanceLockRequested: false,
  schemes: [] as unknown[],
  protocolHandlers: new Map<string, (request: Request) => Response | Promise<Response>>(),
  ipcHandlers: new Map<string, Listener>(),
  appListeners: new Map<string, Listener[]>(),
  windows: [] as FakeBrowserWindow[],
  menu: null as unknown,
  openedExternally: [] as string[],
  quitCalls: 0,
};

export const paths = { userData: '', appPath: '' };

let markReady: () => void = () => {};
const readyPromise = new Promise<void>((resolve) => {
  markReady = resolve;
});
export function becomeReady(): void {
  markReady();
}

export const app = {
  isPackaged: false,
  requestSingleInstanceLock: () => {
    recorded.singleInstanceLockRequested = true;
    return true;
  },
  getPath: (name: string) => {
    if (name !== 'userData') throw new Error(`unexpected getPath(${name})`);
    return paths.userData;
  },
  getAppPath: () => paths.appPath,
  getVersion: () => '9.9.9-test',
  on: (event: string, listener: Listener) => {
    recorded.appListeners.set(event, [...(recorded.appListeners.get(event) ?? []), listener]);
  },
  whenReady: () => readyPromise,
  quit: () => {
    recorded.quitCalls++;
  },
  exit: (code: number) => {
    throw new Error(`app.exit(${code})`);
  },
};

export const protocol = {
  registerSchemesAsPrivileged: (schemes: unknown[]) => {
    recorded.schemes.push(...schemes);
  },
  handle: (scheme: string, handler: (request: Request) => Response | Promise<Response>) => {
    recorded.protocolHandlers.set(scheme, handler);
  },
};

export const ipcMain = {
  handle: (channel: string, handler: Listener) => {
    recorded.ipcHandlers.set(channel, handler);
  },
};

export class FakeWebContents {
  readonly listeners = new Map<string, Listener>();
  openHandler: Listener | null = null;
  readonly sent: { channel: string; payload: unknown }[] = [];
  permissionRequestHandler: Listener | null = null;
  permissionCheckHandler: Listener | null = null;
  readonly session = {
    setPermissionRequestHandler: (handler: Listener) => {
      this.permissionRequestHandler = handler;
    },
    setPermissionCheckHandler: (handler: Listener) => {
      this.permissionCheckHandler = handler;
    },
  };
  on(event: string, listener: Listener) {
    this.listeners.set(event, listener);
    return this;
  }
  setWindowOpenHandler(handler: Listener) {
    this.openHandler = handler;
  }
  send(channel: string, payload: unknown) {
    this.sent.push({ channel, payload });
  }
}

export class FakeBrowserWindow {
  readonly webContents = new FakeWebContents();
  loadedUrl: string | null = null;
  constructor(readonly options: unknown) {
    recorded.windows.push(this);
  }
  loadURL(url: string) {
    this.loadedUrl = url;
    return Promise.resolve();
  }
  once() {}
  on() {}
  show() {}
  focus() {}
  restore() {}
  isMinimized() {
    return false;
  }
  isDestroyed() {
    return false;
  }
}
export { FakeBrowserWindow as BrowserWindow };

export const Menu = {
  buildFromTemplate: (template: unknown) => template,
  setApplicationMenu: (menu: unknown) => {
    recorded.menu = menu;
  },
};

export const shell = {
  openExternal: (url: string) => {
    recorded.openedExternally.push(url);
    return Promise.resolve();
  },
};

export const dialog = {
  showOpenDialog: () => Promise.resolve({ canceled: true, filePaths: [] }),
  showSaveDialog: () => Promise.resolve({ canceled: true }),
  showMessageBox: () => Promise.resolve({ response: 0 }),
};

export const contextBridge = { exposeInMainWorld: () => {} };
export const ipcRenderer = { invoke: () => Promise.resolve(), on: () => {} };
