// Handing the inspect view an image: dropped onto it, or picked with a button.
// The bytes go to the host as base64; the host decides whether they are an image.
import { useRef, useState, type DragEvent } from 'react';
import { imageTooLarge, type ImageFile } from '../../../common/host-api/api.js';

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');

/** A file as the host's inspectImage takes it; a file too large is refused here, before it is read. */
export function readImageFile(file: File): Promise<ImageFile> {
  const tooLarge = imageTooLarge(file.name, file.size);
  if (tooLarge) return Promise.reject(new Error(tooLarge));
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve({ name: file.name, base64: String(reader.result).replace(/^data:[^,]*,/, '') });
    reader.onerror = () => reject(new Error(`${file.name} could not be read: ${reader.error?.message ?? 'unknown error'}`));
    reader.readAsDataURL(file);
  });
}

/** Drop handlers for an element that takes one file; `over` is true while a file is dragged over it. */
export function useFileDrop(onFile: (file: File) => void, disabled: boolean) {
  const [over, setOver] = useState(false);
  const props = {
    onDragOver: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault(); // without this the browser opens the file itself
      e.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
      setOver(!disabled);
    },
    onDragLeave: () => setOver(false),
    onDrop: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      setOver(false);
      const file = e.dataTransfer.files[0];
      if (file && !disabled) onFile(file);
    },
  };
  return { over, props };
}

export function ChooseImageButton({ onFile, disabled }: { onFile: (file: File) => void; disabled: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button
        onClick={() => input.current?.click()}
        disabled={disabled}
        title="Inspect a PNG or JPEG of your own (or drop one here)"
        data-testid="inspect-image-button"
      >
        Image…
      </button>
      <input
        ref={input}
        type="file"
        accept="image/png,image/jpeg,.png,.jpg,.jpeg"
        hidden
        data-testid="inspect-image-file"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = ''; // choosing the same file again still fires
          if (file) onFile(file);
        }}
      />
    </>
  );
}
