import { useCallback, useEffect, useState } from 'react';
import type { HistoryItem } from '../../src-shared/contract';
import { atelier, describeError, unwrap } from '../api/client';
import type { JobsState } from '../hooks/useJobs';

export function HistoryList({ jobs, onSelect }: { jobs: JobsState; onSelect: (item: HistoryItem) => void }) {
  const [items, setItems] = useState<HistoryItem[]>([]);
  const [text, setText] = useState('');
  const [favouritesOnly, setFavouritesOnly] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const page = await unwrap(
        atelier().history.list({ limit: 50, ...(text.trim() ? { text: text.trim() } : {}), ...(favouritesOnly ? { favourite: true } : {}) }),
      );
      setItems(page.items);
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [text, favouritesOnly]);

  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => jobs.onResult(() => void load()), [jobs, load]);

  async function toggleFavourite(item: HistoryItem) {
    try {
      const updated = await unwrap(atelier().history.setFavourite({ id: item.id, favourite: !item.favourite }));
      setItems((current) => current.map((i) => (i.id === updated.id ? updated : i)));
    } catch (e) {
      setError(describeError(e));
    }
  }

  async function remove(item: HistoryItem) {
    try {
      await unwrap(atelier().history.delete({ id: item.id }));
      setItems((current) => current.filter((i) => i.id !== item.id));
    } catch (e) {
      setError(describeError(e));
    }
  }

  return (
    <section className="panel history-panel" aria-label="History">
      <h2>History</h2>
      <div className="row history-filters">
        <input type="search" placeholder="Search prompts" value={text} onChange={(e) => setText(e.target.value)} aria-label="Search prompts" />
        <label className="inline">
          <input type="checkbox" checked={favouritesOnly} onChange={(e) => setFavouritesOnly(e.target.checked)} /> ★ only
        </label>
      </div>
      {error && <p className="error">{error}</p>}
      {items.length === 0 ? <p className="muted">Nothing here yet.</p> : (
        <ul className="history-list">
          {items.map((item) => {
            const image = item.images.find((i) => i.role === 'output');
            return (
              <li key={item.id} className="history-item" data-testid="history-item">
                {image ? (
                  <button type="button" className="thumb" onClick={() => onSelect(item)} aria-label={`show ${item.prompt}`}>
                    <img src={image.url} alt="" loading="lazy" />
                  </button>
                ) : <div className="thumb-placeholder">{item.status}</div>}
                <div className="history-text">
                  <p className="history-prompt" title={item.prompt}>{item.prompt}</p>
                  <p className="muted">seed {item.seed} · {item.modelName}</p>
                </div>
                <div className="history-actions">
                  <button type="button" className={item.favourite ? 'star on' : 'star'} aria-label="favourite" onClick={() => toggleFavourite(item)}>★</button>
                  <button type="button" aria-label="delete" onClick={() => remove(item)}>✕</button>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
