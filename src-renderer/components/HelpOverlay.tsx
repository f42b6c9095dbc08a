// The keyboard shortcuts, shown with ? and closed with Esc.
import { GESTURES, SHORTCUTS } from '../studio/shortcuts';

export function HelpOverlay({ onClose }: { onClose(): void }) {
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onClick={onClose}>
      <div className="overlay-card" onClick={(e) => e.stopPropagation()}>
        <div className="lineage-head">
          <h2>Keyboard shortcuts</h2>
          <button type="button" onClick={onClose} aria-label="close help">✕</button>
        </div>
        <table className="shortcuts">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.action}><td><kbd>{s.keys}</kbd></td><td>{s.what}</td></tr>
            ))}
            {GESTURES.map((g) => (
              <tr key={g.keys}><td><kbd>{g.keys}</kbd></td><td>{g.what}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
