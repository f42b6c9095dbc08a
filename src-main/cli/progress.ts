// A progress bar on stderr: AR tokens, then DiT steps, then decode. On a terminal it redraws one
// line; otherwise (logs, CI) it prints one line per stage so output stays readable.
import type { ProgressEvent } from '../engine';

const LABELS: Record<ProgressEvent['stage'], string> = {
  encode: 'encode image',
  ar: 'image tokens',
  dit: 'diffusion   ',
  decode: 'decode      ',
};

export class ProgressBar {
  private stage: string | null = null;
  private readonly tty: boolean;
  private readonly started = performance.now();

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly width = 28,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  update(p: ProgressEvent): void {
    const label = LABELS[p.stage];
    if (!this.tty) {
      if (p.stage !== this.stage) this.out.write(`${label.trim()}…\n`);
      this.stage = p.stage;
      return;
    }
    if (this.stage && p.stage !== this.stage) this.out.write('\n');
    this.stage = p.stage;
    const frac = p.total > 0 ? p.done / p.total : 0;
    const filled = Math.round(frac * this.width);
    const bar = '█'.repeat(filled) + '░'.repeat(this.width - filled);
    const secs = ((performance.now() - this.started) / 1000).toFixed(1);
    this.out.write(`\r${label} ${bar} ${String(p.done).padStart(4)}/${p.total}  ${secs}s`);
  }

  done(): void {
    if (this.tty && this.stage) this.out.write('\n');
    this.stage = null;
  }
}
