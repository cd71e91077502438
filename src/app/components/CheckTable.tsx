import type { CheckResult } from '../../kernels/check.ts';

/** "N passed, M failed" and a row per check (the seed or error on hover). */
export function CheckTable({ rows, testId }: { rows: CheckResult[]; testId: string }) {
  const failed = rows.filter((c) => !c.passed).length;
  return (
    <>
      <p data-testid={`${testId}-summary`} className={failed ? 'bad' : 'good'}>
        {rows.length - failed} passed, {failed} failed
      </p>
      <table data-testid={testId}>
        <thead>
          <tr>
            <th>Family</th>
            <th>Check</th>
            <th>Result</th>
            <th>Max rel. error</th>
            <th>Bound</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={`${c.family}/${c.name}`} title={c.error ?? `seed ${c.seed}`}>
              <td>{c.family}</td>
              <td>{c.name}</td>
              <td className={c.passed ? 'good' : 'bad'}>{c.passed ? 'pass' : 'FAIL'}</td>
              <td className="num">{Number.isFinite(c.maxRelError) ? c.maxRelError.toExponential(2) : c.error ?? '∞'}</td>
              <td className="num">{c.tolerance.toExponential(0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
