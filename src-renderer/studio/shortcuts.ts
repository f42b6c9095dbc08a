// Keyboard shortcuts: one table, used both by the key handler and by the help overlay (?).
export type ShortcutAction =
  | 'generate' | 'undo' | 'redo' | 'brush' | 'eraser' | 'smaller' | 'larger'
  | 'zoomIn' | 'zoomOut' | 'fit' | 'invert' | 'compare' | 'toggleMask' | 'help' | 'close';

export interface Shortcut {
  action: ShortcutAction;
  keys: string;
  what: string;
}

export const SHORTCUTS: Shortcut[] = [
  { action: 'generate', keys: 'Enter (in the prompt) · Ctrl+Enter', what: 'Run the job (generate / edit / inpaint / outpaint)' },
  { action: 'undo', keys: 'Ctrl+Z', what: 'Undo (strokes, mask commands, results placed)' },
  { action: 'redo', keys: 'Ctrl+Shift+Z · Ctrl+Y', what: 'Redo' },
  { action: 'brush', keys: 'B', what: 'Mask brush' },
  { action: 'eraser', keys: 'E', what: 'Mask eraser' },
  { action: 'smaller', keys: '[', what: 'Smaller brush' },
  { action: 'larger', keys: ']', what: 'Larger brush' },
  { action: 'zoomIn', keys: '+', what: 'Zoom in (or the mouse wheel)' },
  { action: 'zoomOut', keys: '-', what: 'Zoom out' },
  { action: 'fit', keys: '0', what: 'Fit the image' },
  { action: 'invert', keys: 'I', what: 'Invert the mask' },
  { action: 'toggleMask', keys: 'M', what: 'Show / hide the mask' },
  { action: 'compare', keys: 'C', what: 'Before / after compare' },
  { action: 'help', keys: '?', what: 'This help' },
  { action: 'close', keys: 'Esc', what: 'Close this help' },
];

/** Space-drag and middle-drag pan; they are pointer gestures, listed in the help separately. */
export const GESTURES = [
  { keys: 'Space + drag · middle-drag', what: 'Pan' },
  { keys: 'Wheel', what: 'Zoom at the pointer' },
  { keys: 'Drop an image', what: 'Open it; a PNG\u2019s parameters can be reused' },
];

export interface KeyInfo {
  key: string;
  ctrl: boolean;
  shift: boolean;
  alt: boolean;
  /** The focus is in a text field: plain keys type there. */
  typing: boolean;
}

/** Which shortcut a key press means, if any. */
export function shortcutFor(k: KeyInfo): ShortcutAction | null {
  if (k.alt) return null;
  const key = k.key.length === 1 ? k.key.toLowerCase() : k.key;
  if (k.ctrl) {
    if (key === 'Enter') return 'generate';
    if (k.typing) return null; // the text field's own undo
    if (key === 'z') return k.shift ? 'redo' : 'undo';
    if (key === 'y') return 'redo';
    return null;
  }
  if (key === 'Escape') return 'close';
  if (k.typing) return null;
  switch (key) {
    case 'b': return 'brush';
    case 'e': return 'eraser';
    case '[': return 'smaller';
    case ']': return 'larger';
    case '+': case '=': return 'zoomIn';
    case '-': case '_': return 'zoomOut';
    case '0': return 'fit';
    case 'i': return 'invert';
    case 'm': return 'toggleMask';
    case 'c': return 'compare';
    case '?': return 'help';
    default: return null;
  }
}
