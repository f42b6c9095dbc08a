// The history gallery: thumbnails, full-text search over prompts, favourites, filters by model,
// date and LoRA, delete (files removed too), the lineage of an edit chain as a tree, "reuse parameters" and
// "open in the canvas". "Select" turns thumbnails into checkboxes (Shift+click: a range; Esc leaves) and
// exports the selected images to a folder (batch.export with generationIds).
import { memo, useCallback, useEffect, useRef, useState } from 'react';
import type { AvailableLora, HistoryItem, HistoryQuery, ModelBundleInfo } from '../../src-shared/contract';
import { atelier, describeError, unwrap } from '../api/client';
import type { JobsState } from '../hooks/useJobs';
import type { LineageNode } from '../studio/lineage';
import { buildLineageTree } from '../studio/lineage';
import { lorasFromParams } from '../studio/draft';
import type { Selection } from '../studio/selection';
import { EMPTY_SELECTION, clickItem, exportFailures, exportOrder, exportSummary, isSelected, selectAll, without } from '../studio/selection';
import type { ExportChoice } from './ExportForm';
import { DEFAULT_EXPORT, ExportForm } from './ExportForm';

type DateFilter = 'any' | 'today' | 'week' | 'month';
const DAY = 24 * 60 * 60 * 1000;

function fromFor(filter: DateFilter, now = Date.now()): number | undefined {
  if (filter === 'today') {
    const d = new Date(now);
    d.setHours(0, 0, 0, 0);
    return d.getTime();
  }
  if (filter === 'week') return now - 7 * DAY;
  if (filter === 'month') return now - 30 * DAY;
  return undefined;
}

const outputOf = (item: HistoryItem) => item.images.find((i) => i.role === 'output');

/** The LoRAs an item used, with the names history recorded (params.loras: [{ key, name, weight }]). */
function usedLoras(item: HistoryItem): { key: string; name: string; weight: number }[] {
  const recorded = Array.isArray(item.params.loras) ? (item.params.loras as { key?: unknown; name?: unknown }[]) : [];
  return lorasFromParams(item.params).map((l) => {
    const name = recorded.find((r) => r?.key === l.key)?.name;
    return { ...l, name: typeof name === 'string' ? name : l.key.replace(/^(run|file):/, '') };
  });
}

interface HistoryGalleryProps {
  /** Subscribes to finished jobs (to refresh); returns unsubscribe. */
  onJobResult: JobsState['onResult'];
  models: ModelBundleInfo[];
  /** LoRAs that exist now (lora.available); the filter also offers those seen in the listed items. */
  loras: AvailableLora[];
  /** Bumped by the studio when history changed elsewhere (a result placed, an item deleted). */
  refreshKey: number;
  currentId: string | null;
  onOpen(item: HistoryItem): void | Promise<void>;
  onReuse(item: HistoryItem): void;
  onDeleted(item: HistoryItem): void;
}

