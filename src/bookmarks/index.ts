import type { Feature, GatewayContext } from '../feature.js';
import { BookmarkService } from './BookmarkService.js';
import { bookmarkRoutes } from './routes.js';

export type { Bookmark } from './formats.js';

/**
 * Room bookmarks over REST (XEP-0402, with XEP-0048 as the fallback), kept on the XMPP server so the
 * user's native clients share them. See docs/api/rooms.md#bookmarks.
 */
export function createBookmarksFeature(ctx: Pick<GatewayContext, 'config' | 'hub'>): Feature {
  const bookmarks = new BookmarkService({ hub: ctx.hub, storage: ctx.config.bookmarks.storage });
  const naming = { domain: ctx.config.xmpp.domain, mucService: ctx.config.xmpp.mucService };
  return {
    name: 'bookmarks',
    routes: (router, access) => bookmarkRoutes(router, access, { bookmarks, naming }),
  };
}
