import { useEffect, useState } from 'preact/hooks';
import type { ChatStore } from './store';

/** Small pieces shared by the views. */

/** Re-renders the component whenever the store emits. */
export function useStore(store: ChatStore): void {
  const [, setV] = useState(0);
  useEffect(() => store.listen(() => setV((v) => v + 1)), [store]);
}

export const SHOW_LABEL: Record<string, string> = {
  available: 'online',
  chat: 'online',
  away: 'away',
  xa: 'away',
  dnd: 'busy',
  offline: 'offline',
};

export const time = (ts: string): string => {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
};

export function Presence({ show }: { show: string }) {
  const label = SHOW_LABEL[show] ?? show;
  return <span class={`dot dot-${label}`} role="img" aria-label={label} title={label} />;
}
