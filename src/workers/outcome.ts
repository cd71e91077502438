// Results crossing the worker boundary: errors travel as data so their code and message survive.
import { LabError, type LabErrorCode } from '../gpu/errors.ts';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: { code: LabErrorCode | 'internal'; message: string } };

export type Progress = (done: number, total: number, label: string) => void;

export function toFailure(e: unknown): { ok: false; error: { code: LabErrorCode | 'internal'; message: string } } {
  if (e instanceof LabError) return { ok: false, error: { code: e.code, message: e.message } };
  return { ok: false, error: { code: 'internal', message: String((e as Error)?.message ?? e) } };
}
