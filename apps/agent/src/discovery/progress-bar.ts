// A one-line progress display on a TTY. The number of files is not known in advance, so the bar is
// a moving marker with running counts; redraws are throttled so drawing never slows the scan.
import type { WriteStream } from 'node:tty';
import { ScanProgress } from './scan-types';

export class ProgressBar {
  private lastDraw = 0;
  private tick = 0;
  constructor(private readonly stream: WriteStream, private readonly intervalMs = 100) {}

  update(progress: ScanProgress): void {
    const now = Date.now();
    if (now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    const width = 20;
    const pos = this.tick++ % (2 * width - 2);
    const at = pos < width ? pos : 2 * width - 2 - pos;
    const bar = ' '.repeat(at) + '=' + ' '.repeat(width - at - 1);
    const text = `[${bar}] ${progress.filesSeen} files, ${progress.certificates} certificates, ${progress.problems} problems  ${progress.currentPath}`;
    const columns = this.stream.columns || 80;
    this.stream.write(`\r${text.slice(0, columns - 1).padEnd(columns - 1)}`);
  }

  clear(): void {
    this.stream.write(`\r${' '.repeat((this.stream.columns || 80) - 1)}\r`);
  }
}
