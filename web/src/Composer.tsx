import { useEffect, useRef, useState } from 'preact/hooks';
import { formatSize } from './attachments';
import type { ChatStore } from './store';

interface ComposerProps {
  store: ChatStore;
  /** the dialogue's or room's key (threadKey): where picked files wait */
  thread: string;
  /** sends the text (maybe empty) with the uploaded files */
  onSend: (text: string) => void;
  onTyping?: (typing: boolean) => void;
  label: string;
}

/** Text, and files: picked with the attach button, pasted or dropped; uploaded at once, sent with the message. */
export function Composer({ store, thread, onSend, onTyping, label }: ComposerProps) {
  const [text, setText] = useState('');
  const typing = useRef<{ since: number; timer?: ReturnType<typeof setTimeout> }>({ since: 0 });
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
  }, []);
  const uploads = store.uploads.list(thread);
  const uploading = store.uploads.uploading(thread);
  const stopTyping = () => {
    clearTimeout(typing.current.timer);
    if (typing.current.since) {
      typing.current.since = 0;
      onTyping?.(false);
    }
  };
  const send = () => {
    const t = text.trim();
    // A message waits for its files: sending before they are stored would drop them.
    if (uploading || (!t && !store.uploads.ready(thread))) return;
    stopTyping();
    setText('');
    onSend(t);
  };
  return (
    <div class="composer-area">
      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Files to send">
          {uploads.map((u) => (
            <li key={u.key} class={`upload upload-${u.error ? 'failed' : u.file ? 'ready' : 'busy'}`}>
              <span class="upload-name" dir="auto">
                {u.name}
              </span>
              {u.error ? (
                <span class="upload-state" role="alert">
                  Not uploaded: {u.error}
                </span>
              ) : u.file ? (
                <span class="upload-state">{formatSize(u.file.size)}</span>
              ) : (
                <span class="upload-state" role="status">
                  uploading… {Math.round(u.progress * 100)}%
                </span>
              )}
              {!u.file && !u.error && (
                <progress max={1} value={u.progress} aria-label={`Uploading ${u.name}`} />
              )}
              <button
                type="button"
                class="icon"
                aria-label={u.error ? `Dismiss the error about ${u.name}` : `Remove ${u.name}`}
                onClick={() => store.uploads.remove(thread, u.key)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            const el = e.currentTarget;
            store.uploads.add(thread, [...(el.files ?? [])]);
            el.value = '';
          }}
        />
        <button
          type="button"
          class="icon attach"
          aria-label="Attach files"
          title="Attach files"
          onClick={() => picker.current?.click()}
        >
          <Clip />
        </button>
        <textarea
          ref={input}
          rows={1}
          value={text}
          dir="auto"
          aria-label={label}
          placeholder="Write a message"
          onInput={(e) => {
            setText((e.target as HTMLTextAreaElement).value);
            if (!onTyping) return;
            const now = Date.now();
            if (now - typing.current.since > 4000) {
              typing.current.since = now;
              onTyping(true);
            }
            clearTimeout(typing.current.timer);
            typing.current.timer = setTimeout(stopTyping, 5000);
          }}
          onPaste={(e) => {
            const files = [...(e.clipboardData?.files ?? [])];
            if (files.length) {
              e.preventDefault();
              store.uploads.add(thread, files);
            }
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              send();
            }
          }}
        />
        <button
          type="submit"
          aria-label="Send"
          disabled={uploading}
          title={uploading ? 'Waiting for the upload' : undefined}
        >
          Send
        </button>
      </form>
    </div>
  );
}

/** Drop files anywhere on a dialogue: they join its composer. */
export function fileDrop(store: ChatStore, thread: string) {
  const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
  return {
    onDragOver: (e: DragEvent) => {
      if (hasFiles(e)) {
        e.preventDefault();
        e.dataTransfer!.dropEffect = 'copy';
      }
    },
    onDrop: (e: DragEvent) => {
      const files = [...(e.dataTransfer?.files ?? [])];
      if (!files.length) return;
      e.preventDefault();
      store.uploads.add(thread, files);
    },
  };
}

/** A paper clip (inline SVG: no icon font needed). */
function Clip() {
  return (
    <svg
      width="20"
      height="20"
      viewBox="0 0 24 24"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48" />
    </svg>
  );
}
