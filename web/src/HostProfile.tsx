import { useEffect, useState } from 'preact/hooks';
import { localpart } from './api';
import type { HostProfiles, HostUser } from './hostSite';
import './hostSite.css';

/**
 * What the host site says about the dialogue's peer (name, avatar, city, age), with a refresh button.
 * Nothing at all when the gateway has no host site configured or the site does not know the user.
 */
export function HostProfile({ profiles, peer }: { profiles: HostProfiles; peer: string }) {
  const id = localpart(peer);
  const [user, setUser] = useState<HostUser | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    setUser(null);
    void profiles.get(id).then((u) => {
      if (live) setUser(u);
    });
    return () => {
      live = false;
    };
  }, [id]);
  if (!user) return null;
  const facts = [user.city, user.age !== null ? `${user.age}` : null].filter(Boolean).join(', ');
  const refresh = () => {
    setBusy(true);
    profiles.refresh(id).then(
      (u) => {
        setUser(u);
        setBusy(false);
      },
      () => setBusy(false),
    );
  };
  return (
    <div class="host-profile" aria-label={`Profile of ${user.name ?? id}`}>
      {user.avatarUrl && (
        <img
          class="host-avatar"
          src={user.avatarUrl}
          alt=""
          referrerpolicy="no-referrer"
          onError={(e) => (e.currentTarget.hidden = true)}
        />
      )}
      <span class="host-name" dir="auto">
        {user.name ?? id}
      </span>
      {facts && (
        <span class="host-facts" dir="auto">
          {facts}
        </span>
      )}
      <button type="button" class="link" disabled={busy} onClick={refresh}>
        Refresh profile
      </button>
    </div>
  );
}
