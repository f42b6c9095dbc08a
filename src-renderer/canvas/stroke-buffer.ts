// The stroke being drawn. It lives here, outside React and outside the document, and grows on every
// pointer move; the canvas draws it straight onto a Konva line. Only pointer-up turns it into a
// stroke record (one history entry), so a long drag costs no React renders and no undo entries.
import type { LineStroke } from './strokes';

export class StrokeBuffer {
  private current: LineStroke | null = null;

  get active(): boolean {
    return this.current !== null;
  }

  get points(): number[] {
    return this.current?.points ?? [];
  }

  begin(type: LineStroke['type'], x: number, y: number, size: number, hardness: number): void {
    this.current = { type, points: [x, y], size, hardness };
  }

  /** Adds a point unless it is within a tenth of a pixel of the last one. */
  extend(x: number, y: number): boolean {
    const c = this.current;
    if (!c) return false;
    const lx = c.points[c.points.length - 2]!;
    const ly = c.points[c.points.length - 1]!;
    if (Math.abs(lx - x) < 0.1 && Math.abs(ly - y) < 0.1) return false;
    c.points.push(x, y);
    return true;
  }

  /** Ends the stroke and hands it over (rounded to 1/100 px to keep the data small). */
  end(): LineStroke | null {
    const c = this.current;
    this.current = null;
    if (!c) return null;
    return { ...c, points: c.points.map((v) => Math.round(v * 100) / 100) };
  }

  cancel(): void {
    this.current = null;
  }
}
