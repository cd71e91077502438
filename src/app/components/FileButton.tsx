import { useRef } from 'react';

/** A button that opens the file picker (a hidden input labelled `label`); the chosen file goes to onFile, and the input is cleared so the same file can be chosen again. */
export function FileButton({ text, label, accept, disabled, onFile }: { text: string; label: string; accept: string; disabled?: boolean; onFile: (file: File) => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button className="quiet" disabled={disabled} onClick={() => input.current?.click()}>
        {text}
      </button>
      <input
        ref={input}
        type="file"
        accept={accept}
        aria-label={label}
        hidden
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onFile(file);
          e.target.value = '';
        }}
      />
    </>
  );
}
