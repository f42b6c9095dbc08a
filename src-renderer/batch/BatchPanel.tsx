// The batch panel: drop a prompt list (txt, csv, tsv, jsonl) to queue one image per row, follow the
// batches' progress, cancel, resume an interrupted one, and export a batch to a folder (PNG, JPEG
// or WebP with the parameters inside, a manifest beside them, optionally one zip). Rows that cannot
// run are listed with their line and reason; the others go on.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ChangeEvent, DragEvent } from 'react';
import type { BatchSummary, ExportFormat } from '../../src-shared/contract';
import { atelier, describeError, unwrap } from '../api/client';
import type { ExportChoice } from '../components/ExportForm';
import { DEFAULT_EXPORT, EXPORT_FORMATS, ExportForm } from '../components/ExportForm';
import { exportSummary } from '../studio/selection';
import './batch.css';

const LIST_EXTENSIONS = /\.(txt|csv|tsv|jsonl|ndjson)$/i;

interface Report {
  source: string;
  issues: { line: number; errors: string[] }[];
  warnings: string[];
}

function BatchRow({ batch, onChange }: { batch: BatchSummary; onChange: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [choice, setChoice] = useState<ExportChoice>(DEFAULT_EXPORT);
  const [exporting, setExporting] = useState(false);
  const [exported, setExported] = useState<string | null>(null);
  const act = (work: Promise<unknown>) => {
    setError(null);
    work.then(onChange, (e: unknown) => setError(describeError(e)));
  };
  const finished = batch.done + batch.failed;
  return (
    <li className={`batch batch-${batch.state}`} data-testid="batch" data-batch-id={batch.id} data-state={batch.state}>
      <div className="batch-head">
        <span className="batch-source" title={batch.source}>{batch.source}</span>
        <span className={`badge badge-${batch.state}`} data-testid="batch-state">{batch.state}</span>
      </div>
      <progress max={batch.total || 1} value={finished} aria-label="batch progress" />
      <div className="batch-meta muted" data-testid="batch-progress">
        {batch.done} / {batch.total} done{batch.failed ? ` · ${batch.failed} failed` : ''}
        {batch.outDir ? ` · ${batch.format} files in ${batch.outDir}` : ''}
      </div>
      {batch.error && <p className="error">{batch.error}</p>}
      <div className="batch-actions">
        {batch.jobId && <button type="button" onClick={() => act(unwrap(atelier().batch.cancel({ id: batch.id })))}>Cancel</button>}
        {batch.resumable && <button type="button" onClick={() => act(unwrap(atelier().batch.resume({ id: batch.id })))}>Resume</button>}
      </div>
      {batch.done > 0 && (
        <ExportForm
          className="batch-export"
          value={choice}
          onChange={setChoice}
          busy={exporting}
          onExport={({ outDir, format, zip }) => {
            setExported(null);
            setExporting(true);
            act(
              unwrap(atelier().batch.export({ batchId: batch.id, outDir, format, zip }))
                .then((r) => setExported(exportSummary(r)))
                .finally(() => setExporting(false)),
            );
          }}
        />
      )}
      {exported && <p className="muted" data-testid="batch-exported">{exported}</p>}
      {error && <p className="error" data-testid="batch-error">{error}</p>}
    </li>
  );
}

export function BatchPanel() {
  const [batches, setBatches] = useState<BatchSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [over, setOver] = useState(false);
  const [outDir, setOutDir] = useState('');
  const [format, setFormat] = useState<ExportFormat>('png');
  const fileInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback(() => {
    unwrap(atelier().batch.list()).then(({ batches: list }) => setBatches(list), (e: unknown) => setError(`Could not list batches: ${describeError(e)}`));
  }, []);

  // Poll while something runs (progress), slowly otherwise (batches started from the CLI show up too).
  const running = batches.some((b) => b.state === 'running' || b.jobId !== null);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, running ? 700 : 5000);
    return () => clearInterval(timer);
  }, [refresh, running]);

  const start = async (file: File) => {
    setError(null);
    setReport(null);
    if (!LIST_EXTENSIONS.test(file.name)) {
      setError(`${file.name} is not a prompt list: drop a .txt, .csv, .tsv or .jsonl file`);
      return;
    }
    try {
      const text = await file.text();
      const created = await unwrap(atelier().batch.create({ fileName: file.name, text, ...(outDir.trim() ? { outDir: outDir.trim(), format } : {}) }));
      setReport({ source: file.name, issues: created.issues, warnings: created.warnings });
      refresh();
    } catch (e) {
      setError(describeError(e));
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    e.stopPropagation(); // the canvas takes dropped images; prompt lists stop here
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file) void start(file);
  };

  return (
    <section className="panel batch-panel" aria-label="Batches">
      <h2>Batches</h2>
      <div
        className={over ? 'batch-drop over' : 'batch-drop'}
        data-testid="batch-drop"
        onDragOver={(e) => {
          e.preventDefault();
          e.stopPropagation();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        onClick={() => fileInput.current?.click()}
      >
        Drop a prompt list here (.txt one per line, .csv / .jsonl with seed, steps, cfg…) or click to choose
        <input
          ref={fileInput}
          type="file"
          accept=".txt,.csv,.tsv,.jsonl,.ndjson"
          hidden
          data-testid="batch-file"
          onChange={(e: ChangeEvent<HTMLInputElement>) => {
            const file = e.target.files?.[0];
            if (file) void start(file);
            e.target.value = '';
          }}
        />
      </div>
      <div className="batch-options">
        <input aria-label="also write files to" placeholder="also write files to /absolute/folder (optional)" value={outDir} onChange={(e) => setOutDir(e.target.value)} />
        <select aria-label="file format" value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)}>
          {EXPORT_FORMATS.map((f) => <option key={f} value={f}>{f}</option>)}
        </select>
      </div>
      {error && <p className="error" data-testid="batch-panel-error">{error}</p>}
      {report && (report.issues.length > 0 || report.warnings.length > 0) && (
        <div className="batch-report" data-testid="batch-report">
          {report.warnings.map((w) => <p key={w} className="muted">{w}</p>)}
          {report.issues.length > 0 && <p>{report.issues.length} row{report.issues.length === 1 ? '' : 's'} of {report.source} cannot run (the others do):</p>}
          <ul>
            {report.issues.slice(0, 50).map((i) => <li key={i.line}>line {i.line}: {i.errors.join('; ')}</li>)}
          </ul>
        </div>
      )}
      {batches.length === 0 ? <p className="muted">No batches yet.</p> : (
        <ul className="batch-list">
          {batches.map((b) => <BatchRow key={b.id} batch={b} onChange={refresh} />)}
        </ul>
      )}
    </section>
  );
}
