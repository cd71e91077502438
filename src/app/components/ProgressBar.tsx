interface Props {
  label: string;
  progress?: { done: number; total: number; label: string };
}

export function ProgressBar({ label, progress }: Props) {
  const value = progress ? progress.done / Math.max(progress.total, 1) : undefined;
  return (
    <div className="progress" role="status">
      <span>
        {label}
        {progress ? ` (${progress.done}/${progress.total}): ${progress.label}` : '…'}
      </span>
      <progress max={1} value={value} />
    </div>
  );
}
