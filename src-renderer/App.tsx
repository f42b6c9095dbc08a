// The studio: prompt panel, canvas with its tools, job queue, settings and history. It ties the
// canvas document (undo history) to jobs: a job started here remembers what it started from, and its
// result becomes the current image, a child of its source.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { DragEvent } from 'react';
import type { AppInfo, ExecutionProvider, HistoryItem, JobSubmission, ModelBundleInfo } from '../src-shared/contract';
import { AtelierEvent } from '../src-shared/contract';
import { atelier, describeError, unwrap } from './api/client';
import type { CanvasImage, CanvasRecord, ResultRecord } from './canvas/document';
import { canvasActions, currentOf, resultsOf, strokesOf } from './canvas/document';
import { MaskRaster, invertMask, maskedCount, rasterise } from './canvas/mask-raster';
import { imageStroke } from './canvas/strokes';
import type { Stroke } from './canvas/strokes';
import { CanvasToolbar } from './components/CanvasToolbar';
import type { CanvasCommands, Margins, Tool } from './components/CanvasView';
import { CanvasView } from './components/CanvasView';
import { HelpOverlay } from './components/HelpOverlay';
import { HistoryGallery } from './components/HistoryGallery';
import { BatchPanel } from './batch/BatchPanel';
import { JobsPanel } from './components/JobsPanel';
import { PromptPanel } from './components/PromptPanel';
import { SettingsPanel } from './components/SettingsPanel';
import { LoraWizard } from './lora/LoraWizard';
import { useAvailableLoras } from './lora/useAvailableLoras';
import { useCanvasDocument } from './hooks/useCanvasDocument';
import type { JobView } from './hooks/useJobs';
import { useJobs } from './hooks/useJobs';
import { useSettings } from './hooks/useSettings';
import type { DraftPatch, Mode, PromptDraft } from './studio/draft';
import { MAX_SEED, describePatch, loraChoicesOf, lorasFromImage, patchFromHistoryItem, patchFromImageParameters } from './studio/draft';
import { restoreStudio, saveStudio } from './studio/persist';
import { dataUrlToFile, fileToPng, maskFromFile, maskToPngDataUrl } from './studio/image-files';
import { shortcutFor } from './studio/shortcuts';

type SidePanel = 'jobs' | 'settings';

/** What a job started from the canvas needs when its result arrives. */
interface CanvasJob {
  mode: Mode;
  source: CanvasImage | null;
  /** Outpaint: how far the old pixels moved right and down. */
  shift: { dx: number; dy: number };
}

interface Notice {
  text: string;
  patch?: DraftPatch;
}

const modeLabel: Record<Mode, string> = { generate: 'Generate', edit: 'Edit', inpaint: 'Inpaint', outpaint: 'Outpaint' };