/** Memoised: the studio re-renders on every job event, the gallery only when its props change. */
export const HistoryGallery = memo(function HistoryGallery(props: HistoryGalleryProps) {
  const { onJobResult } = props;
  const [items, setItems] = useState<HistoryItem[]>([]);
  const [text, setText] = useState('');
  const [favouritesOnly, setFavouritesOnly] = useState(false);
  const [model, setModel] = useState('');
  const [lora, setLora] = useState('');
  const [date, setDate] = useState<DateFilter>('any');
  const [error, setError] = useState<string | null>(null);
  const [lineage, setLineage] = useState<{ of: string; tree: LineageNode<HistoryItem> } | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  // Selection mode: a click on a thumbnail selects instead of opening.
  const [selecting, setSelecting] = useState(false);
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [exportChoice, setExportChoice] = useState<ExportChoice>(DEFAULT_EXPORT);
  const [exporting, setExporting] = useState(false);
  const [exported, setExported] = useState<{ summary: string; failures: string[] } | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);

  // Only the newest request may fill the list (typing sends one per key; answers can cross).
  const latest = useRef(0);
  const load = useCallback(async (cursor: string | null = null) => {
    const ticket = ++latest.current;
    const from = fromFor(date);
    const query: HistoryQuery = {
      limit: 60,
      ...(cursor ? { cursor } : {}),
      ...(text.trim() ? { text: text.trim() } : {}),
      ...(favouritesOnly ? { favourite: true } : {}),
      ...(model ? { model } : {}),
      ...(lora ? { lora } : {}),
      ...(from !== undefined ? { from } : {}),
    };
    try {
      const page = await unwrap(atelier().history.list(query));
      if (ticket !== latest.current) return;
      setItems((current) => (cursor ? [...current, ...page.items.filter((i) => !current.some((c) => c.id === i.id))] : page.items));
      setNextCursor(page.nextCursor);
      setError(null);
    } catch (e) {
      if (ticket === latest.current) setError(`Could not load the history: ${describeError(e)}`);
    } finally {
      setLoaded(true);
    }
  }, [text, favouritesOnly, model, lora, date]);

  useEffect(() => {
    void load();
  }, [load, props.refreshKey]);
  useEffect(() => onJobResult(() => void load()), [onJobResult, load]);
  const [loadingMore, setLoadingMore] = useState(false);
  async function loadMore() {
    if (!nextCursor) return;
    setLoadingMore(true);
    await load(nextCursor);
    setLoadingMore(false);
  }

  const leaveSelection = useCallback(() => {
    setSelecting(false);
    setSelection(EMPTY_SELECTION);
    setExported(null);
    setExportError(null);
  }, []);
  // Esc leaves selection mode, unless a dialog (the shortcuts help) is open or a text field has the focus.
  useEffect(() => {
    if (!selecting) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || document.querySelector('[aria-modal="true"]')) return;
      const t = e.target as HTMLElement | null;
      const typing = !!t && (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || (t.tagName === 'INPUT' && !['range', 'checkbox', 'radio', 'button'].includes((t as HTMLInputElement).type)));
      if (!typing) leaveSelection();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selecting, leaveSelection]);

  // Only items with an image can be selected (and exported).
  const shownIds = items.filter((i) => outputOf(i)).map((i) => i.id);
  const shownSet = new Set(shownIds);
  const hiddenSelected = selection.ids.filter((id) => !shownSet.has(id)).length;

  async function exportSelected(choice: ExportChoice) {
    const generationIds = exportOrder(selection, shownIds);
    if (!generationIds.length) return;
    setExporting(true);
    setExported(null);
    setExportError(null);
    try {
      const result = await unwrap(atelier().batch.export({ generationIds, outDir: choice.outDir, format: choice.format, zip: choice.zip }));
      setExported({ summary: exportSummary(result), failures: exportFailures(result, (id) => items.find((i) => i.id === id)?.prompt) });
    } catch (e) {
      setExportError(`Could not export: ${describeError(e)}`);
    } finally {
      setExporting(false);
    }
  }

  async function toggleFavourite(item: HistoryItem) {
    try {
      const updated = await unwrap(atelier().history.setFavourite({ id: item.id, favourite: !item.favourite }));
      setItems((current) => current.map((i) => (i.id === updated.id ? updated : i)));
    } catch (e) {
      setError(`Could not change the favourite: ${describeError(e)}`);
    }
  }

  async function remove(item: HistoryItem) {
    try {
      await unwrap(atelier().history.delete({ id: item.id }));
      setItems((current) => current.filter((i) => i.id !== item.id));
      setSelection((current) => without(current, [item.id]));
      if (lineage) setLineage(null);
      props.onDeleted(item);
    } catch (e) {
      setError(`Could not delete: ${describeError(e)}`);
    }
  }

  async function showLineage(item: HistoryItem) {
    if (lineage?.of === item.id) return setLineage(null);
    try {
      const first = await unwrap(atelier().history.lineage({ id: item.id }));
      const root = first.ancestors[first.ancestors.length - 1] ?? item;
      const all = root.id === item.id ? first : await unwrap(atelier().history.lineage({ id: root.id }));
      setLineage({ of: item.id, tree: buildLineageTree(root, all.descendants) });
    } catch (e) {
      setError(`Could not load the lineage: ${describeError(e)}`);
    }
  }

  // Model names in history are the bundle's name; offer those seen plus the installed ones.
  const modelNames = [...new Set([...props.models.map((m) => m.name), ...items.map((i) => i.modelName)])].sort();
  // LoRAs by key: the available ones, plus any a listed item used (a deleted file stays filterable).
  const loraNames = new Map(props.loras.map((l) => [l.key, l.name]));
  for (const item of items) {
    for (const used of usedLoras(item)) if (!loraNames.has(used.key)) loraNames.set(used.key, used.name);
  }
  if (lora && !loraNames.has(lora)) loraNames.set(lora, lora.replace(/^(run|file):/, ''));

  return (
    <section className={selecting ? 'panel history-panel selecting' : 'panel history-panel'} aria-label="History">
      <div className="history-head">
        <h2>History</h2>
        <button
          type="button"
          className={selecting ? 'select-toggle on' : 'select-toggle'}
          aria-pressed={selecting}
          title={selecting ? 'Leave selection (Esc)' : 'Select images to export them'}
          onClick={() => (selecting ? leaveSelection() : setSelecting(true))}
        >
          Select
        </button>
      </div>
      <div className="history-filters">
        <input type="search" placeholder="Search prompts" value={text} onChange={(e) => setText(e.target.value)} aria-label="Search prompts" />
        <div className="row">
          <select aria-label="Filter by model" value={model} onChange={(e) => setModel(e.target.value)}>
            <option value="">all models</option>
            {modelNames.map((name) => <option key={name} value={name}>{name}</option>)}
          </select>
          <select aria-label="Filter by date" value={date} onChange={(e) => setDate(e.target.value as DateFilter)}>
            <option value="any">any time</option>
            <option value="today">today</option>
            <option value="week">last 7 days</option>
            <option value="month">last 30 days</option>
          </select>
        </div>
        <div className="row">
          <select aria-label="Filter by LoRA" value={lora} onChange={(e) => setLora(e.target.value)}>
            <option value="">any LoRA</option>
            {[...loraNames].sort((a, b) => a[1].localeCompare(b[1])).map(([key, name]) => <option key={key} value={key}>{name}</option>)}
          </select>
          <label className="inline">
            <input type="checkbox" checked={favouritesOnly} onChange={(e) => setFavouritesOnly(e.target.checked)} /> ★ only
          </label>
        </div>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {selecting && (
        <div className="history-selection" data-testid="history-selection">
          <div className="history-selection-head">
            <span data-testid="selection-count">
              {selection.ids.length} selected{hiddenSelected ? ` (${hiddenSelected} not shown)` : ''}
            </span>
            <button type="button" className="link" onClick={() => setSelection((current) => selectAll(current, shownIds))} disabled={!shownIds.length}>Select all (shown)</button>
            <button type="button" className="link" onClick={() => setSelection(EMPTY_SELECTION)} disabled={!selection.ids.length}>Clear</button>
          </div>
          {selection.ids.length === 0 ? (
            <p className="muted small">Click images to select them, Shift+click for a range; Esc leaves.</p>
          ) : (
            <ExportForm
              label="Export selected"
              value={exportChoice}
              onChange={setExportChoice}
              onExport={(choice) => void exportSelected(choice)}
              busy={exporting}
              what={`${selection.ids.length} image${selection.ids.length === 1 ? '' : 's'}`}
            />
          )}
          {exported && (
            <div className="muted small" role="status" data-testid="history-exported">
              <p>{exported.summary}</p>
              {exported.failures.length > 0 && <ul className="error">{exported.failures.map((f, i) => <li key={i}>{f}</li>)}</ul>}
            </div>
          )}
          {exportError && <p className="error" data-testid="history-export-error">{exportError}</p>}
        </div>
      )}
      {lineage && (
        <div className="lineage" data-testid="lineage" aria-label="Lineage">
          <div className="lineage-head">
            <strong>Lineage</strong>
            <button type="button" className="link" onClick={() => setLineage(null)}>close</button>
          </div>
          <LineageTree node={lineage.tree} selected={lineage.of} currentId={props.currentId} onOpen={props.onOpen} />
        </div>
      )}
      {items.length === 0 ? <p className="muted">{loaded ? 'Nothing here yet.' : 'Loading…'}</p> : (
        <ul className="history-grid">
          {items.map((item) => {
            const image = outputOf(item);
            const checked = selecting && isSelected(selection, item.id);
            const classes = ['history-item', item.id === props.currentId ? 'current' : '', checked ? 'selected' : ''].filter(Boolean).join(' ');
            return (
              <li key={item.id} className={classes} data-testid="history-item" data-id={item.id}>
                {image && selecting ? (
                  <button
                    type="button"
                    role="checkbox"
                    aria-checked={checked}
                    className={checked ? 'thumb selectable on' : 'thumb selectable'}
                    onClick={(e) => setSelection((current) => clickItem(current, shownIds, item.id, e.shiftKey))}
                    aria-label={`select ${item.prompt}`}
                    title="Select (Shift+click: a range)"
                  >
                    <img src={image.url} alt="" loading="lazy" />
                    <span className="check" aria-hidden="true">{checked ? '✓' : ''}</span>
                  </button>
                ) : image ? (
                  <button type="button" className="thumb" onClick={() => props.onOpen(item)} aria-label={`open ${item.prompt}`} title="Open in the canvas">
                    <img src={image.url} alt="" loading="lazy" />
                  </button>
                ) : <div className="thumb-placeholder">{item.status}</div>}
                <div className="history-text">
                  <p className="history-prompt" title={item.prompt}>{item.prompt}</p>
                  <p className="muted small">
                    {item.kind} · seed {item.seed} · {item.modelName}
                    {usedLoras(item).map((l) => ` · ${l.name} ${l.weight.toFixed(2)}`).join('')}
                  </p>
                  <div className="history-actions">
                    <button type="button" className={item.favourite ? 'star on' : 'star'} aria-label="favourite" aria-pressed={item.favourite} onClick={() => toggleFavourite(item)}>★</button>
                    <button type="button" aria-label="reuse parameters" title="Reuse parameters" onClick={() => props.onReuse(item)}>Reuse</button>
                    <button type="button" aria-label="lineage" title="Show the edit chain" onClick={() => showLineage(item)}>Tree</button>
                    <button type="button" aria-label="delete" title="Delete (the file too)" onClick={() => remove(item)}>✕</button>
                  </div>
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {nextCursor && items.length > 0 && (
        <button type="button" className="load-more" onClick={() => void loadMore()} disabled={loadingMore}>
          {loadingMore ? 'Loading…' : 'Show older'}
        </button>
      )}
    </section>
  );
});

function LineageTree({ node, selected, currentId, onOpen }: { node: LineageNode<HistoryItem>; selected: string; currentId: string | null; onOpen(item: HistoryItem): void | Promise<void> }) {
  const image = outputOf(node.item);
  return (
    <ul className="lineage-tree">
      <li>
        <button
          type="button"
          className={['lineage-node', node.item.id === selected ? 'selected' : '', node.item.id === currentId ? 'current' : ''].join(' ')}
          onClick={() => onOpen(node.item)}
          data-testid="lineage-node"
          data-id={node.item.id}
          title={`${node.item.kind}: ${node.item.prompt}`}
        >
          {image && <img src={image.url} alt="" />}
          <span>{node.item.kind}: {node.item.prompt}</span>
        </button>
        {node.children.length > 0 && node.children.map((child) => (
          <LineageTree key={child.item.id} node={child} selected={selected} currentId={currentId} onOpen={onOpen} />
        ))}
      </li>
    </ul>
  );
}
