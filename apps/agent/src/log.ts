/** One-line log records on stderr; never pass key material here. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  (level: LogLevel, message: string): void;
}

export function stderrLogger(minLevel: LogLevel = 'info'): Logger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  return (level, message) => {
    if (order.indexOf(level) >= order.indexOf(minLevel)) process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
  };
}