export function App() {
  const restored = useMemo(() => restoreStudio(), []);
  const settings = useSettings();
  const jobs = useJobs();
  const doc = useCanvasDocument();
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [models, setModels] = useState<ModelBundleInfo[]>([]);
  const [side, setSide] = useState<SidePanel>('jobs');
  const [loraOpen, setLoraOpen] = useState(false);
  const availableLoras = useAvailableLoras();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [draft, setDraft] = useState<PromptDraft>(restored.draft);
  const [submitting, setSubmitting] = useState(false);
  const [tool, setTool] = useState<Tool>('brush');
  const [brushSize, setBrushSize] = useState(8);
  const [hardness, setHardness] = useState(1);
  const [maskVisible, setMaskVisible] = useState(true);
  const [resultsVisible, setResultsVisible] = useState(true);
  const [compare, setCompare] = useState<number | null>(null);
  const [outpaint, setOutpaint] = useState<Margins>({ left: 0, top: 0, right: 16, bottom: 0 });
  const [help, setHelp] = useState(false);
  const [historyKey, setHistoryKey] = useState(0);
  const canvasJobs = useRef(new Map<string, CanvasJob>());
  const reportedFailures = useRef(new Set<string>());
  const commands = useRef<CanvasCommands>(null);

  useEffect(() => {
    unwrap(atelier().app.info()).then(setInfo, (e: unknown) => setError(`The studio cannot reach its core: ${describeError(e)}`));
    unwrap(atelier().models.list()).then(({ models: list }) => setModels(list), (e: unknown) => setError(`Could not list the models: ${describeError(e)}`));
  }, []);

  const theme = settings.settings?.theme ?? 'system';
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  // The settings give the defaults until the person changes the fields.
  const seededFromSettings = useRef(restored.fromStorage);
  useEffect(() => {
    const s = settings.settings;
    if (!s || seededFromSettings.current) return;
    seededFromSettings.current = true;
    setDraft((d) => ({ ...d, steps: s.defaultSteps, cfg: s.defaultCfg, seedLocked: s.seedMode !== 'random' }));
  }, [settings.settings]);

  const usable = useMemo(() => models.filter((m) => m.problem === null), [models]);
  const chosenModel = usable.find((m) => m.id === draft.model) ?? usable.find((m) => m.id === 'atelier-nano') ?? usable[0] ?? null;

  const current = currentOf(doc.records);
  const strokes = useMemo(() => strokesOf(doc.records), [doc.records]);
  const results = useMemo(() => resultsOf(doc.records), [doc.records]);
  const maskSize = current ?? chosenModel?.image ?? { width: 512, height: 512 };
  // Incremental: one new stroke rasterises only itself.
  const width = current?.width ?? 0;
  const height = current?.height ?? 0;
  const raster = useMemo(() => (width > 0 && height > 0 ? new MaskRaster(width, height) : null), [width, height]);
  const masked = useMemo(() => (raster ? maskedCount(raster.update(strokes)) : 0), [raster, strokes]);

  // Saved work comes back once its history items are known to exist (deleted ones are left out).
  const [restoring, setRestoring] = useState(true);
  useEffect(() => {
    let live = true;
    const images = restored.records.flatMap((r) => (r.typeName === 'stroke' || !r.image ? [] : [r.image]));
    const ids = [...new Set(images.flatMap((image) => [image.generationId, image.parentId]).filter((id): id is string => id !== null))];
    Promise.all(ids.map((id) => atelier().history.get({ id }).then((r) => (r.ok ? id : null), () => null))).then((found) => {
      if (!live) return;
      const alive = new Set(found.filter((id): id is string => id !== null));
      const keep = (image: CanvasImage | null) => !!image && (image.generationId === null || alive.has(image.generationId));
      // A deleted parent takes the before/after compare with it.
      const checked = (image: CanvasImage): CanvasImage => (image.parentId && !alive.has(image.parentId) ? { ...image, parentUrl: null } : image);
      doc.history.reset(restored.records.flatMap((r): CanvasRecord[] => {
        if (r.typeName === 'current') return [{ ...r, image: r.image && keep(r.image) ? checked(r.image) : null }];
        if (r.typeName === 'result') return keep(r.image) ? [{ ...r, image: checked(r.image) }] : [];
        return [r];
      }));
      setRestoring(false);
    });
    return () => {
      live = false;
    };
  }, [restored, doc.history]);

  // The desk survives a reload: saved a moment after each change.
  useEffect(() => {
    if (restoring) return;
    const timer = setTimeout(() => saveStudio({ draft, current, strokes, results: results.map((r) => r.image) }), 250);
    return () => clearTimeout(timer);
  }, [draft, current, strokes, results, restoring]);

  const changeDraft = useCallback((patch: Partial<PromptDraft>) => setDraft((d) => ({ ...d, ...patch })), []);

  // ---- images onto the canvas ----------------------------------------------------------------
  const imageFromItem = useCallback(async (item: HistoryItem): Promise<CanvasImage | null> => {
    const output = item.images.find((i) => i.role === 'output');
    if (!output) return null;
    let parentUrl: string | null = null;
    if (item.parentId) {
      try {
        const parent = await unwrap(atelier().history.get({ id: item.parentId }));
        parentUrl = parent.images.find((i) => i.role === 'output')?.url ?? null;
      } catch {
        parentUrl = null; // the parent was deleted: no compare, nothing else lost
      }
    }
    return {
      generationId: item.id, url: output.url, width: output.width ?? 0, height: output.height ?? 0,
      label: item.prompt, parentId: item.parentId, parentUrl,
    };
  }, []);

  const openItem = useCallback(async (item: HistoryItem) => {
    const image = await imageFromItem(item);
    if (!image) return setError(`History item "${item.prompt}" has no image to open.`);
    canvasActions.setCurrent(doc.history, image);
    setCompare(null);
  }, [doc.history, imageFromItem]);

  const reuse = useCallback((item: HistoryItem) => {
    const patch = patchFromHistoryItem(item);
    const model = usable.find((m) => m.name === item.modelName);
    setDraft((d) => ({ ...d, ...patch, ...(model ? { model: model.id } : {}) }));
    setNotice({ text: `Parameters of "${item.prompt}" are in the prompt panel.` });
  }, [usable]);

  const openFile = useCallback(async (file: File) => {
    if (!file.type.startsWith('image/')) {
      setError(`${file.name || 'That file'} is not an image (${file.type || 'unknown type'}); drop a PNG, JPEG or WebP.`);
      return;
    }
    try {
      const { png, width, height } = await fileToPng(file);
      canvasActions.setCurrent(doc.history, { generationId: null, url: png, width, height, label: file.name, parentId: null, parentUrl: null }, 'open file');
      setCompare(null);
      if (file.type !== 'image/png') return setNotice({ text: `${file.name} opened (${width}×${height}). Only PNG files carry parameters.` });
      const read = await unwrap(atelier().images.readParameters({ png }));
      const patch = patchFromImageParameters(read, availableLoras.loras);
      const { missing } = lorasFromImage(read, availableLoras.loras);
      const notInstalled = missing.length ? ` · not installed: ${missing.join(', ')}` : '';
      setNotice(
        patch
          ? { text: `${file.name}: ${read.atelier ? 'Atelier' : 'A1111'} parameters found — "${patch.prompt ?? ''}" ${describePatch(patch)}${notInstalled}`, patch }
          : { text: `${file.name} opened (${width}×${height}); it carries no generation parameters.` },
      );
    } catch (e) {
      setError(`Could not open ${file.name}: ${describeError(e)}`);
    }
  }, [doc.history, availableLoras.loras]);

  // The desktop File ▸ Open Image.
  useEffect(
    () =>
      atelier().events.on((raw) => {
        // Job events (many a second) are useJobs' business: skip them before any parsing.
        if ((raw as { name?: unknown } | null)?.name !== 'app.imageOpened') return;
        const event = AtelierEvent.safeParse(raw);
        if (!event.success || event.data.name !== 'app.imageOpened') return;
        const { name, png } = event.data.data;
        void openFile(dataUrlToFile(png, name));
      }),
    [openFile],
  );

  // ---- jobs --------------------------------------------------------------------------------
  const placeJobResult = useCallback((started: CanvasJob, job: JobView) => {
    const ids = (job.result as { generationIds?: unknown } | undefined)?.generationIds;
    const id = Array.isArray(ids) && typeof ids[0] === 'string' ? ids[0] : null;
    if (!id) return setError(`${modeLabel[started.mode]} finished but returned no image.`);
    unwrap(atelier().history.get({ id })).then(async (item) => {
      const image = await imageFromItem(item);
      if (!image) return;
      // Compare needs the same size: an outpaint's source is smaller, so it is not offered there.
      const src = started.source;
      const sameSize = !!src && src.width === image.width && src.height === image.height;
      canvasActions.placeResult(doc.history, { ...image, parentUrl: sameSize ? src.url : src ? null : image.parentUrl }, started.shift);
      setDraft((d) => (d.seedLocked ? d : { ...d, seed: item.seed }));
      // The engine's words about what it changed in the request.
      const said = job.result as { warnings?: unknown; notices?: unknown };
      const lines = [said.warnings, said.notices].flatMap((l) => (Array.isArray(l) ? l.filter((x): x is string => typeof x === 'string') : []));
      if (lines.length > 0) setNotice({ text: `${modeLabel[started.mode]}: ${lines.join(' · ')}` });
      setHistoryKey((k) => k + 1);
    }, (e: unknown) => setError(`The result could not be loaded: ${describeError(e)}`));
  }, [doc.history, imageFromItem]);

  // A fast job can finish before the answer to jobs.submit arrives (events and calls travel apart):
  // results of jobs not known yet wait here for submit to claim them.
  const unclaimedResults = useRef(new Map<string, JobView>());
  useEffect(
    () =>
      jobs.onResult((job) => {
        const started = canvasJobs.current.get(job.jobId);
        if (!started) {
          unclaimedResults.current.set(job.jobId, job);
          if (unclaimedResults.current.size > 100) unclaimedResults.current.delete(unclaimedResults.current.keys().next().value as string);
          return;
        }
        canvasJobs.current.delete(job.jobId);
        placeJobResult(started, job);
      }),
    [jobs, placeJobResult],
  );
  // Bumped when a job is registered, so a failure that came first is still reported.
  const [registrations, setRegistrations] = useState(0);

  // A failed canvas job is said once, in words.
  useEffect(() => {
    for (const job of jobs.jobs) {
      const started = canvasJobs.current.get(job.jobId);
      if (!started || reportedFailures.current.has(job.jobId)) continue;
      if (job.state === 'failed') {
        reportedFailures.current.add(job.jobId);
        canvasJobs.current.delete(job.jobId);
        setError(`${modeLabel[started.mode]} failed: ${job.message ?? 'no reason given'}`);
      } else if (job.state === 'cancelled') {
        canvasJobs.current.delete(job.jobId);
      }
    }
  }, [jobs.jobs, registrations]);

  const activeJob: JobView | undefined = jobs.jobs.find((j) => canvasJobs.current.has(j.jobId) && (j.state === 'running' || j.state === 'queued'));

  const submit = useCallback(async () => {
    const d = draft;
    if (d.prompt.trim() === '') return setError('Write a prompt first.');
    const base = {
      prompt: d.prompt,
      ...(d.negativePrompt.trim() ? { negativePrompt: d.negativePrompt } : {}),
      seed: d.seedLocked ? d.seed : null,
      steps: d.steps,
      cfg: d.cfg,
      ...(chosenModel ? { model: chosenModel.id } : {}),
      ...(d.loras.length > 0 ? { loras: loraChoicesOf(d.loras) } : {}),
    };
    let submission: JobSubmission;
    if (d.mode === 'generate') submission = { kind: 'image.generate', params: base };
    else {
      if (!current) return setError(`${modeLabel[d.mode]} starts from the current image: open or generate one first.`);
      const source = current.generationId ? { generationId: current.generationId } : { png: current.url };
      const strength = d.strength < 1 ? { strength: d.strength } : {};
      if (d.mode === 'edit') submission = { kind: 'image.edit', params: { ...base, source, ...strength, keepUnchanged: d.keepUnchanged } };
      else if (d.mode === 'inpaint') {
        const mask = rasterise(strokes, current.width, current.height);
        if (maskedCount(mask) === 0) return setError('Paint the area to repaint on the canvas first (brush: B).');
        submission = { kind: 'image.inpaint', params: { ...base, source, mask: maskToPngDataUrl(mask, current.width, current.height), ...strength } };
      } else {
        if (outpaint.left + outpaint.top + outpaint.right + outpaint.bottom === 0) return setError('Give the outpaint box at least one margin.');
        submission = { kind: 'image.outpaint', params: { ...base, source, ...outpaint } };
      }
    }
    setSubmitting(true);
    setError(null);
    try {
      const jobId = await jobs.submit(submission);
      const started: CanvasJob = {
        mode: d.mode,
        source: d.mode === 'generate' ? null : current,
        shift: d.mode === 'outpaint' ? { dx: outpaint.left, dy: outpaint.top } : { dx: 0, dy: 0 },
      };
      const early = unclaimedResults.current.get(jobId);
      if (early) {
        unclaimedResults.current.delete(jobId);
        placeJobResult(started, early);
      } else {
        canvasJobs.current.set(jobId, started);
        setRegistrations((n) => n + 1);
      }
      if (d.seedLocked && settings.settings?.seedMode === 'increment') setDraft((x) => ({ ...x, seed: (x.seed + 1) % (MAX_SEED + 1) }));
    } catch (e) {
      setError(`${modeLabel[d.mode]} could not start: ${describeError(e)}`);
    } finally {
      setSubmitting(false);
    }
  }, [draft, chosenModel, current, strokes, outpaint, jobs, settings.settings, placeJobResult]);

  // ---- mask commands -----------------------------------------------------------------------
  const addStroke = useCallback((stroke: Stroke) => canvasActions.addStroke(doc.history, stroke), [doc.history]);
  const invert = useCallback(() => {
    if (!current) return;
    const inverted = invertMask(rasterise(strokes, current.width, current.height));
    canvasActions.replaceStrokes(doc.history, imageStroke(inverted, current.width, current.height), 'invert mask');
  }, [current, strokes, doc.history]);
  const loadMask = useCallback(async (file: File) => {
    if (!current) return setError('Open an image before loading a mask for it.');
    try {
      const alpha = await maskFromFile(file, current.width, current.height);
      canvasActions.replaceStrokes(doc.history, imageStroke(alpha, current.width, current.height), 'load mask');
    } catch (e) {
      setError(`Could not load the mask: ${describeError(e)}`);
    }
  }, [current, doc.history]);
  const chooseResult = useCallback((r: ResultRecord) => canvasActions.setCurrent(doc.history, r.image, 'continue from result'), [doc.history]);

  // ---- keyboard ----------------------------------------------------------------------------
  const keyActions = useRef<Record<string, () => void>>({});
  keyActions.current = {
    generate: () => void submit(),
    undo: () => doc.history.undo(),
    redo: () => doc.history.redo(),
    brush: () => setTool('brush'),
    eraser: () => setTool('eraser'),
    smaller: () => setBrushSize((s) => Math.max(1, Math.round(s / 1.25))),
    larger: () => setBrushSize((s) => Math.min(256, Math.max(s + 1, Math.round(s * 1.25)))),
    zoomIn: () => commands.current?.zoomBy(1.25),
    zoomOut: () => commands.current?.zoomBy(1 / 1.25),
    fit: () => commands.current?.fit(),
    invert,
    toggleMask: () => setMaskVisible((v) => !v),
    compare: () => current?.parentUrl && setCompare((c) => (c === null ? 0.5 : null)),
    help: () => setHelp((h) => !h),
    close: () => setHelp(false),
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = !!t && (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || (t.tagName === 'INPUT' && !['range', 'checkbox', 'radio', 'button'].includes((t as HTMLInputElement).type)));
      // Enter in the prompt is the prompt panel's own (Shift+Enter stays a new line).
      const action = shortcutFor({ key: e.key, ctrl: e.ctrlKey || e.metaKey, shift: e.shiftKey, alt: e.altKey, typing });
      if (!action) return;
      e.preventDefault();
      keyActions.current[action]?.();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Stable callbacks for the memoised panels (job events re-render the studio many times a second).
  const submitRef = useRef(submit);
  submitRef.current = submit;
  const submitLatest = useCallback(() => void submitRef.current(), []);
  const saveSettings = settings.save;
  const setExecutionProvider = useCallback((ep: ExecutionProvider) => void saveSettings({ executionProvider: ep }), [saveSettings]);
  const currentIdRef = useRef<string | null>(null);
  currentIdRef.current = current?.generationId ?? null;
  const onDeleted = useCallback((item: HistoryItem) => {
    if (item.id === currentIdRef.current) setNotice({ text: `"${item.prompt}" was deleted from history; it stays on the canvas until you open another image, but edits now need it reopened from a file.` });
  }, []);

  // ---- drag and drop -----------------------------------------------------------------------
  const [dragging, setDragging] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file) void openFile(file);
  };

  const canCompare = !!current?.parentUrl;
  useEffect(() => {
    if (!canCompare) setCompare(null);
  }, [canCompare]);

  return (
    <div
      className={dragging ? 'studio dragging' : 'studio'}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      {loraOpen && <LoraWizard onClose={() => { setLoraOpen(false); availableLoras.refresh(); }} />}
      <header className="topbar">
        <h1>Atelier</h1>
        <span className="muted model-name">
          {usable.length > 0 ? `${usable.length} model${usable.length === 1 ? '' : 's'} installed` : 'No model bundle installed'}
        </span>
        <nav className="tabs" aria-label="Side panel">
          <button type="button" className={side === 'jobs' ? 'tab active' : 'tab'} onClick={() => setSide('jobs')}>Jobs</button>
          <button type="button" className={side === 'settings' ? 'tab active' : 'tab'} onClick={() => setSide('settings')}>Settings</button>
          <button type="button" className="tab" onClick={() => setLoraOpen(true)}>Train a LoRA</button>
        </nav>
      </header>
      {error && (
        <div className="error banner" role="alert" data-testid="error-banner">
          <span>{error}</span>
          <button type="button" className="link" onClick={() => setError(null)} aria-label="dismiss error">✕</button>
        </div>
      )}
      {notice && (
        <div className="notice banner" role="status" data-testid="notice">
          <span>{notice.text}</span>
          {notice.patch && (
            <button type="button" onClick={() => { const patch = notice.patch!; setDraft((d) => ({ ...d, ...patch })); setNotice(null); }}>
              Reuse parameters
            </button>
          )}
          <button type="button" className="link" onClick={() => setNotice(null)} aria-label="dismiss notice">✕</button>
        </div>
      )}
      <main className="layout">
        <aside className="left">
          <PromptPanel
            draft={draft}
            onChange={changeDraft}
            onSubmit={submitLatest}
            models={models}
            chosenModel={chosenModel}
            executionProvider={settings.settings?.executionProvider ?? null}
            onExecutionProvider={setExecutionProvider}
            hasImage={current !== null}
            maskedPixels={masked}
            outpaint={outpaint}
            onOutpaint={setOutpaint}
            busy={submitting}
            error={null}
            loras={availableLoras}
          />
        </aside>
        <section className="stage" aria-label="Canvas">
          <CanvasToolbar
            tool={tool} onTool={setTool}
            brushSize={brushSize} onBrushSize={setBrushSize}
            hardness={hardness} onHardness={setHardness}
            maskVisible={maskVisible} onMaskVisible={setMaskVisible}
            resultsVisible={resultsVisible} onResultsVisible={setResultsVisible}
            hasImage={current !== null} hasMask={strokes.length > 0}
            onInvert={invert} onClearMask={() => canvasActions.clearMask(doc.history)} onLoadMask={(f) => void loadMask(f)}
            canUndo={doc.history.canUndo} canRedo={doc.history.canRedo} undoLabel={doc.history.undoLabel}
            onUndo={() => doc.history.undo()} onRedo={() => doc.history.redo()}
            onZoom={(f) => commands.current?.zoomBy(f)} onFit={() => commands.current?.fit()}
            canCompare={canCompare} compare={compare} onCompare={setCompare}
            onHelp={() => setHelp(true)}
          />
          <CanvasView
            current={current}
            strokes={strokes}
            results={results}
            tool={tool}
            brushSize={brushSize}
            hardness={hardness}
            maskVisible={maskVisible}
            maskOpacity={0.6}
            preview={activeJob?.preview ?? null}
            emptySize={maskSize}
            compare={canCompare ? compare : null}
            outpaint={draft.mode === 'outpaint' ? outpaint : null}
            onOutpaint={setOutpaint}
            resultsVisible={resultsVisible}
            onStroke={addStroke}
            onChooseResult={chooseResult}
            commandsRef={commands}
          />
          <div className="canvas-status muted" data-testid="canvas-status">
            {activeJob ? (
              <span className="active-job" data-testid="active-job" data-state={activeJob.state}>
                {activeJob.state === 'queued' ? 'waiting in the queue…' : `${activeJob.stage || 'starting'} ${activeJob.total ? `${activeJob.done} / ${activeJob.total}` : ''}`}
                <button type="button" onClick={() => jobs.cancel(activeJob.jobId).catch((e: unknown) => setError(`Could not cancel: ${describeError(e)}`))}>
                  Cancel job
                </button>
              </span>
            ) : current ? (
              <span>{current.label} · {current.width}×{current.height}{current.generationId ? '' : ' · from a file'} · mask {masked} px</span>
            ) : (
              <span>Write a prompt and press Enter, or drop an image here.</span>
            )}
          </div>
        </section>
        <aside className="right">
          {side === 'jobs' ? <JobsPanel jobs={jobs} /> : <SettingsPanel state={settings} jobs={jobs} />}
          <BatchPanel />
          <HistoryGallery
            onJobResult={jobs.onResult}
            models={models}
            loras={availableLoras.loras}
            refreshKey={historyKey}
            currentId={current?.generationId ?? null}
            onOpen={openItem}
            onReuse={reuse}
            onDeleted={onDeleted}
          />
        </aside>
      </main>
      <footer className="statusbar muted">
        {info ? `Atelier ${info.version} · data in ${info.dataDir}` : 'connecting…'}
        <span className="spacer" />
        <button type="button" className="link" onClick={() => setHelp(true)}>Shortcuts (?)</button>
      </footer>
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
      {dragging && <div className="drop-hint">Drop an image to open it</div>}
    </div>
  );
}
