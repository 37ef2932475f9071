import type { ErrorCode } from './types';

/** The core's codes, plus the two the webview side adds: `error` (Tauri itself failed, e.g.
 * a denied permission) and `no_backend` (the page runs in a plain browser). */
export type CommandErrorCode = ErrorCode | 'error' | 'no_backend';

const CORE_CODES: readonly string[] = [
  'invalid',
  'not_found',
  'bad_file',
  'bad_box',
  'api_key',
  'storage',
  'io',
] satisfies readonly ErrorCode[];

function asCode(code: unknown): CommandErrorCode {
  return typeof code === 'string' && CORE_CODES.includes(code) ? (code as ErrorCode) : 'error';
}

const GENERIC = 'Something went wrong. Please try again.';

/** What every wrapper in src/api rejects with: `{code, message}`, and also an Error. */
export class CommandError extends Error {
  readonly code: CommandErrorCode;
  constructor(code: CommandErrorCode, message: string) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Turns anything a command may reject with into a `CommandError` (`{code, message}`). */
export function toApiError(err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  if (isRecord(err)) {
    const code = asCode(err.code);
    const message =
      typeof err.message === 'string' && err.message.trim() !== '' ? err.message : GENERIC;
    return new CommandError(code, message);
  }
  if (typeof err === 'string' && err.trim() !== '') {
    // Tauri reports some failures (unknown command, denied permission) as plain strings.
    return new CommandError('error', err);
  }
  return new CommandError('error', GENERIC);
}

/** The teacher-readable sentence for an error: never raw JSON. */
export function errorMessage(err: unknown): string {
  return toApiError(err).message;
}

export function noBackendError(): CommandError {
  return new CommandError(
    'no_backend',
    'The GradeDesk core is not running: this page was opened in a plain browser. Start the desktop app to see your exams.',
  );
}
