// The desk kept in the page's storage, so a reload or a crash of the window loses no work. History
// itself lives in the core; this is only what is on the desk (saved-desk.ts says what and how).
import type { Desk, RestoredDesk } from './saved-desk';
import { EMPTY_DESK, parseDesk, serialiseDesk } from './saved-desk';

const KEY = 'atelier.studio.v1';

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: the studio works, it just forgets on reload
  }
}

export function restoreStudio(): RestoredDesk {
  try {
    return parseDesk(storage()?.getItem(KEY));
  } catch {
    return EMPTY_DESK;
  }
}

export function saveStudio(desk: Desk): void {
  const store = storage();
  if (!store) return;
  try {
    store.setItem(KEY, serialiseDesk(desk));
  } catch {
    // Over the quota (a huge dropped image): keep what fits, the draft and the mask.
    try {
      store.setItem(KEY, serialiseDesk({ ...desk, current: desk.current?.url.startsWith('data:') ? null : desk.current, results: [] }));
    } catch {
      /* nothing more to do: the studio still works, it only forgets on reload */
    }
  }
}
